import { randomBytes } from 'node:crypto';
import { type ClickHouseClient, createClickHouse, migrate, toRow } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { type AuditEvent, validateKafkaMessage } from '@audit/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The query API's SQL is what the matcher must agree with; it stays in the query API.
import { buildListQuery } from '../../../services/query-api/src/sql/build-query.ts';
import { compileMatcher } from '../src/match.ts';
import { type Filters, parseRequest } from '../src/parse.ts';

/*
 * compileMatcher against ClickHouse itself: a few hundred varied events are validated as the
 * sink validates a Kafka message and stored with the sink's own row conversion in a scratch
 * database migrated like production; then every filter below runs through the query API's SQL
 * (buildListQuery) and through compileMatcher, and both must select the same event_ids.
 */

const cfg = loadConfig(stackSchema);
const db = `fmatch_${randomBytes(5).toString('hex')}`;
const TENANT = 'acme';

/** A seeded PRNG (mulberry32): the same events and filter combinations on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(20261202);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

/** event_details values as JSON source text, so the parser sees `15.0`, `1.5e1`, `-0`, escapes. */
const DETAIL_VALUES = [
  '"abc"',
  '"ab"',
  '"ABC"',
  '""',
  '"15"',
  '"15.0"',
  '"null"',
  '"true"',
  '"false"',
  '"x y"',
  '"é"',
  '"ключ"',
  '"\\ud83d\\ude00"',
  '"a\\ud83d\\ude00"',
  '"\\ufffd"',
  '"\\ue000"',
  '"-1"',
  '"1e3"',
  '"a,b"',
  '0',
  '-0',
  '1',
  '15',
  '15.0',
  '1.5e1',
  '1E1',
  '15.5',
  '-2.5',
  '1e-7',
  '0.1',
  '0.3',
  '0.30000000000000004',
  '5e-324',
  '9007199254740991',
  '-9007199254740991',
  '123456.789',
  '1e3',
  'true',
  'false',
  'null',
  '{}',
  '{"q":1}',
  '{"q":"x"}',
  '[]',
  '[1,"a"]',
  '[{"n":15}]',
  '[null]',
] as const;

const EVENT_TYPES = [
  'customer.billed',
  'customer.account.created',
  'user.login',
  'user.logout',
  'order.created',
  'audit.log.viewed',
  'audit.log.exported',
];
const USERS = ['u1', 'u2', 'U1', 'u10', 'u 1', 'é', 'ключ', '😀', 'a😀', '\uFFFD', '\uE000', 'z'];
const SOURCES = ['billing', 'kafka', 'src😀'];
const OPTIONAL: Record<string, (string | undefined)[]> = {
  actor_type: ['user', 'service', undefined],
  resource_type: ['invoice', 'order', undefined, undefined],
  resource_id: ['inv-1', 'inv-10', '😀', '\uFFFD', undefined],
  action: ['create', 'delete', 'update', undefined],
  outcome: ['success', 'failure', undefined],
  ip: ['10.0.0.1', '10.0.0.10', '::1', '2001:db8::1', undefined],
  user_agent: ['curl/8.5', 'Mozilla/5.0 (X11)', undefined],
};
const SCHEMA_VERSIONS = [1, 1, 2, 3, 10, 65535];

