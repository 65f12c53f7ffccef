import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startClickHouse, stopClickHouse } from './clickhouse.ts';
import { type LocalStackConfig, loadLocalStackConfig } from './config.ts';
import { startKafka, stopKafka } from './kafka.ts';
import { repoRoot } from './paths.ts';
import { stackDown, stackUp } from './stack.ts';

/**
 * A second, private Kafka broker and ClickHouse server on free ports, for fault tests that stop
 * and restart servers without disturbing the shared stack other test files use.
 */
export interface PrivateStack {
  cfg: LocalStackConfig;
  /** Environment a service (or a child process) needs to use this stack. */
  env: Record<string, string>;
  stopKafka(): Promise<void>;
  startKafka(): Promise<void>;
  stopClickHouse(): Promise<void>;
  startClickHouse(): Promise<void>;
  /** Stops both servers and deletes the stack's data. */
  destroy(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export async function startPrivateStack(
  name: string,
  log: (s: string) => void = () => {},
): Promise<PrivateStack> {
  const dir = path.join(repoRoot, '.local', 'private', `${name}-${randomUUID().slice(0, 8)}`);
  const env = {
    KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
    KAFKA_CONTROLLER_PORT: String(await freePort()),
    CLICKHOUSE_URL: `http://127.0.0.1:${await freePort()}`,
    CLICKHOUSE_TCP_PORT: String(await freePort()),
    STACK_DIR: dir,
  };
  const cfg = loadLocalStackConfig({ ...process.env, ...env });
  await stackUp(cfg, log);
  const { STACK_DIR: _, ...serviceEnv } = env;
  return {
    cfg,
    env: serviceEnv,
    stopKafka: async () => void (await stopKafka(cfg)),
    startKafka: async () => void (await startKafka(cfg, log)),
    stopClickHouse: async () => void (await stopClickHouse(cfg)),
    startClickHouse: async () => void (await startClickHouse(cfg, log)),
    destroy: async () => {
      await stackDown(cfg, log);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Stops every private stack under `.local/private` (e.g. left by an interrupted test run) and deletes it. */
export async function downPrivateStacks(log: (s: string) => void = console.log): Promise<void> {
  const root = path.join(repoRoot, '.local', 'private');
  if (!fs.existsSync(root)) return;
  for (const name of fs.readdirSync(root)) {
    const cfg = loadLocalStackConfig({ ...process.env, STACK_DIR: path.join(root, name) });
    await stackDown(cfg, (s) => log(`${name}: ${s}`));
    fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
}
