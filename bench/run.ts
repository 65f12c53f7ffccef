/**
 * Benchmarks against ceilings measured in the same run, on the local stack (Kafka 127.0.0.1:9092,
 * ClickHouse 127.0.0.1:8123; started if down, never stopped). A script, not a test; never in CI.
 *
 *   pnpm bench [--stages ingest,sink,freshness,query,kafka-clients,seal,viewer,streams] [--events N]
 *              [--concurrency a,b] [--seconds S] [--quick] [--profile]
 *              [--shapes json1,json100,json1000,ndjson1000]
 *
 * Prints a table per stage (absolute numbers and the ratio to the stage's ceiling) and writes
 * bench/results/bench-<stage>-<time>.json with machine info, load average and git sha.
 */
import { parseArgs } from 'node:util';
import { loadConfig, stackSchema } from '@audit/config';
import { loadLocalStackConfig, stackStatus, stackUp } from '@audit/stack';
import { loadAvg, log, printTable, writeResults } from './lib/report.ts';
import { benchKafka } from './lib/topics.ts';
import { logDirFor, type Stage, type StageContext } from './stages/context.ts';
import { freshnessStage } from './stages/freshness.ts';
import { ingestStage } from './stages/ingest.ts';
import { kafkaClientsStage } from './stages/kafka-clients.ts';
import { queryStage } from './stages/query.ts';
import { sealStage } from './stages/seal.ts';
import { sinkStage } from './stages/sink.ts';
import { streamsStage } from './stages/streams.ts';
import { viewerStage } from './stages/viewer.ts';

const STAGES: Record<string, Stage> = {
  ingest: ingestStage,
  'kafka-clients': kafkaClientsStage,
  sink: sinkStage,
  freshness: freshnessStage,
  query: queryStage,
  seal: sealStage,
  viewer: viewerStage,
  streams: streamsStage,
};

const { values: args } = parseArgs({
  options: {
    stages: { type: 'string', default: 'ingest,kafka-clients,sink,freshness,query,seal,viewer,streams' },
    events: { type: 'string' },
    concurrency: { type: 'string' },
    seconds: { type: 'string' },
    shapes: { type: 'string' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  console.log(
    'pnpm bench [--stages ingest,kafka-clients,sink,freshness,query,seal,viewer,streams] [--events N] [--concurrency a,b] [--seconds S] [--quick] [--profile] [--shapes json1,json100,json1000,ndjson1000]',
  );
  process.exit(0);
}

const selected = args.stages.split(',').map((s) => s.trim());
const unknown = selected.filter((s) => !STAGES[s]);
if (unknown.length > 0) {
  console.error(`unknown stage(s): ${unknown.join(', ')}; known: ${Object.keys(STAGES).join(', ')}`);
  process.exit(2);
}
const positive = (name: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number`);
  return n;
};

async function ensureStack() {
  const cfg = loadLocalStackConfig(process.env);
  const s = await stackStatus(cfg);
  if (s.kafka.listening && s.clickhouse.healthy) return;
  log('local stack not fully up; starting it (pnpm stack:up)…');
  await stackUp(cfg, log);
}

async function main() {
  await ensureStack();
  const stack = loadConfig(stackSchema);
  const runId = new Date().toISOString().replaceAll(':', '-');
  const ctx: StageContext = {
    quick: args.quick,
    events: positive('events', args.events),
    seconds: positive('seconds', args.seconds),
    concurrency: args.concurrency?.split(',').map((c) => positive('concurrency', c)!),
    shapes: args.shapes?.split(','),
    profile: args.profile,
    brokers: stack.KAFKA_BROKERS,
    sasl: { username: stack.KAFKA_ADMIN_USERNAME, password: stack.KAFKA_ADMIN_PASSWORD },
    kafka: benchKafka(stack),
    logDir: logDirFor(runId),
  };
  let failed = 0;
  for (const name of selected) {
    const t0 = performance.now();
    const before = loadAvg();
    log(`\n== ${name} (load average ${before.join(' ')}) ==`);
    try {
      const result = await STAGES[name]!(ctx);
      const seconds = Math.round((performance.now() - t0) / 100) / 10;
      console.log(
        `\n### ${name} (${seconds} s, load average before ${before.join(' ')}, after ${loadAvg().join(' ')})\n`,
      );
      printTable(result.rows);
      for (const n of result.notes ?? []) console.log(n.startsWith('  ') ? n : `- ${n}`);
      writeResults(`bench-${name}`, result.rows, {
        ...result.params,
        quick: args.quick,
        seconds,
        loadavgBefore: before,
        loadavgAfter: loadAvg(),
        notes: result.notes ?? [],
      });
    } catch (err) {
      failed++;
      console.error(`stage ${name} failed:`, err);
    }
  }
  process.exit(failed > 0 ? 1 : 0);
}

await main();
