import { randomBytes } from 'node:crypto';
import type { ClickHouseClient } from '@audit/clickhouse';
import { type AuditEvent, MAX_DETAILS_PATH_LENGTH } from '@audit/schema';
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
  TEST_SECRET,
  type TestApp,
} from '../../services/query-api/test/helpers.ts';
import matrix from './fixtures/query-matrix.json' with { type: 'json' };
import { expectError, expectPrototypeClean, readCases, Tally } from './harness.ts';
import { b64url, claims, hmac, nowSeconds, swapPayload, unsigned } from './jwt.ts';

type Params = [string, string][];

interface QueryCase {
  category: string;
  name: string;
  method?: string;
  path: string;
  params?: Params | string;
  token?: string;
  status: number;
  code?: string;
  events?: number;
  count?: number;
  lines?: number;
}

interface MatrixValue {
  name: string;
  value?: string;
  repeat?: string;
  times?: number;
}

interface MatrixPosition {
  name: string;
  kind: 'string' | 'typed' | 'name' | 'path';
  path?: string;
  param?: string;
  name_template?: string;
  path_template?: string;
  events?: number;
  count?: number;
  lines?: number;
}

/** The longest parameter value the query API accepts (LIMITS.MAX_STRING_LENGTH). */
const MAX_VALUE_LENGTH = 8192;

/** Every matrix value in every matrix position, with the status that position must give. */
function matrixCases(): QueryCase[] {
  const values = (matrix.values as MatrixValue[]).map((v) => ({
    name: v.name,
    value: v.value ?? (v.repeat ?? '').repeat(v.times ?? 0),
  }));
  const out: QueryCase[] = [];
  for (const p of matrix.positions as MatrixPosition[]) {
    for (const v of values) {
      // A details path is any text a key can be, up to the longest path a stored event can have.
      const ok =
        (p.kind === 'string' && v.value.length <= MAX_VALUE_LENGTH) ||
        (p.kind === 'path' && v.value.length <= MAX_DETAILS_PATH_LENGTH);
      const base = {
        category: 'filter_injection',
        name: `${v.name} in ${p.name}`,
        status: ok ? 200 : 400,
        ...(ok ? { events: p.events, count: p.count, lines: p.lines } : { code: 'invalid_parameter' }),
      };
      if (p.path_template) {
        out.push({ ...base, path: p.path_template.replace('{v}', encodeURIComponent(v.value)) });
      } else if (p.name_template) {
        out.push({
          ...base,
          path: p.path ?? '/events',
          params: [[p.name_template.replace('{v}', v.value), '1']],
        });
      } else {
        out.push({ ...base, path: p.path ?? '/events', params: [[p.param ?? '', v.value]] });
      }
    }
  }
  return out;
}

const cases: QueryCase[] = [...readCases<QueryCase>('query-cases.ndjson'), ...matrixCases()];

const attacker = newTenant();
const victim = newTenant();
const marker = `victim-secret-${randomBytes(6).toString('hex')}`;
const victimType = `victim_${randomBytes(4).toString('hex')}.created`;
const base = Date.now() - 3_600_000;

// The victim's rows hold values an injection would match (quotes, the marker) so a broken tenant
// predicate would show up as rows, not just as "no error".
const victimEvents: AuditEvent[] = ["'", 'a-user', marker, ')', 'x'].map((u, i) =>
  makeEvent(victim, base + i * 1000, {
    user_id: u,
    event_type: victimType,
    resource_id: `victim-${marker}`,
    event_details: { secret: marker, a: { b: u }, n: i },
  }),
);
const attackerEvents: AuditEvent[] = [0, 1, 2].map((i) =>
  makeEvent(attacker, base + i * 1000, { user_id: 'a-user', event_details: { a: { b: 'x' }, n: i } }),
);
const victimIds = victimEvents.map((e) => e.event_id);
const forbidden = [marker, victim, victimType, ...victimIds];

let admin: ClickHouseClient;
let q: TestApp;
const tokens = new Map<string, string | undefined>();
const placeholders = new Map<string, string>();
const tally = new Tally('query-api (GET /events, /events/{id}, /events/stats, /events/export)');

async function firstCursor(tenant: string): Promise<string> {
  const res = await q.get('/events?limit=1', tenant);
  expect(res.status).toBe(200);
  const { next_cursor } = (await res.json()) as { next_cursor: string | null };
  expect(next_cursor).toBeTypeOf('string');
  return next_cursor as string;
}

