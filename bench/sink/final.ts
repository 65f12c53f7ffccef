/**
 * `FINAL` or not, for the query API's query shapes (a script, not a test):
 *   node --import tsx bench/sink/final.ts --tenant <tenant> [--runs 7]
 * Runs each query as the reader would (direct SQL over HTTP, admin user, query cache off) with and
 * without `FINAL` on the given tenant's rows, alternating, and prints the best and median ms of
 * each. With first write wins (docs/storage.md) the table holds one row per id, so both return the
 * same rows; the script checks it.
 */
import { admin, stack } from '../../services/sink/test/helpers.ts';

const argOf = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? String(process.argv[i + 1]) : def;
};
const tenant = argOf('tenant', '');
const runs = Number(argOf('runs', '7'));
if (!tenant) throw new Error('--tenant is required');
const table = `${stack.CLICKHOUSE_DATABASE}.events`;
const cols = 'event_id, event_type, timestamp, user_id, event_details';

async function one<T>(sql: string): Promise<{ ms: number; rows: T[] }> {
  const t0 = performance.now();
  const rs = await admin.query({
    query: sql,
    query_params: { t: tenant },
    format: 'JSONEachRow',
    clickhouse_settings: { use_query_cache: 0 },
  });
  const rows = await rs.json<T>();
  return { ms: performance.now() - t0, rows };
}

const sample = (
  await one<{ user_id: string; event_type: string; day: string; id: string }>(
    `SELECT user_id, event_type, toString(toDate(timestamp)) AS day, toString(event_id) AS id FROM ${table} WHERE tenant_id = {t:String} LIMIT 1`,
  )
).rows[0]!;
const cases: Record<string, (from: string) => string> = {
  'user_id, 100 rows': (f) =>
    `SELECT ${cols} FROM ${f} WHERE tenant_id = {t:String} AND user_id = '${sample.user_id}' ORDER BY timestamp DESC, event_id DESC LIMIT 100`,
  'event_type + one day, 100 rows': (f) =>
    `SELECT ${cols} FROM ${f} WHERE tenant_id = {t:String} AND event_type = '${sample.event_type}' AND toDate(timestamp) = '${sample.day}' ORDER BY timestamp DESC LIMIT 100`,
  'details filter, 100 rows': (f) =>
    `SELECT ${cols} FROM ${f} WHERE tenant_id = {t:String} AND details['customer.plan'] = 'pro' ORDER BY timestamp DESC LIMIT 100`,
  'count, whole tenant': (f) => `SELECT count() AS n FROM ${f} WHERE tenant_id = {t:String}`,
  'stats top event_type': (f) =>
    `SELECT event_type, count() AS n FROM ${f} WHERE tenant_id = {t:String} GROUP BY event_type ORDER BY n DESC LIMIT 10`,
  'get by id': (f) =>
    `SELECT ${cols} FROM ${f} WHERE tenant_id = {t:String} AND event_id = '${sample.id}' LIMIT 1`,
};

const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { best: +s[0]!.toFixed(1), p50: +s[Math.floor(s.length / 2)]!.toFixed(1) };
};
const out: Record<string, unknown> = {};
for (const [name, sql] of Object.entries(cases)) {
  const withFinal: number[] = [];
  const without: number[] = [];
  await one(sql(`${table} FINAL`));
  await one(sql(table));
  for (let i = 0; i < runs; i++) {
    const a = await one(sql(`${table} FINAL`));
    const b = await one(sql(table));
    if (JSON.stringify(a.rows) !== JSON.stringify(b.rows))
      throw new Error(`${name}: FINAL changes the result`);
    withFinal.push(a.ms);
    without.push(b.ms);
  }
  const f = stat(withFinal);
  const n = stat(without);
  out[name] = {
    final_best: f.best,
    final_p50: f.p50,
    plain_best: n.best,
    plain_p50: n.p50,
    ratio_p50: +(f.p50 / n.p50).toFixed(2),
  };
}
console.table(out);
await admin.close();