const HEX = [...'0123456789abcdef'];
const hex = (n: number) => Array.from({ length: n }, () => pick(HEX)).join('');
const uuid = () => `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;

/** The JSON text of one event_details: which keys it has varies with i, values cycle through DETAIL_VALUES. */
function detailsJson(i: number): string {
  const v = (k: number) => DETAIL_VALUES[(i * k + k) % DETAIL_VALUES.length];
  const parts: string[] = [];
  if (i % 7 !== 0) parts.push(`"p":${v(1)}`);
  if (i % 5 !== 1) parts.push(`"q":${v(3)}`);
  if (i % 3 !== 0) parts.push(`"n":{"m":${v(5)}}`);
  if (i % 4 === 0) parts.push(`"items":[${v(7)},{"n":${v(11)}}]`);
  if (i % 4 === 1) parts.push('"items":[]');
  // The same path two ways: a dotted key, or nested objects (never both: ingest refuses that).
  if (i % 6 === 0) parts.push(`"a.b":${v(13)}`);
  if (i % 6 === 3) parts.push(`"a":{"b":${v(13)}}`);
  if (i % 9 === 0) parts.push(`"ключ":${v(17)},"x y":${v(19)},"tags[0]":${v(23)}`);
  if (i % 11 === 0) parts.push(`"toString":${v(29)}`);
  return `{${parts.join(',')}}`;
}

function makeEvents(count: number): AuditEvent[] {
  const base = Date.now() - 3_600_000;
  const out: AuditEvent[] = [];
  for (let i = 0; i < count; i++) {
    const ms = base + i * 7_919 + Math.floor(random() * 1000);
    // Some timestamps with an offset and nanoseconds: validation normalizes them to UTC ms.
    const timestamp =
      i % 10 === 0
        ? `${new Date(ms + 19_800_000).toISOString().slice(0, 23)}456789+05:30`
        : new Date(ms).toISOString();
    const fields: Record<string, unknown> = {
      event_id: i % 8 === 0 ? uuid().toUpperCase() : uuid(),
      event_type: pick(EVENT_TYPES),
      timestamp,
      tenant_id: TENANT,
      source: pick(SOURCES),
      user_id: pick(USERS),
      schema_version: pick(SCHEMA_VERSIONS),
    };
    for (const [name, values] of Object.entries(OPTIONAL)) {
      const value = pick(values);
      if (value !== undefined) fields[name] = value;
    }
    const json = `${JSON.stringify(fields).slice(0, -1)},"event_details":${detailsJson(i)}}`;
    const r = validateKafkaMessage(Buffer.from(json), {
      topic: 'audit.events',
      partition: 0,
      offset: String(i),
      timestamp: String(ms),
    });
    if (!r.ok) throw new Error(`event ${i} does not validate: ${JSON.stringify(r.issues)} ${json}`);
    out.push(r.event);
  }
  return out;
}

const DETAIL_PATHS = [
  'p',
  'q',
  'n',
  'n.m',
  'items',
  'items.0',
  'items.1',
  'items.1.n',
  'a',
  'a.b',
  'ключ',
  'x y',
  'tags[0]',
  'toString',
  'missing',
];
const EQ_VALUES = [
  'abc',
  'ABC',
  '',
  '15',
  '15.0',
  '1.5e1',
  '+15',
  '1e1',
  '10',
  '-0',
  '0',
  '.1',
  '0.1',
  '0.3',
  '0.30000000000000004',
  '5e-324',
  '1e-7',
  '0.0000001',
  '9007199254740991',
  '-9007199254740991',
  '1e3',
  '1000',
  '-1',
  'null',
  'true',
  'false',
  'x y',
  'é',
  '😀',
  'a😀',
  '\uFFFD',
  'a,b',
  'x',
];
const THRESHOLDS = [
  '-1e16',
  '-9007199254740991',
  '-2.5',
  '-0',
  '0',
  '5e-324',
  '1e-7',
  '0.1',
  '0.3',
  '0.30000000000000004',
  '1',
  '15',
  '15.5',
  '1e3',
  '9007199254740991',
];
const PREFIXES = ['', 'a', 'ab', 'A', '1', 'n', 't', '😀', '\uFFFD', 'x', 'é', 'кл'];
const IN_LISTS = ['abc,15', '1.5e1,,x', 'null,true,false', '😀,a😀', '0,-0', '0.3,0.30000000000000004'];
const NODE_TYPES = ['string', 'number', 'boolean', 'null', 'object', 'array'];
const COLUMN_VALUES = ['', 'u', 'U', 'z', '\uFFFD', '\uE000', '😀', 'é', '~'];
const COLUMN_PREFIXES = ['', 'u', 'c', 'user.', 'audit.', 'inv-1', '😀', '10.0.0.1', '::', 'Mozilla'];

type Query = [string, string][];

/** Single-condition filters: every field × every operator it takes × a spread of values. */
function singleFilters(events: AuditEvent[]): Query[] {
  const out: Query[] = [];
  for (const path of DETAIL_PATHS) {
    const name = `details.${path}`;
    const main = path === 'p' || path === 'q' || path === 'n.m';
    for (const v of main ? EQ_VALUES : EQ_VALUES.filter((_, i) => i % 4 === 0)) {
      out.push([[`${name}[eq]`, v]], [[`${name}[ne]`, v]]);
    }
    for (const list of IN_LISTS) out.push([[`${name}[in]`, list]]);
    for (const t of main || path === 'items.1.n' ? THRESHOLDS : THRESHOLDS.slice(0, 4)) {
      for (const op of ['gt', 'gte', 'lt', 'lte']) out.push([[`${name}[${op}]`, t]]);
    }
    for (const p of main ? PREFIXES : PREFIXES.slice(0, 3)) out.push([[`${name}[prefix]`, p]]);
    out.push([[`${name}[exists]`, 'true']], [[`${name}[exists]`, 'false']]);
    for (const t of NODE_TYPES) out.push([[`${name}[type]`, t]]);
  }
  for (const [column, stored] of [
    ['event_type', EVENT_TYPES],
    ['user_id', USERS],
    ['source', SOURCES],
    ...Object.entries(OPTIONAL).map(([k, vs]) => [k, vs.filter((v) => v !== undefined)] as const),
  ] as [string, string[]][]) {
    const values = [...new Set([...stored, ...COLUMN_VALUES])];
    for (const v of values) {
      for (const op of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte']) out.push([[`${column}[${op}]`, v]]);
    }
    for (const p of COLUMN_PREFIXES) out.push([[`${column}[prefix]`, p]]);
    out.push([[`${column}[in]`, `${stored[0]},${stored.at(-1)},`]], [[`${column}[in]`, 'nope,😀']]);
    out.push([[`${column}[exists]`, 'true']], [[`${column}[exists]`, 'false']]);
  }
  const ids = events.slice(0, 3).map((e) => e.event_id);
  const [a, b, c] = ids as [string, string, string];
  const absent = '00000000-0000-4000-8000-000000000000';
  for (const v of [a, a.toUpperCase(), absent]) out.push([['event_id', v]], [['event_id[ne]', v]]);
  out.push([['event_id[in]', `${a.toUpperCase()},${b},${absent}`]], [['event_id[in]', c]]);
  for (const p of ['', a.slice(0, 1), a.slice(0, 1).toUpperCase(), a.slice(0, 9), a, a.toUpperCase()]) {
    out.push([['event_id[prefix]', p]]);
  }
  for (const v of ['0', '1', '2', '3', '10', '65535']) {
    for (const op of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte']) out.push([[`schema_version[${op}]`, v]]);
  }
  out.push([['schema_version[in]', '1,10,65535']]);
  return out;
}

/** The access-records rule, time bounds, and random conjunctions of the single filters. */
function otherFilters(events: AuditEvent[], singles: Query[]): Query[] {
  const out: Query[] = [[]];
  for (const access of [undefined, 'include', 'only', 'exclude']) {
    for (const extra of [
      [],
      [['event_type[prefix]', 'audit.']],
      [['event_type[ne]', 'audit.log.viewed']],
      [['event_type[exists]', 'true']],
      [['user_id', 'u1']],
    ] as Query[]) {
      out.push(access === undefined ? extra : [['access_records', access], ...extra]);
    }
  }
  const times = events.map((e) => e.timestamp).sort();
  const mid = times[Math.floor(times.length / 2)]!;
  const quarter = times[Math.floor(times.length / 4)]!;
  out.push(
    [['from', mid]],
    [['to', mid]],
    [
      ['from', quarter],
      ['to', mid],
      ['access_records', 'include'],
    ],
  );
  out.push([
    ['from', mid.replace('Z', '+00:00')],
    ['details.p[exists]', 'true'],
  ]);
  for (let n = 0; n < 150; n++) {
    const combo = new Map<string, string>();
    const size = 2 + Math.floor(random() * 3);
    for (let k = 0; k < size; k++) for (const [name, value] of pick(singles)) combo.set(name, value);
    if (random() < 0.3) combo.set('access_records', pick(['include', 'only', 'exclude']));
    out.push([...combo]);
  }
  return out;
}

let admin: ClickHouseClient;
let events: AuditEvent[];

beforeAll(async () => {
  admin = createClickHouse(cfg, 'admin');
  await migrate(admin, { database: db, retentionDays: 365 });
  events = makeEvents(300);
  await admin.insert({
    table: `${db}.events`,
    format: 'JSONEachRow',
    values: events.map((e, i) => toRow(e, 0, String(i))),
  });
});

afterAll(async () => {
  await admin?.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await admin?.close();
});

async function sqlIds(filters: Filters): Promise<string[]> {
  const q = buildListQuery({ table: `${db}.events`, tenant: TENANT, filters, order: 'asc', limit: 10_000 });
  const rs = await admin.query({ query: q.sql, query_params: q.params, format: 'JSONEachRow' });
  return (await rs.json<{ event_id: string }>()).map((r) => r.event_id).sort();
}

describe('compileMatcher agrees with the query API’s SQL on real ClickHouse', () => {
  it('selects the same events for every filter', async () => {
    const rs = await admin.query({ query: `SELECT count() AS n FROM ${db}.events`, format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ n: events.length }]);

    const singles = singleFilters(events);
    const queries = [...singles, ...otherFilters(events, singles)];
    const disagreements: string[] = [];
    let proper = 0;
    let next = 0;
    // A few queries in flight at once: the server has two cores to share.
    const worker = async () => {
      while (next < queries.length) {
        const query = queries[next++]!;
        const { filters } = parseRequest(query, []);
        const fromSql = await sqlIds(filters);
        const matcher = compileMatcher(filters);
        const fromMatcher = events
          .filter((e) => matcher(e))
          .map((e) => e.event_id)
          .sort();
        if (fromSql.length > 0 && fromSql.length < events.length) proper++;
        if (fromSql.join() !== fromMatcher.join()) {
          const onlySql = fromSql.filter((id) => !fromMatcher.includes(id));
          const onlyMatcher = fromMatcher.filter((id) => !fromSql.includes(id));
          const show = (ids: string[]) =>
            ids.slice(0, 3).map((id) => JSON.stringify(events.find((e) => e.event_id === id)));
          disagreements.push(
            `${new URLSearchParams(query)}: SQL ${fromSql.length}, matcher ${fromMatcher.length}; only SQL ${show(onlySql)}; only matcher ${show(onlyMatcher)}`,
          );
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    console.log(
      `match-vs-sql: ${queries.length} filters × ${events.length} events compared; ${proper} filters selected a proper non-empty subset; ${disagreements.length} disagreements`,
    );
    expect(disagreements).toEqual([]);
    // The comparison is only worth something if most filters select some but not all events.
    expect(proper).toBeGreaterThan(queries.length / 2);
  });
});
