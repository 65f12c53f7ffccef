import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Row } from '../lib/report.ts';
import { ratio } from '../lib/report.ts';
import { repoRoot } from '../lib/services.ts';
import type { StageContext, StageResult } from './context.ts';

/**
 * Query latency: runs the query owner's bench/query/run.ts (loads or reuses a generated tenant of
 * N events, starts the real query-api, times each query through the API and as the same SQL
 * directly with the reader user) and adds the ratio of the direct SQL to the API latency.
 */
export async function queryStage(ctx: StageContext): Promise<StageResult> {
  const events = ctx.events ?? 1_000_000;
  const runs = ctx.quick ? 3 : 10;
  const exportRows = Math.min(events, ctx.quick ? 20_000 : 100_000);
  const script = path.join(repoRoot, 'bench/query/run.ts');
  if (!fs.existsSync(script)) throw new Error('bench/query/run.ts is missing (owned by the query engineer)');
  const args = ['--events', String(events), '--runs', String(runs), '--export-rows', String(exportRows)];
  const cwd = path.join(repoRoot, 'bench');
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    process.stderr.write(d);
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const rel = /results written to (\S+\.json)/.exec(out)?.[1];
  if (code !== 0 || !rel) throw new Error(`bench/query/run.ts exited ${code} without a result`);
  const file = path.resolve(cwd, rel);
  const result = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    rows: Row[];
    machine?: { loadavg?: number[] };
  };
  const rows = result.rows.map((r) => {
    // Latency: ceiling/ours (1 = the API costs nothing over the SQL). Export: ours/ceiling rows/s.
    const vs =
      r.api_rows_per_s !== undefined
        ? ratio(Number(r.api_rows_per_s), Number(r.sql_rows_per_s))
        : ratio(Number(r.sql_p50_ms), Number(r.api_p50_ms));
    return { ...r, stage: 'query', vs_sql_p50: vs };
  });
  return {
    rows,
    params: { events, runs, exportRows, queryResult: path.relative(repoRoot, file) },
    notes: [
      `tenant bench_q_${events} (generated over 30 days, reused between runs); ${runs} timed runs per case after one warm-up; both sides read FINAL`,
      'vs_sql_p50: direct-SQL p50 / API p50 for queries (1 = no API overhead); API rows/s / direct rows/s for the export',
    ],
  };
}
