/**
 * Demo data for `npm start`: a few thousand events of the four kinds the product is about
 * (an account created for an identity, actions on resources, customers billed, accounts
 * deactivated) for the dev tenants acme and globex over the last three weeks, sent through the
 * real ingest path (`POST /events` with the dev producers' tokens).
 *
 * Deterministic: the same anchor time gives the same events with the same event_ids (named
 * UUIDs of tenant and sequence number), so sending them again stores nothing new. The anchor is
 * recorded in the stack's state directory at the first load, and a start that finds the demo
 * stored (counted through the query API) skips it.
 */
import fs from 'node:fs';
import { uuidFromName } from '@audit/schema';

export interface DemoTenant {
  tenant: string;
  producer: string;
  analyst: string;
  accounts: number;
  currency: string;
}

/** The dev users of deploy/local/dev-users.json (password `devpass`). */
export const DEMO_TENANTS: readonly DemoTenant[] = [
  { tenant: 'acme', producer: 'acme-producer', analyst: 'acme-analyst', accounts: 120, currency: 'USD' },
  { tenant: 'globex', producer: 'globex-producer', analyst: 'globex-analyst', accounts: 80, currency: 'EUR' },
];
export const DEV_PASSWORD = 'devpass';
export const DEMO_DAYS = 21;
/** Every demo event's `source` starts with this, so the demo can be told apart (and filtered out). */
export const DEMO_SOURCE_PREFIX = 'demo.';
const ID_NAMESPACE = 'audit-log demo data v1';
const DAY = 86_400_000;
const BATCH = 500;

export interface DemoEvent {
  event_id: string;
  event_type: string;
  timestamp: string;
  user_id: string;
  source: string;
  actor_type: string;
  resource_type: string;
  resource_id: string;
  action: string;
  outcome: string;
  ip: string;
  user_agent: string;
  event_details: Record<string, unknown>;
}

/** mulberry32: a small seeded PRNG, so the same tenant always gets the same history. */
function prng(seed: string): () => number {
  let a = 0;
  for (const ch of seed) a = (Math.imul(a ^ ch.charCodeAt(0), 0x9e3779b1) + 0x7f4a7c15) | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FIRST = ['ada', 'ben', 'chloe', 'dev', 'emma', 'felix', 'grace', 'hugo', 'ines', 'jon', 'kim', 'lea'];
const LAST = [
  'lovelace',
  'ng',
  'martin',
  'patel',
  'schmidt',
  'garcia',
  'okafor',
  'rossi',
  'kowalski',
  'tanaka',
];
const DOMAINS = ['example.com', 'example.org', 'example.net'];
const PROVIDERS = ['google', 'okta', 'github', 'password'];
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'IN', 'BR', 'JP'];
const AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'audit-cli/2.3.1 (linux; x64)',
];
const RESOURCES = ['document', 'project', 'report', 'dashboard', 'api_key'];
/** Action and its HTTP shape, weighted: mostly reads. */
const ACTIONS: Array<[action: string, method: string, weight: number]> = [
  ['view', 'GET', 50],
  ['update', 'PATCH', 18],
  ['create', 'POST', 12],
  ['share', 'POST', 8],
  ['export', 'GET', 7],
  ['delete', 'DELETE', 5],
];
const PLANS = {
  free: { weekly: 0, perSeat: 0 },
  pro: { weekly: 19, perSeat: 9 },
  enterprise: { weekly: 199, perSeat: 15 },
};
type Plan = keyof typeof PLANS;

