import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Row {
  stage: string;
  case: string;
  [metric: string]: string | number;
}

export const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function latencySummary(samplesMs: number[]) {
  const s = Float64Array.from(samplesMs).sort();
  const arr = Array.from(s);
  return {
    p50_ms: round(percentile(arr, 50)),
    p99_ms: round(percentile(arr, 99)),
    p999_ms: round(percentile(arr, 99.9)),
  };
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** ours / ceiling as a fraction (1 = at the ceiling); '' when either side is missing. */
export function ratio(ours: number | undefined, ceiling: number | undefined): number | string {
  if (!ours || !ceiling || !Number.isFinite(ours) || !Number.isFinite(ceiling)) return '';
  return round(ours / ceiling, 3);
}

/** 1-, 5- and 15-minute load averages: on a shared 2-core box they say how contended a run was. */
export const loadAvg = () => os.loadavg().map((n) => round(n, 2));

export function machineInfo() {
  return {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadavg: loadAvg(),
  };
}

export function printTable(rows: Row[]) {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === undefined ? '' : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(cols));
  // The separator as Biome formats Markdown tables, so pasted output stays unchanged.
  console.log(`|${widths.map((w) => ` ${'-'.repeat(w)} `).join('|')}|`);
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]))));
}

export function gitSha(): string {
  try {
    return execSync('git rev-parse --short HEAD', {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown'; // not a git checkout
  }
}

/** Writes `bench/results/<name>-<timestamp>.json` (machine info, load average, git sha) and returns its path. */
export function writeResults(name: string, rows: Row[], params: Record<string, unknown>): string {
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}-${new Date().toISOString().replaceAll(':', '-')}.json`);
  const body = { name, sha: gitSha(), at: new Date().toISOString(), machine: machineInfo(), params, rows };
  fs.writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
  return file;
}

export function progress(label: string, done: number, total: number) {
  if (!process.stderr.isTTY && done !== total && done % Math.max(1, Math.floor(total / 10)) !== 0) return;
  process.stderr.write(
    `\r${label}: ${done}/${total} (${Math.round((done / total) * 100)}%)${done === total ? '\n' : ''}`,
  );
}

let lastStatusAt = 0;
/** One line of progress on stderr: overwritten on a TTY; otherwise appended at most every 5 s. */
export function status(text: string, final = false) {
  if (process.stderr.isTTY) {
    process.stderr.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
  } else if (final || Date.now() - lastStatusAt > 5000) {
    lastStatusAt = Date.now();
    process.stderr.write(`${text}\n`);
  }
}

export const log = (text: string) => {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
  process.stderr.write(`${text}\n`);
};
