import { EVENT_COLUMNS } from '@audit/clickhouse';
import { parseRequest } from '@audit/filters';
import { describe, expect, it } from 'vitest';
import {
  buildGetQuery,
  buildListQuery,
  buildStatsQuery,
  EXCLUDE_ACCESS_RECORDS,
  selectsOnlyAccessRecords,
} from './build-query.ts';

const filters = (qs: string) => parseRequest(new URLSearchParams(qs).entries(), []).filters;
const COLS = EVENT_COLUMNS.join(', ');
const T = 'audit.events';

/** The SQL of one filter, after the tenant condition, with its parameters. */
function where(qs: string) {
  const q = buildListQuery({ table: T, tenant: 'acme', filters: filters(qs), order: 'desc', limit: 10 });
  // Without an event_type filter the service's own records are left out (tested below).
  const sql = q.sql.replace(` AND ${EXCLUDE_ACCESS_RECORDS}`, '');
  const m = /WHERE tenant_id = \{p0:String\}(?: AND (.*))? ORDER BY/.exec(sql);
  const { p0, ...params } = q.params;
  expect(p0).toBe('acme');
  const last = Object.keys(params).at(-1)!;
  delete params[last]; // the LIMIT
  return { sql: m?.[1], params };
}

describe('buildListQuery', () => {
  it('always starts the WHERE clause with the tenant, reads FINAL, orders by the sort key', () => {
    const q = buildListQuery({ table: T, tenant: "it's", filters: filters(''), order: 'desc', limit: 101 });
    expect(q.sql).toBe(
      `SELECT ${COLS} FROM audit.events FINAL WHERE tenant_id = {p0:String} AND ${EXCLUDE_ACCESS_RECORDS} ORDER BY timestamp DESC, event_id DESC LIMIT {p1:UInt32}`,
    );
    expect(q.params).toEqual({ p0: "it's", p1: 101 });
  });

  it('leaves the audit.* access records out unless the request filters on event_type', () => {
    expect(EXCLUDE_ACCESS_RECORDS).toBe("NOT startsWith(event_type, 'audit.')");
    const sqlOf = (qs: string) =>
      buildListQuery({ table: T, tenant: 'acme', filters: filters(qs), order: 'desc', limit: 10 }).sql;
    expect(sqlOf('user_id=u1')).toContain(EXCLUDE_ACCESS_RECORDS);
    expect(sqlOf('details.event_type=x')).toContain(EXCLUDE_ACCESS_RECORDS);
    expect(sqlOf('event_type=customer.created')).not.toContain(EXCLUDE_ACCESS_RECORDS);
    expect(sqlOf('event_type[prefix]=audit.')).not.toContain(EXCLUDE_ACCESS_RECORDS);
    expect(sqlOf('access_records=include')).not.toContain("startsWith(event_type, 'audit.')");
    expect(sqlOf('access_records=only')).toContain(" AND startsWith(event_type, 'audit.')");
    expect(sqlOf('access_records=exclude&event_type=audit.log.viewed')).toContain(EXCLUDE_ACCESS_RECORDS);
    expect(() => sqlOf('access_records=all')).toThrow(/must be one of exclude, include, only/);
  });

  it('knows a read of only access records (not recorded again)', () => {
    expect(selectsOnlyAccessRecords(filters('event_type=audit.log.viewed'))).toBe(true);
    expect(selectsOnlyAccessRecords(filters('event_type[prefix]=audit.'))).toBe(true);
    expect(selectsOnlyAccessRecords(filters('event_type[in]=audit.log.viewed,audit.key.created'))).toBe(true);
    expect(selectsOnlyAccessRecords(filters('event_type[in]=audit.log.viewed,customer.x'))).toBe(false);
    expect(selectsOnlyAccessRecords(filters('event_type[prefix]=aud'))).toBe(false);
    expect(selectsOnlyAccessRecords(filters('event_type[ne]=audit.log.viewed'))).toBe(false);
    expect(selectsOnlyAccessRecords(filters('user_id=audit.log.viewed'))).toBe(false);
    expect(selectsOnlyAccessRecords(filters(''))).toBe(false);
    expect(selectsOnlyAccessRecords(filters('access_records=only'))).toBe(true);
    expect(selectsOnlyAccessRecords(filters('access_records=include'))).toBe(false);
  });

  it.each([
    ['event_type=a', 'event_type = {p1:String}', { p1: 'a' }],
    ['event_type[ne]=a', 'event_type != {p1:String}', { p1: 'a' }],
    ['user_id[gt]=a', 'user_id > {p1:String}', { p1: 'a' }],
    ['user_id[gte]=a', 'user_id >= {p1:String}', { p1: 'a' }],
    ['user_id[lt]=a', 'user_id < {p1:String}', { p1: 'a' }],
    ['user_id[lte]=a', 'user_id <= {p1:String}', { p1: 'a' }],
    ['source[in]=a,b', 'source IN {p1:Array(String)}', { p1: ['a', 'b'] }],
    ['resource_id[prefix]=ab', "resource_id != '' AND startsWith(resource_id, {p1:String})", { p1: 'ab' }],
    ['outcome[exists]=true', "outcome != ''", {}],
    ['outcome[exists]=false', "outcome = ''", {}],
    [
      'event_id=018F0000-0000-7000-8000-000000000000',
      'event_id = {p1:UUID}',
      { p1: '018F0000-0000-7000-8000-000000000000' },
    ],
    ['event_id[prefix]=018f', 'startsWith(toString(event_id), {p1:String})', { p1: '018f' }],
    ['schema_version[gte]=2', 'schema_version >= {p1:UInt16}', { p1: 2 }],
    ['schema_version[in]=1,2', 'schema_version IN {p1:Array(UInt16)}', { p1: [1, 2] }],
    ['actor_type=user', "actor_type != '' AND actor_type = {p1:String}", { p1: 'user' }],
    ['actor_type[ne]=user', "actor_type != '' AND actor_type != {p1:String}", { p1: 'user' }],
    ['outcome[lt]=m', "outcome != '' AND outcome < {p1:String}", { p1: 'm' }],
    ['action[in]=a,', "action != '' AND action IN {p1:Array(String)}", { p1: ['a', ''] }],
    ['ip[prefix]=10.', "ip != '' AND startsWith(ip, {p1:String})", { p1: '10.' }],
    [
      'details.customer.plan=pro',
      "details_type[{p1:String}] IN ('string', 'boolean') AND details[{p1:String}] = {p2:String}",
      { p1: 'customer.plan', p2: 'pro' },
    ],
    [
      'details.n=15.0',
      "((details_type[{p1:String}] IN ('string', 'boolean') AND details[{p1:String}] = {p2:String}) OR (details_type[{p1:String}] = 'number' AND details[{p1:String}] = {p3:String}))",
      { p1: 'n', p2: '15.0', p3: '15' },
    ],
    [
      'details.a[ne]=x',
      "mapContains(details_type, {p1:String}) AND NOT (details_type[{p1:String}] IN ('string', 'boolean') AND details[{p1:String}] = {p2:String})",
      { p1: 'a', p2: 'x' },
    ],
    [
      'details.a[ne]=1e1',
      "mapContains(details_type, {p1:String}) AND NOT ((details_type[{p1:String}] IN ('string', 'boolean') AND details[{p1:String}] = {p2:String}) OR (details_type[{p1:String}] = 'number' AND details[{p1:String}] = {p3:String}))",
      { p1: 'a', p2: '1e1', p3: '10' },
    ],
    [
      'details.amount[gt]=10',
      "details_type[{p1:String}] = 'number' AND toFloat64OrNull(details[{p1:String}]) > {p2:Float64}",
      { p1: 'amount', p2: 10 },
    ],
    [
      'details.amount[gte]=1.5',
      "details_type[{p1:String}] = 'number' AND toFloat64OrNull(details[{p1:String}]) >= {p2:Float64}",
      { p1: 'amount', p2: 1.5 },
    ],
    [
      'details.amount[lt]=-3',
      "details_type[{p1:String}] = 'number' AND toFloat64OrNull(details[{p1:String}]) < {p2:Float64}",
      { p1: 'amount', p2: -3 },
    ],
    [
      'details.amount[lte]=0',
      "details_type[{p1:String}] = 'number' AND toFloat64OrNull(details[{p1:String}]) <= {p2:Float64}",
      { p1: 'amount', p2: 0 },
    ],
    [
      'details.a[in]=x,y',
      "details_type[{p1:String}] IN ('string', 'boolean') AND details[{p1:String}] IN {p2:Array(String)}",
      { p1: 'a', p2: ['x', 'y'] },
    ],
    [
      'details.a[in]=x,2,2.0',
      "((details_type[{p1:String}] IN ('string', 'boolean') AND details[{p1:String}] IN {p2:Array(String)}) OR (details_type[{p1:String}] = 'number' AND details[{p1:String}] = {p3:String}))",
      { p1: 'a', p2: ['x', '2', '2.0'], p3: '2' },
    ],
    [
      'details.a[prefix]=x',
      "details_type[{p1:String}] = 'string' AND startsWith(details[{p1:String}], {p2:String})",
      { p1: 'a', p2: 'x' },
    ],
    ['details.a.b[exists]=true', 'mapContains(details_type, {p1:String})', { p1: 'a.b' }],
    ['details.a.b[exists]=false', 'NOT mapContains(details_type, {p1:String})', { p1: 'a.b' }],
    ['details.x[type]=null', 'details_type[{p1:String}] = {p2:String}', { p1: 'x', p2: 'null' }],
    [
      'details.ключ 1=v',
      "details_type[{p1:String}] IN ('string', 'boolean') AND details[{p1:String}] = {p2:String}",
      { p1: 'ключ 1', p2: 'v' },
    ],
    ['details..[exists]=true', 'mapContains(details_type, {p1:String})', { p1: '.' }],
    [
      'details.tags[0][eq]=x',
      "details_type[{p1:String}] IN ('string', 'boolean') AND details[{p1:String}] = {p2:String}",
      { p1: 'tags[0]', p2: 'x' },
    ],
  ])('%s → %s', (qs, sql, params) => {
    expect(where(qs)).toEqual({ sql, params });
  });

  it('ANDs filters and time bounds ([from, to))', () => {
    expect(
      where('from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&event_type=a&details.x[exists]=true'),
    ).toEqual({
      sql: "timestamp >= {p1:DateTime64(3, 'UTC')} AND timestamp < {p2:DateTime64(3, 'UTC')} AND event_type = {p3:String} AND mapContains(details_type, {p4:String})",
      params: {
        p1: '2026-01-01 00:00:00.000',
        p2: '2026-01-02 00:00:00.000',
        p3: 'a',
        p4: 'x',
      },
    });
  });

  it('never puts a request value into the SQL text', () => {
    const hostile = "x'); DROP TABLE audit.events; --`\\";
    const q = buildListQuery({
      table: T,
      tenant: hostile,
      filters: filters(
        new URLSearchParams({ user_id: hostile, 'details.a-b.__proto__': hostile }).toString(),
      ),
      order: 'asc',
      limit: 1,
    });
    expect(q.sql).not.toContain('DROP');
    expect(q.sql).not.toContain('__proto__');
    expect(Object.values(q.params).filter((v) => v === hostile)).toHaveLength(3);
  });

  it('continues after a keyset position in the direction of the order', () => {
    const after = { ts: '2026-01-02 03:04:05.678', id: '018f0000-0000-7000-8000-000000000000' };
    const desc = buildListQuery({
      table: T,
      tenant: 'acme',
      filters: filters(''),
      order: 'desc',
      limit: 5,
      after,
    });
    expect(desc.sql).toBe(
      `SELECT ${COLS} FROM audit.events FINAL WHERE tenant_id = {p0:String} AND ${EXCLUDE_ACCESS_RECORDS} AND timestamp <= {p1:DateTime64(3, 'UTC')} AND (timestamp < {p1:DateTime64(3, 'UTC')} OR event_id < {p2:UUID}) ORDER BY timestamp DESC, event_id DESC LIMIT {p3:UInt32}`,
    );
    expect(desc.params).toEqual({ p0: 'acme', p1: after.ts, p2: after.id, p3: 5 });
    const asc = buildListQuery({
      table: T,
      tenant: 'acme',
      filters: filters(''),
      order: 'asc',
      limit: 5,
      after,
    });
    expect(asc.sql).toContain(
      "timestamp >= {p1:DateTime64(3, 'UTC')} AND (timestamp > {p1:DateTime64(3, 'UTC')} OR event_id > {p2:UUID}) ORDER BY timestamp ASC, event_id ASC",
    );
  });
});