/** The demo history of one tenant for the DEMO_DAYS days before `anchorMs`, oldest first. */
export function demoEvents(t: DemoTenant, anchorMs: number): DemoEvent[] {
  const rnd = prng(`demo:${t.tenant}`);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const start = anchorMs - DEMO_DAYS * DAY;
  const out: Array<Omit<DemoEvent, 'event_id'>> = [];
  let invoices = 0;
  for (let n = 1; n <= t.accounts; n++) {
    const user = `usr_${t.tenant.slice(0, 2)}${String(n).padStart(4, '0')}`;
    const account = `acct_${t.tenant}_${String(n).padStart(4, '0')}`;
    const first = pick(FIRST);
    const last = pick(LAST);
    const r = rnd();
    const plan: Plan = r < 0.5 ? 'free' : r < 0.85 ? 'pro' : 'enterprise';
    const seats = plan === 'free' ? 1 : 2 + Math.floor(rnd() * (plan === 'pro' ? 8 : 40));
    const country = pick(COUNTRIES);
    const ip = `203.0.113.${1 + Math.floor(rnd() * 254)}`;
    const agent = pick(AGENTS);
    const created = start + rnd() * DEMO_DAYS * 0.7 * DAY;
    // Some accounts leave: by request, after a failed payment, or for inactivity.
    const leaves = rnd() < 0.12;
    const ends = leaves ? created + 3 * DAY + rnd() * (anchorMs - created - 3 * DAY) : anchorMs;
    const common = { user_id: user, ip, user_agent: agent };
    out.push({
      ...common,
      event_type: 'customer.account.created',
      timestamp: iso(created),
      source: `${DEMO_SOURCE_PREFIX}identity`,
      actor_type: 'user',
      resource_type: 'account',
      resource_id: account,
      action: 'create',
      outcome: 'success',
      event_details: {
        identity: { provider: pick(PROVIDERS), email: `${first}.${last}${n}@${pick(DOMAINS)}` },
        plan,
        seats,
        country,
        signup: { channel: pick(['web', 'web', 'invite', 'api']) },
      },
    });

    // Actions: a Poisson process whose rate grows with the plan; resources come from a small pool.
    const perDay = plan === 'free' ? 0.8 : plan === 'pro' ? 1.8 : 3.5;
    for (let at = created + expGap(rnd, perDay); at < ends; at += expGap(rnd, perDay)) {
      const [action, method] = weighted(rnd, ACTIONS);
      const type = pick(RESOURCES);
      const id = `${type}_${n}_${1 + Math.floor(rnd() * 6)}`;
      const o = rnd();
      const outcome = o < 0.95 ? 'success' : o < 0.98 ? 'denied' : 'failure';
      out.push({
        ...common,
        event_type: 'customer.action.performed',
        timestamp: iso(at),
        source: `${DEMO_SOURCE_PREFIX}web`,
        actor_type: 'user',
        resource_type: type,
        resource_id: id,
        action,
        outcome,
        event_details: {
          request: {
            method,
            path: `/api/v1/${type}s/${id}${action === 'share' || action === 'export' ? `/${action}` : ''}`,
            status:
              outcome === 'success' ? (method === 'POST' ? 201 : 200) : outcome === 'denied' ? 403 : 500,
            duration_ms: Math.round(5 + rnd() * rnd() * 900),
          },
          ...(action === 'share'
            ? { shared_with: `${pick(FIRST)}@${pick(DOMAINS)}`, role: pick(['viewer', 'editor']) }
            : {}),
          ...(action === 'export' ? { format: pick(['csv', 'pdf', 'xlsx']) } : {}),
        },
      });
    }

    // Paid plans are billed at sign-up, then weekly; a few charges are declined.
    let paymentFailed = false;
    for (let at = created + 120_000; at < ends && plan !== 'free'; at += 7 * DAY) {
      const { weekly, perSeat } = PLANS[plan];
      const amount = Math.round((weekly + perSeat * seats) * 100) / 100;
      const declined = rnd() < 0.05;
      paymentFailed ||= declined;
      invoices++;
      const invoice = `inv_${t.tenant}_${String(invoices).padStart(5, '0')}`;
      out.push({
        ...common,
        user_id: 'billing-system',
        event_type: 'customer.billed',
        timestamp: iso(at),
        source: `${DEMO_SOURCE_PREFIX}billing`,
        actor_type: 'system',
        resource_type: 'invoice',
        resource_id: invoice,
        action: 'charge',
        outcome: declined ? 'failure' : 'success',
        ip: '198.51.100.10',
        user_agent: 'billing-worker/5.2',
        event_details: {
          customer: { account, user },
          amount,
          currency: t.currency,
          plan,
          seats,
          period: { start: iso(at), end: iso(at + 7 * DAY) },
          payment: declined
            ? {
                method: 'card',
                status: 'declined',
                decline_code: pick(['insufficient_funds', 'expired_card']),
              }
            : { method: pick(['card', 'card', 'sepa_debit']), status: 'paid' },
        },
      });
    }

    if (leaves) {
      const reason = paymentFailed
        ? 'payment_failed'
        : pick(['customer_request', 'customer_request', 'inactivity']);
      const bySupport = reason !== 'customer_request';
      out.push({
        ...common,
        user_id: bySupport ? 'support-agent-7' : user,
        event_type: 'customer.account.deactivated',
        timestamp: iso(ends),
        source: `${DEMO_SOURCE_PREFIX}identity`,
        actor_type: bySupport ? 'admin' : 'user',
        resource_type: 'account',
        resource_id: account,
        action: 'deactivate',
        outcome: 'success',
        event_details: { reason, plan, active_days: Math.round((ends - created) / DAY) },
      });
    }
  }
  out.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
  return out.map((e, i) => ({ event_id: uuidFromName(ID_NAMESPACE, `${t.tenant}/${i}`), ...e }));
}

const iso = (ms: number) => new Date(Math.floor(ms)).toISOString();

function expGap(rnd: () => number, perDay: number): number {
  return (-Math.log(1 - rnd()) / perDay) * DAY;
}

function weighted<T extends [string, string, number]>(rnd: () => number, xs: readonly T[]): T {
  let r = rnd() * xs.reduce((s, x) => s + x[2], 0);
  for (const x of xs) {
    r -= x[2];
    if (r < 0) return x;
  }
  return xs[xs.length - 1]!;
}

