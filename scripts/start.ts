/**
 * `npm start` (after scripts/bootstrap.mjs): the whole product on this machine. Starts the local
 * Kafka + ClickHouse stack and the five services (ingest API, query API, sink, sealer, streamer), waits until each is healthy, loads the demo
 * data (scripts/demo-data.ts) unless `--no-demo`, and prints addresses, dev users, tokens and
 * example queries (scripts/banner.ts). Ctrl-C stops the services and the stack (data is kept).
 *
 * Ports: the stack's come from packages/config (KAFKA_BROKERS, CLICKHOUSE_URL, …), the services'
 * from INGEST_PORT, QUERY_PORT, SINK_PORT, SEALER_PORT and STREAMER_PORT (defaults 8080–8084).
 *
 * The sealer signs with a key generated once into the stack directory (scripts/dev-signing-key.ts)
 * and writes its witness file there too; SEALER_SIGNING_KEY / SEALER_SIGNING_KEY_FILE override it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { env, loadConfig, stackSchema } from '@audit/config';
import { loadLocalStackConfig, stackDown, stackUp } from '@audit/stack';
import { NoteSigner } from '@audit/tlog/node';
import { bannerLines, EXAMPLE_TENANT } from './banner.ts';
import { type DemoLoad, loadDemo, login } from './demo-data.ts';
import { devAdminKey } from './dev-admin-key.ts';
import { devSigningKey } from './dev-signing-key.ts';
import { devStreamsKey } from './dev-streams-key.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Development-only settings; production sets these through its own environment. */
const devEnv: Record<string, string> = {
  AUTH_JWT_SECRET: 'dev-only-secret-change-me-0123456789abcdef',
  AUTH_USERS_FILE: path.join(root, 'deploy/local/dev-users.json'),
  QUERY_CURSOR_SECRET: 'dev-only-cursor-secret-0123456789abcdef',
  LOG_LEVEL: 'warn',
  // A laptop's log streams go to receivers on the laptop (docs/streams.md): never in production.
  STREAMS_ALLOW_PRIVATE_NETWORKS: 'true',
  STREAMS_ALLOW_PLAINTEXT: 'true',
};

const portsSchema = stackSchema.pick({}).extend({
  INGEST_PORT: env.port(8080),
  QUERY_PORT: env.port(8081),
  SINK_PORT: env.port(8082),
  SEALER_PORT: env.port(8083),
  STREAMER_PORT: env.port(8084),
});

/**
 * The sealer's key settings and its verifier key: the operator's key when one is set in the
 * environment, else the local stack's own (created on the first start).
 */
function sealerKey(stackDir: string): { env: Record<string, string>; verifierKey: string } {
  const given = process.env.SEALER_SIGNING_KEY || '';
  const givenFile = process.env.SEALER_SIGNING_KEY_FILE || '';
  if (given !== '' || givenFile !== '') {
    const text = given !== '' ? given : fs.readFileSync(givenFile, 'utf8');
    return { env: {}, verifierKey: new NoteSigner(text).verifierKey };
  }
  const key = devSigningKey(stackDir);
  return { env: { SEALER_SIGNING_KEY_FILE: key.file }, verifierKey: key.verifierKey };
}

const USAGE = 'usage: npm start [-- --no-demo]';

