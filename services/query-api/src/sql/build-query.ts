import { EVENT_COLUMNS } from '@audit/clickhouse';
import { type Condition, type Field, type Filters, parseNumber } from '@audit/filters';
import { isReservedEventType, RESERVED_EVENT_TYPE_PREFIX } from '@audit/schema';
import { Params } from './params.ts';

/** SQL text plus the values of its placeholders, for `client.query({query, query_params})`. */
export interface BuiltQuery {
  sql: string;
  params: Record<string, unknown>;
}

export type Order = 'asc' | 'desc';
export type Interval = 'minute' | 'hour' | 'day';

/** A position in (timestamp, event_id) order: the last event of the previous page. */
export interface Keyset {
  ts: string;
  id: string;
}

const TIME = "DateTime64(3, 'UTC')";

const SELECT_EVENT = EVENT_COLUMNS.join(', ');

/**
 * `FINAL` collapses rows that share (tenant_id, timestamp, event_id) — a sink retry or a
 * producer resend — at read time, so a duplicate never appears even before a merge ran.
 */
function from(table: string): string {
  return `${table} FINAL`;
}

/** Types whose stored text is the value itself: a filter value compares with it as text. */
const TEXT_TYPES = "('string', 'boolean')";

/**
 * A details path's stored value, type and presence. `details` holds leaves only and
 * `details_type` every node; a missing key reads as '' from both, hence the explicit type tests.
 */
type DetailsRefs = { text: string; type: string; exists: string };

function detailsRefs(path: string, params: Params): DetailsRefs {
  const key = params.add('String', path);
  return {
    text: `details[${key}]`,
    type: `details_type[${key}]`,
    exists: `mapContains(details_type, ${key})`,
  };
}

/**
 * Equality with any of `values`, as alternatives OR-ed by the caller: a string or boolean leaf by
 * its text, a number leaf by its numeric value when the filter value is a number (`15`, `15.0`
 * and `1.5e1` all match 15). A stored number is JSON.stringify's text, one text per double, so
 * the numeric test is a text test against the same canonical form. null, objects and arrays
 * equal no value.
 */
function detailsEqualsBranches(refs: DetailsRefs, values: string[], params: Params): string[] {
  const numbers = new Set<string>();
  for (const v of values) {
    const n = parseNumber(v);
    if (n !== undefined) numbers.add(String(n));
  }
  const equals = (list: string[]) =>
    list.length === 1
      ? `${refs.text} = ${params.add('String', list[0])}`
      : `${refs.text} IN ${params.add('Array(String)', list)}`;
  const branches = [`${refs.type} IN ${TEXT_TYPES} AND ${equals(values)}`];
  if (numbers.size > 0) branches.push(`${refs.type} = 'number' AND ${equals([...numbers])}`);
  return branches;
}

const anyOf = (branches: string[]) =>
  branches.length === 1 ? branches[0]! : branches.map((b) => `(${b})`).join(' OR ');

