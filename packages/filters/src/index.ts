export { type ColumnType, DETAILS_PREFIX, FILTER_COLUMNS, type Field, resolveField } from './fields.ts';
export { compileMatcher, type Matcher } from './match.ts';
export {
  ACCESS_RECORDS,
  type AccessRecords,
  type Condition,
  type Filters,
  MAX_CONDITIONS,
  MAX_IN_VALUES,
  MAX_VALUE_LENGTH,
  type NumericOperator,
  OPERATORS,
  type Operator,
  type ParsedRequest,
  parseRequest,
} from './parse.ts';
export { parseStreamFilter, type StreamFilter } from './stream-filter.ts';
export {
  fromClickHouseTime,
  invalidParameter,
  parseIntInRange,
  parseNumber,
  parseRfc3339,
  toClickHouseTime,
  UUID_RE,
} from './values.ts';