function parseArgs(argv: string[]): { demo: boolean } {
  let demo = true;
  for (const a of argv) {
    if (a === '--no-demo') demo = false;
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return { demo };
}

const children: ChildProcess[] = [];

async function waitHealthy(url: string, child: ChildProcess, timeoutMs = 90_000) {
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

async function main() {
  const t0 = performance.now();
  let args: { demo: boolean };
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`start: ${(err as Error).message}`);
    process.exit(2);
  }
  const cfg = loadLocalStackConfig();
  const ports = loadConfig(portsSchema);
  const services = [
    { name: 'ingest-api', port: ports.INGEST_PORT },
    { name: 'query-api', port: ports.QUERY_PORT },
    { name: 'sink', port: ports.SINK_PORT },
    { name: 'sealer', port: ports.SEALER_PORT },
    { name: 'streamer', port: ports.STREAMER_PORT },
  ].map((s) => ({ ...s, url: `http://127.0.0.1:${s.port}` }));

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping services…');
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
    );
    await stackDown(cfg);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    const up = await stackUp(cfg);
    console.log(`stack: kafka ${up.kafka}, clickhouse ${up.clickhouse} (${up.seconds.toFixed(1)} s)`);

    const key = sealerKey(cfg.STACK_DIR);
    fs.mkdirSync(path.join(cfg.STACK_DIR, 'sealer'), { recursive: true });
    const sealerEnv: Record<string, string> = {
      ...key.env,
      SEALER_WITNESS_FILE: path.join(cfg.STACK_DIR, 'sealer', 'witness.ndjson'),
    };

    // The first operator key, unless the environment names one.
    const adminKey = process.env.ADMIN_BOOTSTRAP_KEY_FILE ? undefined : devAdminKey(cfg.STACK_DIR);
    const queryEnv: Record<string, string> = adminKey ? { ADMIN_BOOTSTRAP_KEY_FILE: adminKey.file } : {};
    // Log streams: the secrets are sealed to the streamer's key, unless the environment names one.
    let streamerEnv: Record<string, string> = {};
    if (!process.env.STREAMER_SECRETS_KEY && !process.env.STREAMER_SECRETS_KEY_FILE) {
      const streamsKey = devStreamsKey(cfg.STACK_DIR);
      streamerEnv = { STREAMER_SECRETS_KEY_FILE: streamsKey.file };
      queryEnv.STREAMS_SECRETS_PUBLIC_KEY = streamsKey.publicKey;
    }

    const t1 = performance.now();
    for (const s of services) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(root, 'services', s.name, 'src/main.ts')],
        {
          cwd: root,
          env: {
            ...devEnv,
            ...(s.name === 'sealer' ? sealerEnv : {}),
            ...(s.name === 'query-api' ? queryEnv : {}),
            ...(s.name === 'streamer' ? streamerEnv : {}),
            ...process.env,
            PORT: String(s.port),
          },
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
    await Promise.all(services.map((s, i) => waitHealthy(`${s.url}/healthz`, children[i]!)));
    console.log(
      `services: ${services.map((s) => s.name).join(', ')} healthy (${((performance.now() - t1) / 1000).toFixed(1)} s)`,
    );

    const ingestUrl = services[0]!.url;
    const queryUrl = services[1]!.url;
    const sealerUrl = services[3]!.url;
    let demo: DemoLoad | 'skipped' = 'skipped';
    if (args.demo) {
      console.log('demo data: checking…');
      demo = await loadDemo({ ingestUrl, queryUrl, stateFile: path.join(cfg.STACK_DIR, 'demo-data.json') });
    }
    const [writeToken, readToken] = await Promise.all([
      login(ingestUrl, EXAMPLE_TENANT.producer),
      login(queryUrl, EXAMPLE_TENANT.analyst),
    ]);
    const lines = bannerLines({
      kafkaBrokers: cfg.KAFKA_BROKERS,
      topics: [cfg.KAFKA_TOPIC, cfg.KAFKA_DLQ_TOPIC],
      tenantTopic: { topic: `${cfg.KAFKA_TENANT_TOPIC_PREFIX}acme`, user: 'tenant-acme' },
      clickhouseUrl: cfg.CLICKHOUSE_URL,
      clickhouseTcpPort: cfg.CLICKHOUSE_TCP_PORT,
      // SQL as the example tenant's analyst: a read-only user that sees only that tenant's rows
      // (deploy/local/clickhouse/dev-analysts.xml; production creates them, docs/analysts.md).
      readerUser: `analyst_${EXAMPLE_TENANT.tenant}`,
      readerPassword: `analyst-${EXAMPLE_TENANT.tenant}-dev-password`,
      readerPasswordIsDefault: true,
      services,
      ingestUrl,
      queryUrl,
      demo,
      writeToken,
      readToken,
      verifierKey: key.verifierKey,
      sealerUrl,
      adminKeyFile: adminKey?.file,
    });
    console.log(lines.join('\n'));
    console.log(`\nready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    const cause = err instanceof Error && err.cause ? ` (${String(err.cause)})` : '';
    console.error(`start: ${err instanceof Error ? err.message : String(err)}${cause}`);
    await stop(1);
  }
}

void main();