describe('buildGetQuery', () => {
  it('looks the id up only within the tenant', () => {
    const q = buildGetQuery({ table: T, tenant: 'acme', eventId: '018f0000-0000-7000-8000-000000000000' });
    expect(q).toEqual({
      sql: `SELECT ${COLS} FROM audit.events FINAL WHERE tenant_id = {p0:String} AND event_id = {p1:UUID} LIMIT 1`,
      params: { p0: 'acme', p1: '018f0000-0000-7000-8000-000000000000' },
    });
  });

  it('with a viewer token also within its pins, access records not excluded', () => {
    const q = buildGetQuery({
      table: T,
      tenant: 'acme',
      eventId: '018f0000-0000-7000-8000-000000000000',
      pins: filters('user_id=alice'),
    });
    expect(q).toEqual({
      sql: `SELECT ${COLS} FROM audit.events FINAL WHERE tenant_id = {p0:String} AND user_id = {p1:String} AND event_id = {p2:UUID} LIMIT 1`,
      params: { p0: 'acme', p1: 'alice', p2: '018f0000-0000-7000-8000-000000000000' },
    });
  });
});

describe('buildStatsQuery', () => {
  const base = { table: T, tenant: 'acme', filters: filters('event_type=a'), top: 10, maxRows: 10_001 };

  it('counts', () => {
    expect(buildStatsQuery(base)).toEqual({
      sql: 'SELECT count() AS count FROM audit.events FINAL WHERE tenant_id = {p0:String} AND event_type = {p1:String}',
      params: { p0: 'acme', p1: 'a' },
    });
  });

  it('groups by a details path (as a parameter) by type and value, and keeps the top N', () => {
    expect(buildStatsQuery({ ...base, groupBy: { kind: 'details', path: 'customer.plan' } })).toEqual({
      sql: "SELECT details_type[{p0:String}] AS node_type, if(node_type IN ('string', 'number', 'boolean'), details[{p0:String}], '') AS key, count() AS count FROM audit.events FINAL WHERE tenant_id = {p1:String} AND event_type = {p2:String} GROUP BY node_type, key ORDER BY count DESC, node_type ASC, key ASC LIMIT {p3:UInt32}",
      params: { p0: 'customer.plan', p1: 'acme', p2: 'a', p3: 10 },
    });
  });

  it('groups a UUID or number column by its text', () => {
    expect(
      buildStatsQuery({
        ...base,
        groupBy: { kind: 'column', name: 'schema_version', type: 'uint', optional: false },
      }).sql,
    ).toContain('SELECT toString(schema_version) AS key');
  });

  it('buckets by time, capped', () => {
    expect(buildStatsQuery({ ...base, interval: 'hour' })).toEqual({
      sql: "SELECT toDateTime(toStartOfInterval(timestamp, INTERVAL 1 HOUR), 'UTC') AS bucket, count() AS count FROM audit.events FINAL WHERE tenant_id = {p0:String} AND event_type = {p1:String} GROUP BY bucket ORDER BY bucket ASC LIMIT {p2:UInt32}",
      params: { p0: 'acme', p1: 'a', p2: 10_001 },
    });
  });

  it('keeps the top N per bucket when both are given', () => {
    const q = buildStatsQuery({
      ...base,
      interval: 'day',
      groupBy: { kind: 'column', name: 'event_type', type: 'string', optional: false },
    });
    expect(q.sql).toBe(
      "SELECT toDateTime(toStartOfInterval(timestamp, INTERVAL 1 DAY), 'UTC') AS bucket, event_type AS key, count() AS count FROM audit.events FINAL WHERE tenant_id = {p0:String} AND event_type = {p1:String} GROUP BY bucket, key ORDER BY bucket ASC, count DESC, key ASC LIMIT {p2:UInt32} BY bucket LIMIT {p3:UInt32}",
    );
    expect(q.params).toEqual({ p0: 'acme', p1: 'a', p2: 10, p3: 10_001 });
  });
});