/**
 * The time the demo history ends: the one recorded at the first load (so a later load sends the
 * same events), or the current minute. A recorded anchor older than the demo window is renewed
 * only when the demo is not stored, so the history stays recent.
 */
export function demoAnchor(stateFile: string, nowMs: number, renewOld: boolean): number {
  try {
    const anchor = Date.parse((JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { anchor: string }).anchor);
    if (Number.isFinite(anchor) && anchor <= nowMs && !(renewOld && nowMs - anchor > DEMO_DAYS * DAY)) {
      return anchor;
    }
  } catch {
    // no demo loaded yet
  }
  return Math.floor(nowMs / 60_000) * 60_000;
}

export async function login(url: string, username: string): Promise<string> {
  const res = await request(`${url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: DEV_PASSWORD }),
  });
  if (!res.ok) throw new Error(`login as ${username} at ${url}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** POST the events in batches; a 503 (Kafka busy) is retried after its Retry-After. */
export async function sendEvents(ingestUrl: string, token: string, events: DemoEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += BATCH) {
    const body = JSON.stringify(events.slice(i, i + BATCH));
    for (let attempt = 1; ; attempt++) {
      const res = await request(`${ingestUrl}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      });
      if (res.status === 202) break;
      const text = await res.text();
      if (res.status !== 503 || attempt === 10) {
        throw new Error(`POST /events: HTTP ${res.status} ${text.slice(0, 500)}`);
      }
      await sleep(1000 * Number(res.headers.get('retry-after') ?? 1));
    }
  }
}

/** Demo events of the token's tenant that the query API returns. */
export async function demoStored(queryUrl: string, token: string): Promise<number> {
  const url = `${queryUrl}/events/stats?${new URLSearchParams({ 'source[prefix]': DEMO_SOURCE_PREFIX })}`;
  const res = await request(url, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /events/stats: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { count: number }).count;
}

export interface DemoLoad {
  /** `stored`: already there, nothing sent. */
  status: 'loaded' | 'stored';
  counts: Record<string, number>;
  anchor: number;
  seconds: number;
}

export interface DemoOptions {
  ingestUrl: string;
  queryUrl: string;
  /** Where the anchor is recorded (the stack's state directory). */
  stateFile: string;
  /** Send even when the demo is already stored (the tests check that a resend stores nothing). */
  resend?: boolean;
  now?: number;
  timeoutMs?: number;
}

/** Loads the demo unless it is stored, and waits until the query API returns all of it. */
export async function loadDemo(opts: DemoOptions): Promise<DemoLoad> {
  const t0 = performance.now();
  const now = opts.now ?? Date.now();
  const tenants = await Promise.all(
    DEMO_TENANTS.map(async (t) => ({
      t,
      write: await login(opts.ingestUrl, t.producer),
      read: await login(opts.queryUrl, t.analyst),
    })),
  );
  const stored = async () => Promise.all(tenants.map((x) => demoStored(opts.queryUrl, x.read)));
  const before = await stored();
  let anchor = demoAnchor(opts.stateFile, now, false);
  let events = tenants.map((x) => demoEvents(x.t, anchor));
  const counts = (ns: number[]) => Object.fromEntries(tenants.map((x, i) => [x.t.tenant, ns[i]!]));
  if (!opts.resend && before.every((n, i) => n >= events[i]!.length)) {
    return { status: 'stored', counts: counts(before), anchor, seconds: (performance.now() - t0) / 1000 };
  }
  if (before.every((n) => n === 0)) {
    anchor = demoAnchor(opts.stateFile, now, true);
    events = tenants.map((x) => demoEvents(x.t, anchor));
  }
  // Recorded before sending: an interrupted load is completed with the same events next time.
  fs.writeFileSync(opts.stateFile, `${JSON.stringify({ anchor: new Date(anchor).toISOString() })}\n`);
  await Promise.all(tenants.map((x, i) => sendEvents(opts.ingestUrl, x.write, events[i]!)));
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const now = await stored();
    if (now.every((n, i) => n >= events[i]!.length)) {
      return { status: 'loaded', counts: counts(now), anchor, seconds: (performance.now() - t0) / 1000 };
    }
    if (Date.now() > deadline) {
      throw new Error(
        `demo data not stored in time: ${JSON.stringify(counts(now))} of ${events.map((e) => e.length)}`,
      );
    }
    await sleep(300);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * fetch, tried again after a connection error: a kept-alive socket the service closed while idle
 * ("other side closed") fails the next request on it, and on a busy machine that race is common.
 * Every request here may be repeated: /login, and /events with the demo's fixed event ids.
 */
async function request(url: string, init: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (attempt === 5) throw err;
      await sleep(200 * attempt);
    }
  }
}
