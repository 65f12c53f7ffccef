import type { ClickHouseClient } from '@audit/clickhouse';
import type { AuditEvent } from '@audit/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  dropTable,
  ensureTable,
  eventsTable,
  insertEvents,
  makeApp,
  makeEvent,
  newTenant,
  qs,
  type TestApp,
} from './helpers.ts';

// What a filter on event_details matches (docs/api.md, "What a details filter matches"), one
// event per shape that used to be confused with another.
const T = newTenant();
const base = Date.now() - 3_600_000;
const shapes: Record<string, Record<string, unknown>> = {
  str15: { amount: '15', a: 'x' },
  num15: { amount: 15 },
  emptyStr: { a: '' },
  jsonNull: { x: null },
  strNull: { x: 'null' },
  boolTrue: { flag: true },
  strTrue: { flag: 'true' },
  containers: { obj: { k: 1 }, arr: [1, 2], emptyObj: {}, emptyArr: [] },
  nested: { a: { b: 'nested' } },
  dotted: { 'a.b': 'flat' },
  unicode: { ключ: 'значение', 'with space': 's', 'tags[0]': 'br', "it's": 'q', 'x[gt]': 'lit' },
  none: {},
};
const events = Object.fromEntries(
  Object.entries(shapes).map(([name, details], i) => [
    name,
    makeEvent(T, base + i * 1000, { user_id: name, event_details: details }),
  ]),
) as Record<keyof typeof shapes, AuditEvent>;

let admin: ClickHouseClient;
let t: TestApp;

beforeAll(async () => {
  admin = adminClient();
  await ensureTable();
  await insertEvents(admin, Object.values(events));
  t = await makeApp();
});

afterAll(async () => {
  await t?.close();
  await admin?.close();
  await dropTable();
});

/** The names (user_id) of the matching events, sorted. */
async function matching(pairs: [string, string][]): Promise<string[]> {
  const res = await t.get(`/events?${qs(pairs)}&limit=1000`, T);
  const body = (await res.json()) as { events: AuditEvent[] };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.events.map((e) => e.user_id).sort();
}

describe('a missing key is not an empty value', () => {
  it.each([
    [[['details.nosuch', '']], []],
    [[['details.nosuch[ne]', 'x']], []],
    [[['details.nosuch[prefix]', '']], []],
    [[['details.nosuch[in]', ',x']], []],
    [[['details.nosuch[exists]', 'false']], Object.keys(shapes)],
    [[['details.a', '']], ['emptyStr']],
    [[['details.a[in]', ',y']], ['emptyStr']],
    // [ne] matches only events that have the key: "" and the object a are other values than x.
    [[['details.a[ne]', 'x']], ['emptyStr', 'nested']],
  ] as [[string, string][], string[]][])('%j → %j', async (pairs, names) => {
    expect(await matching(pairs)).toEqual([...names].sort());
  });

  it('refuses an empty [in] list with a 400 naming it', async () => {
    const res = await t.get('/events?details.a[in]=', T);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: 'invalid_parameter', details: { parameter: 'details.a[in]' } },
    });
  });
});

describe('[exists] and [type] see every node, objects and arrays too', () => {
  it.each([
    [[['details.obj[exists]', 'true']], ['containers']],
    [[['details.arr[exists]', 'true']], ['containers']],
    [[['details.emptyObj[exists]', 'true']], ['containers']],
    [[['details.emptyArr[exists]', 'true']], ['containers']],
    [[['details.obj[type]', 'object']], ['containers']],
    [[['details.arr[type]', 'array']], ['containers']],
    [[['details.arr.1[type]', 'number']], ['containers']],
    // a is an object in one event, a string in two; "a.b" the path of a nested and a dotted key.
    [[['details.a[exists]', 'true']], ['emptyStr', 'nested', 'str15']],
    [[['details.a[type]', 'object']], ['nested']],
    [[['details.a.b', 'nested']], ['nested']],
    [[['details.a.b', 'flat']], ['dotted']],
  ] as [[string, string][], string[]][])('%j → %j', async (pairs, names) => {
    expect(await matching(pairs)).toEqual([...names].sort());
  });
});

