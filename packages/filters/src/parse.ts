import {
  DETAILS_NODE_TYPES,
  type DetailsNodeType,
  FILTER_OPERATORS,
  LIMITS,
  MAX_DETAILS_PATH_LENGTH,
} from '@audit/schema';
import { DETAILS_PREFIX, type Field, resolveField } from './fields.ts';
import {
  invalidParameter,
  parseIntInRange,
  parseNumber,
  parseRfc3339,
  toClickHouseTime,
  UUID_RE,
} from './values.ts';

export const OPERATORS = FILTER_OPERATORS;
export type Operator = (typeof OPERATORS)[number];
export type NumericOperator = 'gt' | 'gte' | 'lt' | 'lte';

/** One `field[op]=value` of a request, checked and typed. */
export type Condition =
  | { param: string; field: Field; op: 'eq' | 'ne' | 'prefix'; value: string }
  | { param: string; field: Field; op: NumericOperator; value: string | number }
  | { param: string; field: Field; op: 'in'; value: string[] }
  | { param: string; field: Field; op: 'exists'; value: boolean }
  | { param: string; field: Field; op: 'type'; value: DetailsNodeType };

/** Whether the service's own `audit.*` records are read (default: only when event_type is filtered). */
export const ACCESS_RECORDS = ['exclude', 'include', 'only'] as const;
export type AccessRecords = (typeof ACCESS_RECORDS)[number];

export interface Filters {
  conditions: Condition[];
  /** `access_records=`: unset means exclude, unless a condition names event_type. */
  accessRecords?: AccessRecords;
  /** Inclusive lower bound on `timestamp`, as a DateTime64 parameter text. */
  from?: string;
  /** Exclusive upper bound on `timestamp`. */
  to?: string;
}

/** Most values in one `[in]` list. */
export const MAX_IN_VALUES = 100;
/** Most filter parameters in one request. */
export const MAX_CONDITIONS = 50;
/** Longest value of any parameter: the longest string a stored detail can hold. */
export const MAX_VALUE_LENGTH = LIMITS.MAX_STRING_LENGTH;

/** A trailing `[op]`: the operator. Everything before it is the field, brackets included. */
const OPERATOR_SUFFIX_RE = /\[([^[\]]*)\]$/;
const OPS_BY_TYPE: Record<'string' | 'uuid' | 'uint' | 'details', ReadonlySet<Operator>> = {
  string: new Set(OPERATORS.filter((op) => op !== 'type')),
  details: new Set(OPERATORS),
  uuid: new Set(['eq', 'ne', 'in', 'prefix']),
  uint: new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in']),
};

export interface ParsedRequest {
  filters: Filters;
  /** The endpoint's own parameters (`limit`, `cursor`, `group_by`, …), each given at most once. */
  options: Map<string, string>;
  /**
   * The filter parameters in a canonical order (sorted), so a cursor can be bound to exactly
   * this filter set however the client orders its query string.
   */
  canonical: [string, string][];
}

/**
 * Turns a query string into filters plus the endpoint's own options. Every parameter is either
 * one of `optionNames`, `from`/`to`, or a filter on a known field with a known operator;
 * anything else is a 400 naming the parameter. A parameter given twice is refused rather than
 * guessed at (`field[in]=a,b` says "either").
 */
export function parseRequest(
  search: Iterable<[string, string]>,
  optionNames: readonly string[],
): ParsedRequest {
  const seen = new Set<string>();
  const options = new Map<string, string>();
  const filters: Filters = { conditions: [] };
  const canonical: [string, string][] = [];
  for (const [name, value] of search) {
    if (seen.has(name)) throw invalidParameter(name, 'given more than once');
    seen.add(name);
    if (value.length > MAX_VALUE_LENGTH) {
      throw invalidParameter(name, `value longer than ${MAX_VALUE_LENGTH} characters`);
    }
    if (optionNames.includes(name)) {
      options.set(name, value);
      continue;
    }
    canonical.push([name, value]);
    if (name === 'from' || name === 'to') {
      // An unencoded '+' of an offset arrives as a space (form encoding); take it back.
      const ms = parseRfc3339(value.replace(/ (\d{2}:\d{2})$/, '+$1'));
      if (ms === undefined)
        throw invalidParameter(name, 'must be an RFC 3339 timestamp, e.g. 2026-01-02T03:04:05Z');
      filters[name] = toClickHouseTime(ms);
      continue;
    }
    if (name === 'access_records') {
      if (!(ACCESS_RECORDS as readonly string[]).includes(value))
        throw invalidParameter(name, `must be one of ${ACCESS_RECORDS.join(', ')}`);
      filters.accessRecords = value as AccessRecords;
      continue;
    }
    if (filters.conditions.length >= MAX_CONDITIONS) {
      throw invalidParameter(name, `more than ${MAX_CONDITIONS} filters`);
    }
    filters.conditions.push(parseCondition(name, value));
  }
  canonical.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { filters, options, canonical };
}