beforeAll(async () => {
  admin = adminClient();
  await ensureTable();
  await insertEvents(admin, [...victimEvents, ...attackerEvents]);
  q = await makeApp();
  const victimClaims = claims(victim, 'events:read');
  const own = await q.token(attacker);
  tokens.set('attacker', own);
  tokens.set('absent', undefined);
  tokens.set('tampered', `Bearer ${swapPayload(own.slice('Bearer '.length), victimClaims)}`);
  tokens.set('none', `Bearer ${unsigned({ alg: 'none', typ: 'JWT' }, victimClaims)}`);
  tokens.set('wrongSecret', `Bearer ${hmac({ alg: 'HS256' }, victimClaims, 'secret')}`);
  tokens.set(
    'expired',
    `Bearer ${hmac({ alg: 'HS256' }, { ...victimClaims, exp: nowSeconds() - 3600 }, TEST_SECRET)}`,
  );
  tokens.set(
    'future',
    `Bearer ${hmac({ alg: 'HS256' }, { ...victimClaims, nbf: nowSeconds() + 3600 }, TEST_SECRET)}`,
  );
  tokens.set('writeOnly', await q.token(victim, ['events:write']));
  tokens.set('both', `${own}, ${await q.token(victim)}`);

  placeholders.set('{victim}', victim);
  placeholders.set('{attacker}', attacker);
  placeholders.set('{marker}', marker);
  placeholders.set('{victimEventId}', victimIds[0]!);
  placeholders.set('{victimEventIdUpper}', victimIds[0]!.toUpperCase());
  placeholders.set('{attackerEventId}', attackerEvents[0]!.event_id);
  placeholders.set('{victimCursor}', await firstCursor(victim));
  placeholders.set('{attackerCursor}', await firstCursor(attacker));
  placeholders.set('{in101}', Array.from({ length: 101 }, (_, i) => `u${i}`).join(','));
  placeholders.set(
    '{forgedCursor}',
    `${b64url(['2026-01-01 00:00:00.000', victimIds[0]])}.${randomBytes(32).toString('base64url')}`,
  );
  placeholders.set('{cursor10k}', 'a'.repeat(10 * 1024));
});

afterAll(async () => {
  tally.print();
  await q?.close();
  await admin?.close();
  await dropTable();
});

const fill = (s: string) => {
  let out = s;
  for (const [k, v] of placeholders) out = out.replaceAll(k, v);
  return out;
};

function urlOf(c: QueryCase): string {
  const params: Params =
    c.params === '{filters51}'
      ? Array.from({ length: 51 }, (_, i): [string, string] => [`details.k${i}`, 'x'])
      : ((c.params ?? []) as Params).map(([k, v]): [string, string] => [fill(k), fill(v)]);
  const search = qs(params);
  return `${fill(c.path)}${search ? `?${search}` : ''}`;
}

/** What the attacker may see in a 200: only its own rows, in the number the case states. */
async function expectOwnDataOnly(label: string, c: QueryCase, res: Response) {
  const text = await res.text();
  for (const f of forbidden) expect(text.includes(f), `${label} leaked ${f}`).toBe(false);
  if (c.path.startsWith('/events/export')) {
    const lines = text.split('\n').filter(Boolean);
    if (c.lines !== undefined) expect(lines.length, label).toBe(c.lines);
    if (!c.params || !JSON.stringify(c.params).includes('csv')) {
      for (const l of lines) expect((JSON.parse(l) as AuditEvent).tenant_id, label).toBe(attacker);
    }
    return;
  }
  const body = JSON.parse(text) as { events?: AuditEvent[]; count?: number; groups?: unknown[] };
  if (c.path.startsWith('/events/stats')) {
    if (c.count !== undefined) expect(body.count, label).toBe(c.count);
    if (body.count === undefined) expect(Array.isArray(body.groups), label).toBe(true);
    return;
  }
  expect(Array.isArray(body.events), label).toBe(true);
  for (const e of body.events ?? []) expect(e.tenant_id, label).toBe(attacker);
  if (c.events !== undefined) expect(body.events?.length, label).toBe(c.events);
}

describe('hostile query API requests: exact 4xx JSON or only the caller’s own rows, never the victim’s', () => {
  it.each(cases.map((c) => [`${c.category}: ${c.name}`, c] as const))('%s', async (label, c) => {
    tally.add(c.category);
    const authorization = tokens.get(c.token ?? 'attacker');
    const res = await q.app.request(urlOf(c), {
      method: c.method ?? 'GET',
      headers: authorization === undefined ? {} : { authorization },
    });
    if (c.status === 200) {
      expect(res.status, `${label}: ${res.status}`).toBe(200);
      await expectOwnDataOnly(label, c, res);
    } else {
      const body = await expectError(label, res, { status: c.status, code: c.code });
      const text = JSON.stringify(body);
      for (const f of [marker, victimType, ...victimIds.slice(1)]) {
        expect(text.includes(f), `${label} leaked ${f}`).toBe(false);
      }
    }
    expectPrototypeClean();
    // The service still answers a plain request, with exactly the caller's rows.
    const probe = await q.get('/events', attacker);
    expect(probe.status, `probe after ${label}`).toBe(200);
    const { events } = (await probe.json()) as { events: AuditEvent[] };
    expect(events.map((e) => e.event_id).sort(), `probe after ${label}`).toEqual(
      attackerEvents.map((e) => e.event_id).sort(),
    );
  });

  it('left both tenants’ rows exactly as inserted', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
    const rs = await admin.query({
      query: `SELECT tenant_id, count() AS n FROM ${eventsTable()} FINAL WHERE tenant_id IN ({a:String}, {v:String}) GROUP BY tenant_id ORDER BY tenant_id`,
      query_params: { a: attacker, v: victim },
      format: 'JSONEachRow',
    });
    const rows = await rs.json<{ tenant_id: string; n: string | number }>();
    const counts = Object.fromEntries(rows.map((r) => [r.tenant_id, Number(r.n)]));
    expect(counts).toEqual({ [attacker]: attackerEvents.length, [victim]: victimEvents.length });
  });
});