const COMPARE = { eq: '=', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** A filter on a details path (see docs/api.md, Filters: what matches what). */
function detailsConditionSql(c: Condition, path: string, params: Params): string {
  const refs = detailsRefs(path, params);
  switch (c.op) {
    case 'exists':
      return c.value ? refs.exists : `NOT ${refs.exists}`;
    case 'type':
      return `${refs.type} = ${params.add('String', c.value)}`;
    case 'eq':
    case 'in': {
      const branches = detailsEqualsBranches(refs, typeof c.value === 'string' ? [c.value] : c.value, params);
      return branches.length === 1 ? branches[0]! : `(${anyOf(branches)})`;
    }
    case 'ne':
      return `${refs.exists} AND NOT (${anyOf(detailsEqualsBranches(refs, [c.value], params))})`;
    case 'prefix':
      return `${refs.type} = 'string' AND startsWith(${refs.text}, ${params.add('String', c.value)})`;
    default:
      return `${refs.type} = 'number' AND toFloat64OrNull(${refs.text}) ${COMPARE[c.op]} ${params.add('Float64', c.value)}`;
  }
}

const SCALAR_TYPES = { string: 'String', uuid: 'UUID', uint: 'UInt16' } as const;

/** A filter on a common column. An omitted optional field is stored as '' and matches only exists=false. */
function columnConditionSql(c: Condition, f: Extract<Field, { kind: 'column' }>, params: Params): string {
  if (c.op === 'exists') return `${f.name} ${c.value ? "!= ''" : "= ''"}`;
  const present = f.optional ? `${f.name} != '' AND ` : '';
  const scalarType = SCALAR_TYPES[f.type];
  switch (c.op) {
    case 'prefix': {
      const expr = f.type === 'uuid' ? `toString(${f.name})` : f.name;
      return `${present}startsWith(${expr}, ${params.add('String', c.value)})`;
    }
    case 'in': {
      const values = scalarType === 'UInt16' ? c.value.map(Number) : c.value;
      return `${present}${f.name} IN ${params.add(`Array(${scalarType})`, values)}`;
    }
    case 'type':
      throw new Error('type filters exist for details paths only');
    default:
      return `${present}${f.name} ${COMPARE[c.op]} ${params.add(scalarType, c.value)}`;
  }
}

function conditionSql(c: Condition, params: Params): string {
  return c.field.kind === 'details'
    ? detailsConditionSql(c, c.field.path, params)
    : columnConditionSql(c, c.field, params);
}

const namesEventType = (c: Condition) => c.field.kind === 'column' && c.field.name === 'event_type';

/**
 * The service's own records in the trail (reads, management actions: `audit.*`) are left out
 * unless asked for (`access_records=include|only`) or the request filters on event_type: a
 * tenant's searches and counts are about its own events.
 */
function accessRecordsSql(filters: Filters): string | undefined {
  if (filters.accessRecords === 'include') return undefined;
  if (filters.accessRecords === 'only') return ONLY_ACCESS_RECORDS;
  if (filters.accessRecords === undefined && filters.conditions.some(namesEventType)) return undefined;
  return EXCLUDE_ACCESS_RECORDS;
}

/** Constants of the code (not request input), written as literals so parameter numbers stay put. */
const PREFIX_LITERAL = `'${RESERVED_EVENT_TYPE_PREFIX.replace(/[^a-z.]/g, '')}'`;
export const ONLY_ACCESS_RECORDS = `startsWith(event_type, ${PREFIX_LITERAL})`;
export const EXCLUDE_ACCESS_RECORDS = `NOT ${ONLY_ACCESS_RECORDS}`;

/**
 * True when every event the filters can match is one of the service's own records
 * (`access_records=only`, or an event_type filter of only `audit.*` values): such a read is not
 * recorded again, so reading the access log does not grow it.
 */
export function selectsOnlyAccessRecords(filters: Filters): boolean {
  if (filters.accessRecords === 'only') return true;
  if (filters.accessRecords === 'exclude') return false;
  return filters.conditions.some((c) => {
    if (!namesEventType(c)) return false;
    if (c.op === 'eq' || c.op === 'prefix') return isReservedEventType(c.value);
    if (c.op === 'in') return c.value.length > 0 && c.value.every(isReservedEventType);
    return false;
  });
}

/** The WHERE clause: the caller's tenant first, always; then every filter, AND-ed. */
export function whereSql(tenant: string, filters: Filters, params: Params): string {
  const parts = [`tenant_id = ${params.add('String', tenant)}`];
  if (filters.from !== undefined) parts.push(`timestamp >= ${params.add(TIME, filters.from)}`);
  if (filters.to !== undefined) parts.push(`timestamp < ${params.add(TIME, filters.to)}`);
  for (const c of filters.conditions) parts.push(conditionSql(c, params));
  const access = accessRecordsSql(filters);
  if (access !== undefined) parts.push(access);
  return parts.join(' AND ');
}

function keysetSql(after: Keyset, order: Order, params: Params): string {
  const ts = params.add(TIME, after.ts);
  const id = params.add('UUID', after.id);
  const [cmp, cmpEq] = order === 'desc' ? ['<', '<='] : ['>', '>='];
  // The first conjunct alone is a primary-key range ClickHouse can prune with.
  return `timestamp ${cmpEq} ${ts} AND (timestamp ${cmp} ${ts} OR event_id ${cmp} ${id})`;
}

function orderSql(order: Order): string {
  const dir = order === 'desc' ? 'DESC' : 'ASC';
  return `ORDER BY timestamp ${dir}, event_id ${dir}`;
}

export interface ListQuery {
  table: string;
  tenant: string;
  filters: Filters;
  order: Order;
  /** Rows to fetch (the page size plus one, to know whether another page exists). */
  limit: number;
  after?: Keyset;
}

/** A page of events in (timestamp, event_id) order, starting after a keyset position. */
export function buildListQuery(q: ListQuery): BuiltQuery {
  const params = new Params();
  let where = whereSql(q.tenant, q.filters, params);
  if (q.after) where += ` AND ${keysetSql(q.after, q.order, params)}`;
  const limit = params.add('UInt32', q.limit);
  return {
    sql: `SELECT ${SELECT_EVENT} FROM ${from(q.table)} WHERE ${where} ${orderSql(q.order)} LIMIT ${limit}`,
    params: params.values,
  };
}

/** Every matching event in order, up to `limit`: the export. */
export function buildExportQuery(q: Omit<ListQuery, 'after'>): BuiltQuery {
  return buildListQuery(q);
}

/**
 * One event by id, only within the tenant and, for a viewer token, only when it matches the
 * pins (records of the service's own are readable by id either way, as without pins).
 */
export function buildGetQuery(q: {
  table: string;
  tenant: string;
  eventId: string;
  pins?: Filters;
}): BuiltQuery {
  const params = new Params();
  const scope = q.pins
    ? whereSql(q.tenant, { ...q.pins, accessRecords: 'include' }, params)
    : `tenant_id = ${params.add('String', q.tenant)}`;
  const where = `${scope} AND event_id = ${params.add('UUID', q.eventId)}`;
  return {
    sql: `SELECT ${SELECT_EVENT} FROM ${from(q.table)} WHERE ${where} LIMIT 1`,
    params: params.values,
  };
}

export interface StatsQuery {
  table: string;
  tenant: string;
  filters: Filters;
  groupBy?: Field;
  interval?: Interval;
  /** Groups kept (per time bucket when both are given). */
  top: number;
  /** Rows fetched at most when grouping by time: the cap plus one, to detect truncation. */
  maxRows: number;
}

const INTERVAL_SQL: Record<Interval, string> = {
  minute: 'INTERVAL 1 MINUTE',
  hour: 'INTERVAL 1 HOUR',
  day: 'INTERVAL 1 DAY',
};

/**
 * Counts of matching events: one total, the top groups of a field, counts per time bucket, or
 * the top groups within each bucket. Output columns: `bucket`, `key`, `count` as applicable.
 */
export function buildStatsQuery(q: StatsQuery): BuiltQuery {
  const params = new Params();
  const cols: string[] = [];
  const groups: string[] = [];
  const order: string[] = [];
  if (q.interval) {
    cols.push(`toDateTime(toStartOfInterval(timestamp, ${INTERVAL_SQL[q.interval]}), 'UTC') AS bucket`);
    groups.push('bucket');
    order.push('bucket ASC');
  }
  if (q.groupBy?.kind === 'details') {
    // A details group is (type, value): the number 15 and the string "15" are two groups, and
    // events without the path form one group of type '' (the API calls it "missing"). The type
    // is an Enum: equal counts sort in its order ('', string, number, boolean, null, object, array).
    const refs = detailsRefs(q.groupBy.path, params);
    cols.push(
      `${refs.type} AS node_type`,
      `if(node_type IN ('string', 'number', 'boolean'), ${refs.text}, '') AS key`,
    );
    groups.push('node_type', 'key');
    order.push('count DESC', 'node_type ASC', 'key ASC');
  } else if (q.groupBy) {
    const f = q.groupBy;
    cols.push(`${f.type === 'string' ? f.name : `toString(${f.name})`} AS key`);
    groups.push('key');
    order.push('count DESC', 'key ASC');
  }
  cols.push('count() AS count');
  const where = whereSql(q.tenant, q.filters, params);
  let sql = `SELECT ${cols.join(', ')} FROM ${from(q.table)} WHERE ${where}`;
  if (groups.length > 0) sql += ` GROUP BY ${groups.join(', ')} ORDER BY ${order.join(', ')}`;
  if (q.interval && q.groupBy) sql += ` LIMIT ${params.add('UInt32', q.top)} BY bucket`;
  if (q.interval) sql += ` LIMIT ${params.add('UInt32', q.maxRows)}`;
  else if (q.groupBy) sql += ` LIMIT ${params.add('UInt32', q.top)}`;
  return { sql, params: params.values };
}