describe('comparisons know the JSON type', () => {
  it.each([
    [[['details.amount[gt]', '10']], ['num15']],
    [[['details.amount[lte]', '15']], ['num15']],
    [[['details.amount[type]', 'number']], ['num15']],
    [[['details.amount[type]', 'string']], ['str15']],
    // Equality: a string by its text, a number by its value.
    [[['details.amount', '15']], ['num15', 'str15']],
    [[['details.amount', '15.0']], ['num15']],
    [[['details.amount[in]', '1.5e1,x']], ['num15']],
    [[['details.amount[ne]', '15.0']], ['str15']],
    [[['details.amount[prefix]', '1']], ['str15']],
    // null is its own type; the text null is a string.
    [[['details.x', 'null']], ['strNull']],
    [[['details.x[type]', 'null']], ['jsonNull']],
    [[['details.x[ne]', 'null']], ['jsonNull']],
    [[['details.flag', 'true']], ['boolTrue', 'strTrue']],
    [[['details.flag[type]', 'boolean']], ['boolTrue']],
    [[['details.obj', '']], []],
  ] as [[string, string][], string[]][])('%j → %j', async (pairs, names) => {
    expect(await matching(pairs)).toEqual([...names].sort());
  });
});

describe('every key ingest accepts is filterable and groupable', () => {
  it.each([
    [[['details.ключ', 'значение']], ['unicode']],
    [[['details.with space', 's']], ['unicode']],
    [[["details.it's", 'q']], ['unicode']],
    [[['details.tags[0][eq]', 'br']], ['unicode']],
    [[['details.x[gt][eq]', 'lit']], ['unicode']],
  ] as [[string, string][], string[]][])('%j → %j', async (pairs, names) => {
    expect(await matching(pairs)).toEqual([...names].sort());
  });

  it('groups by a Unicode key, telling the missing apart', async () => {
    const res = await t.get(`/events/stats?${qs({ group_by: 'details.ключ' })}`, T);
    expect(await res.json()).toEqual({
      groups: [
        { type: 'missing', count: Object.keys(shapes).length - 1 },
        { type: 'string', key: 'значение', count: 1 },
      ],
      truncated: false,
    });
  });

  // Equal counts are ordered missing, string, number, boolean, null, object, array, then by key.
  it('groups by type and value: the number 15 and the string "15" are two groups', async () => {
    const res = await t.get('/events/stats?group_by=details.amount&top=5', T);
    expect(await res.json()).toEqual({
      groups: [
        { type: 'missing', count: Object.keys(shapes).length - 2 },
        { type: 'string', key: '15', count: 1 },
        { type: 'number', key: '15', count: 1 },
      ],
      truncated: false,
    });
    const x = await t.get('/events/stats?group_by=details.x&event_type=customer.action.performed', T);
    expect(((await x.json()) as { groups: unknown[] }).groups).toEqual([
      { type: 'missing', count: Object.keys(shapes).length - 2 },
      { type: 'string', key: 'null', count: 1 },
      { type: 'null', count: 1 },
    ]);
  });
});

describe('rows written without details_type (before migration 0004, or by an older sink)', () => {
  it('get types inferred from their text, so filters keep finding them', async () => {
    const legacyTenant = newTenant();
    const legacy = makeEvent(legacyTenant, base, {
      event_details: { amount: 15, plan: 'pro', ok: true, none: null, tag: ['a'] },
    });
    // The row as an older sink wrote it: no details_type column at all.
    await admin.insert({
      table: eventsTable(),
      format: 'JSONEachRow',
      values: [
        {
          tenant_id: legacyTenant,
          event_id: legacy.event_id,
          event_type: legacy.event_type,
          timestamp: legacy.timestamp.replace('T', ' ').replace('Z', ''),
          received_at: legacy.received_at.replace('T', ' ').replace('Z', ''),
          user_id: 'legacy',
          source: 'test',
          details: { amount: '15', plan: 'pro', ok: 'true', none: 'null', 'tag.0': 'a' },
          event_details: JSON.stringify(legacy.event_details),
        },
      ],
    });
    const count = async (q: string) => {
      const res = await t.get(`/events/stats?${q}`, legacyTenant);
      return ((await res.json()) as { count: number }).count;
    };
    expect(await count('details.amount[gt]=10')).toBe(1);
    expect(await count('details.plan=pro')).toBe(1);
    expect(await count('details.ok[type]=boolean')).toBe(1);
    expect(await count('details.none[type]=null')).toBe(1);
    expect(await count('details.tag.0=a')).toBe(1);
    expect(await count('details.nosuch[ne]=x')).toBe(0);
  });
});
