import { spawnSync } from 'node:child_process';
import { listenerOf, portOpen } from './procs.ts';

export class PreflightError extends Error {
  override name = 'PreflightError';
}

function run(cmd: string, args: string[]) {
  return spawnSync(cmd, args, { encoding: 'utf8' });
}

export function requireJava17() {
  const out = run('java', ['-version']);
  if (out.error) throw new PreflightError('Java 17+ not found on PATH (needed for the local Kafka broker).');
  const text = `${out.stderr}${out.stdout}`;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : 0;
  if (major < 17) throw new PreflightError(`Java 17+ required for Kafka 4, found: ${text.split('\n')[0]}`);
}

export function requireMaven() {
  if (run('mvn', ['-v']).error)
    throw new PreflightError('Maven (mvn) not found on PATH (it resolves the Kafka jars once).');
}

export function requirePython() {
  if (run('python3', ['-c', 'import ctypes']).error)
    throw new PreflightError('python3 not found on PATH (it hosts the ClickHouse engine from libchdb.so).');
}

/** Fails with who holds the port, unless it is free. */
export async function requireFreePort(host: string, port: number, purpose: string) {
  if (await portOpen(host, port)) {
    const who = listenerOf(port) ?? 'an unknown process';
    throw new PreflightError(`port ${port} (${purpose}) is in use by ${who}; stop it or set another port.`);
  }
}
