import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { log, type Row, ratio, round } from '../lib/report.ts';
import { repoRoot } from '../lib/services.ts';
import type { StageContext, StageResult } from './context.ts';

/** What bench/sink/drain.ts (the sink owner's script) writes as its result. */
interface DrainResult {
  events: number;
  batchRows: number;
  avgValueBytes: number;
  produce: { seconds: number; rowsPerSec: number };
  ceiling: { seconds: number; rowsPerSec: number };
  sink: {
    seconds: number;
    rowsPerSec: number;
    rowsPerSecAfterFirstRow: number;
    firstRowSeconds: number;
    peakRssMb: number;
  };
  sinkToCeilingRatio: number;
}

/**
 * Backlog drain: runs the sink owner's bench/sink/drain.ts (a backlog of N events on a fresh
 * topic, the same rows inserted directly with @clickhouse/client as the ceiling, then the real
 * sink process drains the backlog) and reports its numbers as rows of this run.
 */
export async function sinkStage(ctx: StageContext): Promise<StageResult> {
  const n = ctx.events ?? (ctx.quick ? 30_000 : 200_000);
  const script = path.join(repoRoot, 'bench/sink/drain.ts');
  if (!fs.existsSync(script)) throw new Error('bench/sink/drain.ts is missing (owned by the sink engineer)');
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--events', String(n)], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    process.stderr.write(d);
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const file = /wrote (\S+\.json)/.exec(out)?.[1];
  if (code !== 0 || !file) throw new Error(`bench/sink/drain.ts exited ${code} without a result`);
  log('');
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as DrainResult;
  const load1 = round(os.loadavg()[0]!, 1);
  const rows: Row[] = [
    {
      stage: 'sink',
      case: 'ceiling: direct insert (@clickhouse/client, JSONEachRow)',
      rows_per_s: r.ceiling.rowsPerSec,
      seconds: round(r.ceiling.seconds, 1),
      load1,
    },
    {
      stage: 'sink',
      case: 'sink drains the backlog (from start)',
      rows_per_s: r.sink.rowsPerSec,
      seconds: round(r.sink.seconds, 1),
      vs_ceiling: ratio(r.sink.rowsPerSec, r.ceiling.rowsPerSec),
      peak_rss_mb: r.sink.peakRssMb,
      load1,
    },
    {
      stage: 'sink',
      case: 'sink after its first insert (steady)',
      rows_per_s: r.sink.rowsPerSecAfterFirstRow,
      seconds: round(r.sink.seconds - r.sink.firstRowSeconds, 1),
      vs_ceiling: ratio(r.sink.rowsPerSecAfterFirstRow, r.ceiling.rowsPerSec),
      load1,
    },
    {
      stage: 'sink',
      case: 'backlog produced with kafkajs (for reference)',
      rows_per_s: r.produce.rowsPerSec,
      seconds: round(r.produce.seconds, 1),
      load1,
    },
  ];
  return {
    rows,
    params: { events: n, drainResult: path.relative(repoRoot, file), batchRows: r.batchRows },
    notes: [
      `${r.events} events of ${r.avgValueBytes} bytes; sink batches of ${r.batchRows} rows; first insert after ${round(r.sink.firstRowSeconds, 1)} s (group join + first batch)`,
    ],
  };
}
