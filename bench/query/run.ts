/**
 * Query API benchmark: loads N generated events (default 10,000,000) for one tenant straight into
 * ClickHouse, starts the real query-api process, and reports p50/p99 of representative queries
 * through the API next to the same SQL run directly as the reader user, in the same run.
 *
 *   pnpm --filter @audit/bench exec tsx query/run.ts [--events 10000000] [--runs 20] [--export-rows 1000000]
 *
 * The tenant is `bench_q_<events>`; a second run with the same N reuses the loaded rows.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createAuth } from '@audit/auth';
import { createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { loadGeneratedTenant } from '../lib/generated-tenant.ts';
import { latencySummary, printTable, type Row, writeResults } from '../lib/report.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '20' },
    'export-rows': { type: 'string', default: '1000000' },
  },
});
const N = Number(args.events);
const RUNS = Number(args.runs);
const EXPORT_ROWS = Math.min(Number(args['export-rows']), N);
const TENANT = `bench_q_${N}`;
const DAY = 86_400_000;
const END = Date.UTC(2026, 0, 1) > Date.now() ? Date.now() : Math.floor(Date.now() / DAY) * DAY;
const SPAN = 30 * DAY;
const SECRET = 'bench-secret-that-is-at-least-32-characters';

const cfg = loadConfig(stackSchema);
const admin = createClickHouse(cfg, 'admin', { requestTimeoutMs: 600_000 });
const reader = createClickHouse(cfg, 'reader', { requestTimeoutMs: 120_000 });
const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

const load = () => loadGeneratedTenant(admin, TENANT, N, END, SPAN);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function startApi(port: number) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const child = spawn('pnpm', ['exec', 'tsx', 'services/query-api/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      AUTH_JWT_SECRET: SECRET,
      QUERY_CURSOR_SECRET: SECRET,
      QUERY_EXPORT_MAX_ROWS: String(Math.max(EXPORT_ROWS, 1)),
      QUERY_TIMEOUT_SECONDS: '60',
      // The bench measures query latency, not the per-tenant limits (docs/limits.md).
      RATE_LIMIT_REQUESTS_PER_SECOND: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  throw new Error('query-api did not become ready');
}

async function time(fn: () => Promise<unknown>, runs = RUNS): Promise<number[]> {
  await fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function main() {
  await load();
  const port = await freePort();
  const api = await startApi(port);
  const auth = await createAuth({ AUTH_JWT_SECRET: SECRET });
  const token = `Bearer ${await auth.issueToken({ subject: 'bench', tenant: TENANT, scopes: ['events:read'] })}`;
  const get = async (p: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { Authorization: token } });
    if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    return res;
  };
  const sql = async (query: string, params: Record<string, unknown> = {}) =>
    (await reader.query({ query, query_params: { t: TENANT, ...params }, format: 'JSONEachRow' })).json();

  const day = chTime(END - 3 * DAY).slice(0, 10);
  const dayFrom = `${day}T00:00:00Z`;
  const dayTo = new Date(Date.parse(dayFrom) + DAY).toISOString();
  const weekFrom = new Date(END - 7 * DAY).toISOString();
  const cols =
    'event_id, event_type, timestamp, received_at, tenant_id, user_id, source, actor_type, resource_type, resource_id, action, outcome, ip, user_agent, schema_version, event_details';

  // A cursor 30 pages (30,000 events) deep, and the keyset it stands for.
  let cursor = '';
  let last: { timestamp: string; event_id: string } | undefined;
  for (let i = 0; i < 30; i++) {
    const body = (await (await get(`/events?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)).json()) as {
      events: { timestamp: string; event_id: string }[];
      next_cursor: string;
    };
    cursor = body.next_cursor;
    last = body.events.at(-1);
  }
  const lastTs = last!.timestamp.replace('T', ' ').replace('Z', '');

  const cases: { name: string; api: () => Promise<unknown>; direct: () => Promise<unknown> }[] = [
    {
      name: 'event_type + one day (100)',
      api: async () =>
        (await get(`/events?event_type=customer.billed&from=${dayFrom}&to=${dayTo}&limit=100`)).json(),
      direct: () =>
        sql(
          `SELECT ${cols} FROM audit.events FINAL WHERE tenant_id = {t:String} AND timestamp >= {f:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')} AND event_type = {e:String} ORDER BY timestamp DESC, event_id DESC LIMIT 101`,
          { f: chTime(Date.parse(dayFrom)), to: chTime(Date.parse(dayTo)), e: 'customer.billed' },
        ),
    },
    {
      name: 'user_id (100)',
      api: async () => (await get('/events?user_id=u4242&limit=100')).json(),
      direct: () =>
        sql(
          `SELECT ${cols} FROM audit.events FINAL WHERE tenant_id = {t:String} AND user_id = {u:String} ORDER BY timestamp DESC, event_id DESC LIMIT 101`,
          { u: 'u4242' },
        ),
    },
    {
      name: 'details plan + amount>990 (100)',
      api: async () =>
        (await get('/events?details.customer.plan=enterprise&details.amount[gt]=990&limit=100')).json(),
      direct: () =>
        sql(
          `SELECT ${cols} FROM audit.events FINAL WHERE tenant_id = {t:String} AND details[{p:String}] = {v:String} AND toFloat64OrNull(details[{a:String}]) > {x:Float64} ORDER BY timestamp DESC, event_id DESC LIMIT 101`,
          { p: 'customer.plan', v: 'enterprise', a: 'amount', x: 990 },
        ),
    },
    {
      name: 'stats by hour, 7 days',
      api: async () => (await get(`/events/stats?interval=hour&from=${weekFrom}`)).json(),
      direct: () =>
        sql(
          `SELECT toDateTime(toStartOfInterval(timestamp, INTERVAL 1 HOUR), 'UTC') AS bucket, count() AS count FROM audit.events FINAL WHERE tenant_id = {t:String} AND timestamp >= {f:DateTime64(3, 'UTC')} GROUP BY bucket ORDER BY bucket ASC LIMIT 10001`,
          { f: chTime(Date.parse(weekFrom)) },
        ),
    },
    {
      name: 'stats top event_type, all',
      api: async () => (await get('/events/stats?group_by=event_type')).json(),
      direct: () =>
        sql(
          'SELECT event_type AS key, count() AS count FROM audit.events FINAL WHERE tenant_id = {t:String} GROUP BY key ORDER BY count DESC, key ASC LIMIT 10',
        ),
    },
    {
      name: 'page 31 via cursor (1000)',
      api: async () => (await get(`/events?limit=1000&cursor=${cursor}`)).json(),
      direct: () =>
        sql(
          `SELECT ${cols} FROM audit.events FINAL WHERE tenant_id = {t:String} AND timestamp <= {ts:DateTime64(3, 'UTC')} AND (timestamp < {ts:DateTime64(3, 'UTC')} OR event_id < {id:UUID}) ORDER BY timestamp DESC, event_id DESC LIMIT 1001`,
          { ts: lastTs, id: last!.event_id },
        ),
    },
  ];

  const rows: Row[] = [];
  for (const c of cases) {
    const a = latencySummary(await time(c.api));
    const d = latencySummary(await time(c.direct));
    rows.push({
      stage: 'query',
      case: c.name,
      api_p50_ms: a.p50_ms,
      api_p99_ms: a.p99_ms,
      sql_p50_ms: d.p50_ms,
      sql_p99_ms: d.p99_ms,
    });
    console.log(`${c.name}: api p50 ${a.p50_ms} ms, sql p50 ${d.p50_ms} ms`);
  }

  // Export: rows/s through the API (NDJSON) next to streaming the same rows directly.
  const exportApi = async () => {
    const res = await get(`/events/export?format=ndjson&limit=${EXPORT_ROWS}`);
    let lines = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      for (const b of chunk) if (b === 10) lines++;
    }
    if (lines !== EXPORT_ROWS) throw new Error(`export returned ${lines} rows`);
  };
  const exportDirect = async () => {
    const rs = await reader.query({
      query: `SELECT ${cols} FROM audit.events FINAL WHERE tenant_id = {t:String} ORDER BY timestamp DESC, event_id DESC LIMIT {n:UInt32}`,
      query_params: { t: TENANT, n: EXPORT_ROWS },
      format: 'JSONEachRow',
      clickhouse_settings: { max_result_rows: String(EXPORT_ROWS + 1), max_execution_time: 60 },
    });
    let n = 0;
    for await (const batch of rs.stream()) n += batch.length;
    if (n !== EXPORT_ROWS) throw new Error(`direct export returned ${n} rows`);
  };
  const ea = await time(exportApi, 3);
  const ed = await time(exportDirect, 3);
  const best = (s: number[]) => Math.min(...s);
  rows.push({
    stage: 'export',
    case: `ndjson ${EXPORT_ROWS} rows`,
    api_p50_ms: latencySummary(ea).p50_ms,
    api_rows_per_s: Math.round(EXPORT_ROWS / (best(ea) / 1000)),
    sql_p50_ms: latencySummary(ed).p50_ms,
    sql_rows_per_s: Math.round(EXPORT_ROWS / (best(ed) / 1000)),
  });

  printTable(rows);
  writeResults('query', rows, { events: N, runs: RUNS, exportRows: EXPORT_ROWS, tenant: TENANT });
  api.kill('SIGTERM');
  await Promise.all([admin.close(), reader.close()]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