/**
 * Splits `field[op]` into the field and the operator (`eq` without a suffix). Only a trailing
 * bracket pair is an operator, so a details key may itself contain brackets: a path that ends in
 * `]` names its operator explicitly (`details.tags[0][eq]=x`).
 */
function splitParam(param: string): { name: string; op: string } {
  const m = OPERATOR_SUFFIX_RE.exec(param);
  return m ? { name: param.slice(0, m.index), op: m[1] ?? '' } : { name: param, op: 'eq' };
}

function parseCondition(param: string, raw: string): Condition {
  const { name, op: opName } = splitParam(param);
  const field = resolveField(name);
  if (!field) {
    if (name.startsWith(DETAILS_PREFIX)) {
      throw invalidParameter(
        param,
        `no event can have this details path: paths are at most ${MAX_DETAILS_PATH_LENGTH} characters without NUL or unpaired surrogates`,
      );
    }
    throw invalidParameter(
      param,
      'unknown parameter: filter on a common field (e.g. event_type) or details.<path>',
    );
  }
  const type = field.kind === 'details' ? 'details' : field.type;
  if (!OPS_BY_TYPE[type].has(opName as Operator)) {
    const hint =
      field.kind === 'details'
        ? ' (a details key ending in "]" needs an explicit operator: details.k[0][eq]=v)'
        : '';
    throw invalidParameter(param, `operator must be one of ${[...OPS_BY_TYPE[type]].join(', ')}${hint}`);
  }
  const op = opName as Operator;
  switch (op) {
    case 'exists':
      if (raw !== 'true' && raw !== 'false') throw invalidParameter(param, 'must be true or false');
      return { param, field, op, value: raw === 'true' };
    case 'type':
      if (!(DETAILS_NODE_TYPES as readonly string[]).includes(raw)) {
        throw invalidParameter(param, `must be one of ${DETAILS_NODE_TYPES.join(', ')}`);
      }
      return { param, field, op, value: raw as DetailsNodeType };
    case 'in': {
      // `a,` lists "a" and ""; an empty parameter lists nothing, which no event can match.
      if (raw === '') throw invalidParameter(param, 'must list at least one value (field= matches "")');
      const values = raw.split(',');
      if (values.length > MAX_IN_VALUES) throw invalidParameter(param, `more than ${MAX_IN_VALUES} values`);
      for (const v of values) checkScalar(param, type, v);
      return { param, field, op, value: values };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (type === 'string') return { param, field, op, value: raw };
      if (type === 'uint') return { param, field, op, value: checkScalar(param, type, raw) as number };
      {
        const n = parseNumber(raw);
        if (n === undefined) throw invalidParameter(param, 'must be a number for a numeric comparison');
        return { param, field, op, value: n };
      }
    default:
      checkScalar(param, type, raw, op === 'prefix');
      return { param, field, op, value: raw };
  }
}

/** Checks one value against a typed column, so ClickHouse never sees a value it cannot parse. */
function checkScalar(param: string, type: string, v: string, prefix = false): string | number {
  if (type === 'uuid' && !prefix && !UUID_RE.test(v)) throw invalidParameter(param, 'must be a UUID');
  if (type === 'uint') {
    const n = parseIntInRange(v, 0, 65535);
    if (n === undefined) throw invalidParameter(param, 'must be an integer from 0 to 65535');
    return n;
  }
  return v;
}
