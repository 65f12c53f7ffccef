/**
 * Sink drain benchmark (a script, not a test):
 *   node --import tsx bench/sink/drain.ts [--events 1000000] [--batch-rows 50000]
 * 1. produces N events to a fresh 6-partition topic, and — as the ceiling — inserts the same rows
 *    straight into a scratch copy of audit.events with @clickhouse/client (50k-row JSONEachRow
 *    inserts, timed on the inserts only);
 * 2. starts the sink as a child process on the backlog and times it until all N rows are stored and
 *    committed; peak RSS is the child's VmHWM.
 * `--cpu-prof <dir>` writes a V8 CPU profile of the sink child (summarise it with
 * `pnpm --filter @audit/bench exec tsx profile-summary.ts <file> 30`).
 * Prints a table and writes bench/results/sink-<timestamp>.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toRow } from '@audit/clickhouse';
import {
  admin,
  createTopics,
  kafka,
  makeEvents,
  stack,
  toMessage,
} from '../../services/sink/test/helpers.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('events', 1_000_000);
const strArg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? String(process.argv[i + 1]) : def;
};
/** The sink entry point to run (lets a before/after comparison run an older copy of the source). */
const SINK_MAIN = strArg('main', 'services/sink/src/main.ts');
const BATCH = arg('batch-rows', 50_000);
/** `--cpu-prof <dir>`: run the sink child with --cpu-prof (written on its graceful SIGTERM exit). */
const CPU_PROF_DIR = strArg('cpu-prof', '');
const CHUNK = 50_000;
const db = stack.CLICKHOUSE_DATABASE;

async function count(table: string, tenant: string): Promise<number> {
  const rs = await admin.query({
    query: `SELECT count() AS n FROM ${table} WHERE tenant_id = {t:String}`,
    query_params: { t: tenant },
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ n: string }>())[0]?.n ?? 0);
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** CPU seconds (user + system) the process has used: a per-row cost that contention barely moves. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of /proc/<pid>/stat (utime, stime) in clock ticks (USER_HZ = 100 on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main() {
  const t = await createTopics(6);
  const tenant = `t_bench_${randomBytes(4).toString('hex')}`;
  const ceilingTable = `${db}.bench_ceiling_${randomBytes(4).toString('hex')}`;
  await admin.command({ query: `CREATE TABLE ${ceilingTable} AS ${db}.events` });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();

  let produceMs = 0;
  let ceilingMs = 0;
  let valueBytes = 0;
  for (let done = 0; done < N; done += CHUNK) {
    const events = makeEvents(Math.min(CHUNK, N - done), tenant);
    const messages = events.map(toMessage);
    for (const m of messages) valueBytes += Buffer.byteLength(m.value as string);
    let t0 = performance.now();
    for (let i = 0; i < messages.length; i += 4000) {
      await producer.send({ topic: t.topic, acks: -1, messages: messages.slice(i, i + 4000) });
    }
    produceMs += performance.now() - t0;
    const rows = events.map((e, i) => toRow(e, 0, String(done + i)));
    t0 = performance.now();
    for (let i = 0; i < rows.length; i += BATCH) {
      await admin.insert({
        table: ceilingTable,
        values: rows.slice(i, i + BATCH),
        format: 'JSONEachRow',
        clickhouse_settings: { async_insert: 0 },
      });
    }
    ceilingMs += performance.now() - t0;
    process.stdout.write(`\rproduced ${done + events.length}/${N}`);
  }
  await producer.disconnect();
  process.stdout.write('\n');

  const child: ChildProcess = spawn(
    process.execPath,
    [...(CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR] : []), '--import', 'tsx', SINK_MAIN],
    {
      cwd: root,
      env: {
        ...process.env,
        LOG_LEVEL: process.env.SINK_LOG_LEVEL ?? 'warn',
        KAFKA_TOPIC: t.topic,
        KAFKA_DLQ_TOPIC: t.dlq,
        SINK_GROUP_ID: t.groupId,
        KAFKA_TENANT_TOPIC_PREFIX: t.tenantPrefix,
        PORT: '0',
        HOST: '127.0.0.1',
        SINK_BATCH_MAX_ROWS: String(BATCH),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const t0 = performance.now();
  let firstRowMs: number | undefined;
  let peak = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    peak = Math.max(peak, peakRssMb(child.pid!));
    const n = await count(`${db}.events`, tenant);
    if (n > 0 && firstRowMs === undefined) firstRowMs = performance.now() - t0;
    if (n >= N && (await t.committed(t.groupId)) >= N) break;
  }
  const sinkMs = performance.now() - t0;
  peak = Math.max(peak, peakRssMb(child.pid!));
  const sinkCpu = cpuSeconds(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));

  const ceilingRate = N / (ceilingMs / 1000);
  const sinkRate = N / (sinkMs / 1000);
  const steadyRate = N / ((sinkMs - (firstRowMs ?? 0)) / 1000);
  const result = {
    when: new Date().toISOString(),
    events: N,
    batchRows: BATCH,
    avgValueBytes: Math.round(valueBytes / N),
    produce: { seconds: produceMs / 1000, rowsPerSec: Math.round(N / (produceMs / 1000)) },
    ceiling: { seconds: ceilingMs / 1000, rowsPerSec: Math.round(ceilingRate) },
    sink: {
      seconds: sinkMs / 1000,
      rowsPerSec: Math.round(sinkRate),
      rowsPerSecAfterFirstRow: Math.round(steadyRate),
      firstRowSeconds: (firstRowMs ?? 0) / 1000,
      peakRssMb: Math.round(peak),
      /** CPU of the sink process from spawn to the last row (start-up included). */
      cpuSeconds: sinkCpu,
      cpuMicrosPerRow: Math.round((sinkCpu * 1e6) / N),
    },
    sinkToCeilingRatio: Number((sinkRate / ceilingRate).toFixed(3)),
  };
  console.table({
    'kafkajs produce (bench)': {
      rows_per_s: result.produce.rowsPerSec,
      seconds: result.produce.seconds.toFixed(1),
    },
    'ceiling: direct insert': {
      rows_per_s: result.ceiling.rowsPerSec,
      seconds: result.ceiling.seconds.toFixed(1),
    },
    'sink: Kafka → ClickHouse': {
      rows_per_s: result.sink.rowsPerSec,
      seconds: result.sink.seconds.toFixed(1),
      peak_rss_mb: result.sink.peakRssMb,
      cpu_us_per_row: result.sink.cpuMicrosPerRow,
    },
    'sink after its first insert': {
      rows_per_s: result.sink.rowsPerSecAfterFirstRow,
      seconds: (result.sink.seconds - result.sink.firstRowSeconds).toFixed(1),
    },
  });
  console.log(
    `sink / ceiling = ${result.sinkToCeilingRatio} from start, ${(steadyRate / ceilingRate).toFixed(3)} after the first insert`,
  );
  const out = path.join(root, 'bench/results', `sink-${result.when.replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${out}`);

  await admin.command({ query: `DROP TABLE IF EXISTS ${ceilingTable}` });
  await t.drop();
  await admin.close();
}

await main();
