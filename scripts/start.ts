/**
 * `pnpm start`: the whole product on this machine. Starts the local Kafka + ClickHouse stack,
 * then the services that exist, waits for each to be healthy, prints URLs, the dev users and a
 * ready-to-paste token; Ctrl-C stops the services and the stack (data is kept).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLocalStackConfig, stackDown, stackUp } from '@audit/stack';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Development-only settings; production sets these through its own environment. */
const devEnv: Record<string, string> = {
  AUTH_JWT_SECRET: 'dev-only-secret-change-me-0123456789abcdef',
  AUTH_USERS_FILE: path.join(root, 'deploy/local/dev-users.json'),
  QUERY_CURSOR_SECRET: 'dev-only-cursor-secret-0123456789abcdef',
  LOG_LEVEL: 'warn',
};

const services = [
  { name: 'ingest-api', port: 8080 },
  { name: 'query-api', port: 8081 },
  { name: 'sink', port: 8082 },
].filter((s) => fs.existsSync(path.join(root, 'services', s.name, 'src/main.ts')));

const children: ChildProcess[] = [];

async function waitHealthy(url: string, child: ChildProcess, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} not healthy after ${timeoutMs / 1000} s`);
}

async function devToken(): Promise<string | undefined> {
  try {
    const res = await fetch('http://127.0.0.1:8080/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'acme-producer', password: 'devpass' }),
    });
    return res.ok ? ((await res.json()) as { token: string }).token : undefined;
  } catch {
    return undefined;
  }
}

async function main() {
  const cfg = loadLocalStackConfig();
  const up = await stackUp(cfg);
  console.log(`stack: kafka ${up.kafka}, clickhouse ${up.clickhouse} (${up.seconds.toFixed(1)} s)`);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping services…');
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
    );
    await stackDown(cfg);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  for (const s of services) {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'services', s.name, 'src/main.ts')],
      {
        cwd: root,
        env: { ...devEnv, ...process.env, PORT: String(s.port) },
        stdio: 'inherit',
        // Own process group: Ctrl-C reaches only this supervisor, which then stops each service
        // once with SIGTERM (a second signal would make a service skip its graceful flush).
        detached: true,
      },
    );
    children.push(child);
    child.once('exit', (code) => {
      if (!stopping) {
        console.error(`${s.name} exited with ${code}; stopping everything`);
        void stop(1);
      }
    });
  }
  await Promise.all(services.map((s, i) => waitHealthy(`http://127.0.0.1:${s.port}/healthz`, children[i]!)));

  console.log('');
  console.log(
    `Kafka       ${cfg.KAFKA_BROKERS.join(',')}  topics ${cfg.KAFKA_TOPIC}, ${cfg.KAFKA_DLQ_TOPIC}`,
  );
  console.log(
    `ClickHouse  ${cfg.CLICKHOUSE_URL} (native :${cfg.CLICKHOUSE_TCP_PORT}), read-only user ${cfg.CLICKHOUSE_READER_USER}`,
  );
  for (const s of services) console.log(`${s.name.padEnd(11)} http://127.0.0.1:${s.port}`);
  if (services.length === 0) {
    console.log('\nNo services exist yet: the stack is up on its own. Ctrl-C stops it.');
  } else {
    console.log('\nDev users (password "devpass"): acme-producer, globex-producer (events:write);');
    console.log('                                 acme-analyst, globex-analyst (events:read)');
    const token = await devToken();
    if (token) {
      console.log(`\nToken for acme-producer (15 min):\n\nexport TOKEN=${token}\n`);
      console.log(`Try: curl -X POST http://127.0.0.1:8080/events -H "Content-Type: application/json" \\`);
      console.log(`       -H "Authorization: Bearer $TOKEN" \\`);
      console.log(
        `       -d '{"event_type":"customer.account.created","timestamp":"2026-01-01T00:00:00Z","user_id":"u1","event_details":{"plan":"pro"}}'`,
      );
    }
    console.log('\nCtrl-C stops the services and the stack.');
  }
}

main().catch(async (err: unknown) => {
  console.error(`start: ${err instanceof Error ? err.message : String(err)}`);
  for (const c of children) c.kill('SIGTERM');
  process.exit(1);
});
