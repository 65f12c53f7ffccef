import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@audit/stack';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TEST_JWT_SECRET = 'e2e-test-secret-0123456789abcdef0123456789';

export type ServiceName = 'ingest-api' | 'sink' | 'query-api' | 'sealer' | 'streamer';

/** One service running as its own OS process, so tests can SIGKILL and restart it. */
export interface ServiceProcess {
  name: ServiceName;
  url: string;
  child: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  restart(): Promise<void>;
  logFile: string;
}

async function waitHealthy(url: string, child: ChildProcess, logFile: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${url}: exited (${child.exitCode ?? child.signalCode}); log:\n${tailFile(logFile)}`);
    }
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms; log:\n${tailFile(logFile)}`);
}

function tailFile(file: string) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  logDir: string,
): Promise<ServiceProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(logDir, `${name}.log`);
  fs.mkdirSync(logDir, { recursive: true });
  const fullEnv = {
    ...process.env,
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    QUERY_CURSOR_SECRET: 'e2e-cursor-secret-0123456789abcdef0123',
    LOG_LEVEL: 'info',
    // These suites load one tenant as fast as they can; tests of the limits set them in `env`.
    RATE_LIMIT_REQUESTS_PER_SECOND: '0',
    RATE_LIMIT_EVENTS_PER_SECOND: '0',
    ...env,
    PORT: String(port),
  };
  const launch = () => {
    const out = fs.openSync(logFile, 'a');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'services', name, 'src/main.ts')],
      {
        cwd: root,
        env: fullEnv,
        stdio: ['ignore', out, out],
      },
    );
    fs.closeSync(out);
    return child;
  };
  const svc: ServiceProcess = {
    name,
    url,
    logFile,
    child: launch(),
    kill: (signal = 'SIGKILL') =>
      new Promise((resolve) => {
        const c = svc.child;
        if (c.exitCode !== null || c.signalCode !== null) return resolve(c.exitCode);
        c.once('exit', (code) => resolve(code));
        c.kill(signal);
      }),
    restart: async () => {
      await svc.kill('SIGKILL');
      svc.child = launch();
      await waitHealthy(url, svc.child, logFile);
    },
  };
  await waitHealthy(url, svc.child, logFile);
  return svc;
}
