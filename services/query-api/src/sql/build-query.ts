import { EVENT_COLUMNS } from '@audit/clickhouse';
import type { Field } from '../filters/fields.ts';
import type { Condition, Filters } from '../filters/parse.ts';
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

function fieldExpr(field: Field, params: Params): string {
  if (field.kind === 'details') return `details[${params.add('String', field.path)}]`;
  return field.name;
}

/** The field as text, for grouping (a UUID or a number becomes its string form). */
function fieldAsString(field: Field, params: Params): string {
  if (field.kind === 'column' && field.type !== 'string') return `toString(${field.name})`;
  return fieldExpr(field, params);
}

const COMPARE = { eq: '=', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function conditionSql(c: Condition, params: Params): string {
  const f = c.field;
  if (c.op === 'exists') {
    if (f.kind === 'details') {
      const test = `mapContains(details, ${params.add('String', f.path)})`;
      return c.value ? test : `NOT ${test}`;
    }
    // Omitted optional common fields are stored as ''.
    return `${f.name} ${c.value ? "!= ''" : "= ''"}`;
  }
  if (c.op === 'prefix') {
    const expr = f.kind === 'column' && f.type === 'uuid' ? `toString(${f.name})` : fieldExpr(f, params);
    return `startsWith(${expr}, ${params.add('String', c.value)})`;
  }
  const scalarType =
    f.kind === 'column' ? { string: 'String', uuid: 'UUID', uint: 'UInt16' }[f.type] : 'String';
  if (c.op === 'in') {
    const values = scalarType === 'UInt16' ? c.value.map(Number) : c.value;
    return `${fieldExpr(f, params)} IN ${params.add(`Array(${scalarType})`, values)}`;
  }
  const sym = COMPARE[c.op];
  if (f.kind === 'details' && c.op !== 'eq' && c.op !== 'ne') {
    // Numbers compare as numbers; a detail that is not a number is NULL and never matches.
    return `toFloat64OrNull(${fieldExpr(f, params)}) ${sym} ${params.add('Float64', c.value)}`;
  }
  return `${fieldExpr(f, params)} ${sym} ${params.add(scalarType, c.value)}`;
}

/** The WHERE clause: the caller's tenant first, always; then every filter, AND-ed. */
export function whereSql(tenant: string, filters: Filters, params: Params): string {
  const parts = [`tenant_id = ${params.add('String', tenant)}`];
  if (filters.from !== undefined) parts.push(`timestamp >= ${params.add(TIME, filters.from)}`);
  if (filters.to !== undefined) parts.push(`timestamp < ${params.add(TIME, filters.to)}`);
  for (const c of filters.conditions) parts.push(conditionSql(c, params));
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

/** One event by id, only within the tenant. */
export function buildGetQuery(q: { table: string; tenant: string; eventId: string }): BuiltQuery {
  const params = new Params();
  const where = `tenant_id = ${params.add('String', q.tenant)} AND event_id = ${params.add('UUID', q.eventId)}`;
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
  if (q.groupBy) {
    cols.push(`${fieldAsString(q.groupBy, params)} AS key`);
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
