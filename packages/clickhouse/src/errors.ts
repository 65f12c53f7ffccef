/**
 * What kind of failure a ClickHouse call ended in, for every caller (the sink's inserts, the id
 * lookup, the query API's reads). Callers decide what to do with the kind; the knowledge of
 * ClickHouse's error codes lives only here.
 *
 * - `data`: the rows themselves are refused (parse/type/constraint errors, too many partitions in
 *   one INSERT block): sending the same rows again can never succeed. The sink bisects and
 *   dead-letters them; for a read it means a bad parameter, i.e. our bug.
 * - `query`: our SQL is wrong (syntax, unknown identifier/function, bad parameter). For a read
 *   this is a bug; the sink retries, since an operator fixes a schema without losing data.
 * - `timeout`: the query ran out of time (server limit or our own abort).
 * - `unavailable`: everything else — server down, network, 5xx, overloaded, TOO_MANY_PARTS because
 *   merges lag, memory limits, authentication, a missing table. Retry later.
 */
export type ClickHouseErrorKind = 'data' | 'query' | 'timeout' | 'unavailable';

/** Error names (the text in parentheses) of ClickHouse that are about the inserted data. */
const DATA_TYPES = new Set([
  'CANNOT_PARSE_TEXT',
  'CANNOT_PARSE_ESCAPE_SEQUENCE',
  'CANNOT_PARSE_QUOTED_STRING',
  'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
  'CANNOT_PARSE_DATE',
  'CANNOT_PARSE_DATETIME',
  'CANNOT_PARSE_NUMBER',
  'CANNOT_PARSE_UUID',
  'CANNOT_PARSE_BOOL',
  'CANNOT_PARSE_IPV4',
  'CANNOT_PARSE_IPV6',
  'CANNOT_READ_ALL_DATA',
  'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN',
  'INCORRECT_DATA',
  'TYPE_MISMATCH',
  'TOO_LARGE_STRING_SIZE',
  'TOO_LARGE_ARRAY_SIZE',
  'VIOLATED_CONSTRAINT',
  'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  'DECIMAL_OVERFLOW',
  'ARGUMENT_OUT_OF_BOUND',
  'INCORRECT_NUMBER_OF_COLUMNS',
  'ILLEGAL_TYPE_OF_ARGUMENT',
  'CANNOT_CONVERT_TYPE',
]);
/** The same errors by number (a transport may give only the code, e.g. an HTTP header). */
const DATA_CODES = new Set([
  '6',
  '26',
  '27',
  '32',
  '33',
  '38',
  '41',
  '43',
  '53',
  '69',
  '70',
  '72',
  '117',
  '128',
  '131',
  '321',
  '349',
  '376',
  '407',
  '467',
  '469',
]);
const QUERY_TYPES = new Set([
  'SYNTAX_ERROR',
  'UNKNOWN_IDENTIFIER',
  'UNKNOWN_FUNCTION',
  'NUMBER_OF_ARGUMENTS_DOESNT_MATCH',
  'BAD_QUERY_PARAMETER',
  'UNKNOWN_QUERY_PARAMETER',
]);
const QUERY_CODES = new Set(['62', '47', '46', '42', '457', '456']);
const TIMEOUT_TYPES = new Set(['TIMEOUT_EXCEEDED', 'TOO_SLOW', 'QUERY_WAS_CANCELLED']);
const TIMEOUT_CODES = new Set(['159', '160', '394']);

/**
 * TOO_MANY_PARTS (252) means two things: "Too many parts … merges are processing significantly
 * slower than inserts" (the server is behind: retry) and "Too many partitions for single INSERT
 * block" (this block spans more than max_partitions_per_insert_block partitions: the data).
 */
const TOO_MANY_PARTITIONS_RE = /too many partitions for single insert block/i;

export function classifyClickHouseError(err: unknown): ClickHouseErrorKind {
  const e = err as { code?: unknown; type?: unknown; message?: unknown; name?: unknown } | undefined;
  const type = typeof e?.type === 'string' ? e.type : undefined;
  // Server errors carry a numeric code (as a string) and its name; transport errors neither.
  const code = typeof e?.code === 'string' && /^\d+$/.test(e.code) ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : '';
  if ((type === 'TOO_MANY_PARTS' || code === '252') && TOO_MANY_PARTITIONS_RE.test(message)) return 'data';
  if ((type && DATA_TYPES.has(type)) || (code && DATA_CODES.has(code))) return 'data';
  if ((type && QUERY_TYPES.has(type)) || (code && QUERY_CODES.has(code))) return 'query';
  if (
    (type && TIMEOUT_TYPES.has(type)) ||
    (code && TIMEOUT_CODES.has(code)) ||
    message === 'Timeout error.' ||
    message === 'The user aborted a request.' ||
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError'
  ) {
    return 'timeout';
  }
  return 'unavailable';
}
