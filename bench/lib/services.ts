import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@audit/stack';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BENCH_JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';
export const BENCH_CURSOR_SECRET = 'bench-cursor-secret-0123456789abcdef012345';

export type ServiceName = 'ingest-api' | 'sink' | 'query-api' | 'sealer' | 'streamer';

export interface RunningService {
  name: ServiceName;
  url: string;
  pid: number;
  logFile: string;
  /** Peak resident set size so far (VmHWM), in MB. */
  peakRssMb(): number;
  /** CPU seconds (user + system) used so far; NaN once it is gone. */
  cpuSeconds(): number;
  /** SIGTERM (graceful: flush, commit, and write a --cpu-prof profile), SIGKILL after 20 s. */
  stop(): Promise<void>;
}

/** Peak RSS of a live process from /proc (Linux); NaN once it is gone. */
export function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds (user + system) a live process has used, from /proc (Linux); NaN once it is gone.
 * A per-event cost that contention on a shared box moves far less than a rate.
 */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function tail(file: string) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts `services/<name>/src/main.ts` as its own process (as in production: its own event loop
 * and heap) on a free port and waits for /readyz. Logs go to bench/results/logs/.
 */
export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  opts: { nodeArgs?: string[]; logDir: string },
): Promise<RunningService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  fs.mkdirSync(opts.logDir, { recursive: true });
  const logFile = path.join(opts.logDir, `${name}-${port}.log`);
  const out = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), '--import', 'tsx', path.join(repoRoot, 'services', name, 'src/main.ts')],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        AUTH_JWT_SECRET: BENCH_JWT_SECRET,
        QUERY_CURSOR_SECRET: BENCH_CURSOR_SECRET,
        LOG_LEVEL: 'warn',
        // Benches measure capacity, not the per-tenant limits (docs/limits.md).
        RATE_LIMIT_REQUESTS_PER_SECOND: '0',
        RATE_LIMIT_EVENTS_PER_SECOND: '0',
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', out, out],
    },
  );
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}); log:\n${tail(logFile)}`);
    }
    const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready after 90 s; log:\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = child.pid!;
  let lastPeak = Number.NaN;
  const peak = () => {
    const v = peakRssMb(pid);
    if (Number.isFinite(v)) lastPeak = v;
    return lastPeak;
  };
  return {
    name,
    url,
    pid,
    logFile,
    peakRssMb: peak,
    cpuSeconds: () => cpuSeconds(pid),
    async stop() {
      peak();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
