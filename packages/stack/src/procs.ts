import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A process the stack started, remembered by pid file so `down` needs no shared memory. */
export interface Managed {
  name: string;
  pidFile: string;
}

export function managed(runDir: string, name: string): Managed {
  return { name, pidFile: path.join(runDir, `${name}.pid`) };
}

export function readPid(m: Managed): number | undefined {
  try {
    const pid = Number(fs.readFileSync(m.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; it is not running.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

export function runningPid(m: Managed): number | undefined {
  const pid = readPid(m);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/** Starts a detached process group writing to a log file, so it outlives the CLI that started it. */
export function startDetached(
  m: Managed,
  command: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): number {
  fs.mkdirSync(path.dirname(m.pidFile), { recursive: true });
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const log = fs.openSync(opts.logFile, 'a');
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error(`${m.name}: could not start ${command}`);
  child.unref();
  fs.writeFileSync(m.pidFile, String(child.pid));
  return child.pid;
}

/** SIGTERM to the whole process group, then SIGKILL after the grace period. */
export async function stopManaged(
  m: Managed,
  graceMs: number,
): Promise<'stopped' | 'killed' | 'not running'> {
  const pid = runningPid(m);
  if (pid === undefined) {
    fs.rmSync(m.pidFile, { force: true });
    return 'not running';
  }
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) break;
    await sleep(100);
  }
  let outcome: 'stopped' | 'killed' = 'stopped';
  if (isAlive(pid)) {
    signalGroup(pid, 'SIGKILL');
    outcome = 'killed';
    while (isAlive(pid)) await sleep(50);
  }
  fs.rmSync(m.pidFile, { force: true });
  return outcome;
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function portOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Who listens on a TCP port, for an error message an operator can act on. */
export function listenerOf(port: number): string | undefined {
  const out = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  if (out.status !== 0 || !out.stdout.trim()) return undefined;
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(out.stdout);
  return m ? `pid ${m[2]} (${m[1]})` : 'another process';
}

export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  hint: () => string,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`${what} did not become healthy within ${Math.round(timeoutMs / 1000)} s. ${hint()}`);
}

export function tail(file: string, lines = 15): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
