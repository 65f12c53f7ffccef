/**
 * The runtime stage of deploy/docker/Dockerfile, exercised without a Docker engine: each service
 * is bundled by deploy/docker/bundle.sh (the script the image build runs), the output is copied
 * to a directory with no node_modules anywhere above it (like the image's /app), and started with
 * the image's ENV and ENTRYPOINT plus its docker-compose.yml environment — endpoints rewritten to
 * the running stack, and a private topic, consumer group and tenant so nothing is shared with
 * other tests. The image's HEALTHCHECK command must pass, an event sent to the bundled ingest-api
 * must come back from the bundled query-api through the bundled sink, and SIGTERM must end each
 * process with exit code 0.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID, scryptSync } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackSchema } from '@audit/config';
import { aclTopicsOf, applyAcls, createTopicsReady, serviceAcls, stackKafka } from '@audit/kafka';
import { freePort } from '@audit/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');
const dockerfile = read('deploy/docker/Dockerfile').replace(/\\\n/g, ' ');
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, { environment: Record<string, string | number>; volumes?: string[] }>;
};
const stack = stackSchema.parse(process.env);

const SERVICES = ['ingest-api', 'sink', 'query-api', 'sealer', 'streamer'] as const;
type Name = (typeof SERVICES)[number];

/** The esbuild the repository already has (through tsx), pinned to the Dockerfile's version. */
function esbuildBinary(): string {
  const tsx = fs.realpathSync(path.join(root, 'node_modules/tsx'));
  const pkg = createRequire(path.join(tsx, 'package.json')).resolve('esbuild/package.json');
  const version = JSON.parse(fs.readFileSync(pkg, 'utf8')).version as string;
  expect(dockerfile).toContain(`ARG ESBUILD_VERSION=${version}\n`);
  return path.join(path.dirname(pkg), 'bin/esbuild');
}

/** `${X:-dev}` → dev, as compose does with nothing set. */
const interpolate = (v: string) => v.replace(/\$\{\w+:-([^}]*)\}/g, '$1');

function imageEnv(service: Name, port: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, k, v] of (/^ENV (.*)$/m.exec(dockerfile)?.[1] ?? '').matchAll(/(\w+)=(\S+)/g)) {
    // Build arguments the Dockerfile expands: ${PORT}, ${SERVICE}.
    const args: Record<string, string> = { PORT: String(port), SERVICE: service };
    env[k!] = v!.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
  }
  return env;
}

const healthcheck = JSON.parse(/^HEALTHCHECK .*? CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];

/** Users file with one writer and one reader in a private tenant (a cheap scrypt cost for tests). */
function usersFile(dir: string, tenant: string): string {
  const hash = (password: string) => {
    const salt = randomBytes(16);
    const key = scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 });
    return `scrypt$1024$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
  };
  const file = path.join(dir, 'users.json');
  fs.writeFileSync(
    file,
    JSON.stringify([
      { username: 'writer', password_hash: hash('pw-writer'), tenant, scopes: ['events:write'] },
      { username: 'reader', password_hash: hash('pw-reader'), tenant, scopes: ['events:read'] },
    ]),
  );
  return file;
}

interface Running {
  child: ChildProcess;
  port: number;
  exit: Promise<number | null>;
  log: () => string;
}

describe('service bundles as the image runs them', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-image-'));
  const topic = `test.${randomUUID()}`;
  const tenant = `t_${randomBytes(6).toString('hex')}`;
  const running = new Map<Name, Running>();
  const kafka = stackKafka(stack, 'bundle-test');
  const sinkGroup = `bundle-test-${randomUUID()}`;

  async function start(service: Name, users: string): Promise<Running> {
    const dir = path.join(work, service);
    const port = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...imageEnv(service, port),
      ...Object.fromEntries(
        Object.entries(compose.services[service]!.environment).map(([k, v]) => [k, interpolate(String(v))]),
      ),
      // The running stack instead of the compose network; private topic, group and users.
      KAFKA_BROKERS: stack.KAFKA_BROKERS.join(','),
      CLICKHOUSE_URL: stack.CLICKHOUSE_URL,
      CLICKHOUSE_WRITER_PASSWORD: stack.CLICKHOUSE_WRITER_PASSWORD,
      CLICKHOUSE_READER_PASSWORD: stack.CLICKHOUSE_READER_PASSWORD,
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      KAFKA_TENANT_TOPIC_PREFIX: `${topic}.t.`,
      SINK_GROUP_ID: sinkGroup,
      AUTH_USERS_FILE: users,
      HOST: '127.0.0.1',
      PORT: String(port),
    };
    let output = '';
    const child = spawn(entrypoint[0] === 'node' ? process.execPath : entrypoint[0]!, entrypoint.slice(1), {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const r = { child, port, exit, log: () => output };
    running.set(service, r);
    // The image's HEALTHCHECK command, retried until it passes (Docker retries it the same way).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const probe = spawnSync(process.execPath, healthcheck.slice(1), { env: { PORT: String(port) } });
      if (probe.status === 0) break;
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`${service} never became healthy:\n${output}`);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    return r;
  }

  beforeAll(async () => {
    const esbuild = esbuildBinary();
    for (const service of SERVICES) {
      const out = path.join(work, `${service}-build`);
      const built = spawnSync('sh', ['deploy/docker/bundle.sh', service, out], {
        cwd: root,
        env: { ...process.env, ESBUILD: esbuild },
        encoding: 'utf8',
      });
      expect(built.status, built.stderr).toBe(0);
      // The runtime stage copies exactly this output to /app; no node_modules can leak in.
      fs.cpSync(out, path.join(work, service), { recursive: true });
    }
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsReady(admin, [
      { topic, partitions: 2 },
      { topic: `${topic}.dlq`, partitions: 1 },
    ]);
    // The bundles authenticate as compose configures them (each service's own principal): their
    // ACLs on this test's topics and group.
    const names = {
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      KAFKA_TENANT_TOPIC_PREFIX: `${topic}.t.`,
    };
    await applyAcls(admin, serviceAcls(aclTopicsOf({ ...stack, ...names }, { sink: sinkGroup })));
    await admin.disconnect();
  });

  afterAll(async () => {
    for (const r of running.values()) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => {});
    await admin.disconnect();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('bundles each service into dist/main.js, with what it reads at run time beside it', () => {
    const files = (service: Name) =>
      (fs.readdirSync(path.join(work, service), { recursive: true }) as string[]).sort();
    // Both APIs: Swagger UI's two files (/docs); the query API: the built viewer (/ui).
    const swagger = ['swagger-ui', 'swagger-ui/swagger-ui-bundle.js', 'swagger-ui/swagger-ui.css'];
    expect(files('ingest-api')).toEqual(['dist', 'dist/main.js', 'dist/main.js.map', ...swagger]);
    const queryFiles = files('query-api');
    expect(queryFiles.filter((f) => !f.startsWith('web'))).toEqual([
      'dist',
      'dist/main.js',
      'dist/main.js.map',
      ...swagger,
    ]);
    expect(queryFiles).toEqual(expect.arrayContaining(['web/index.html', 'web/audit-viewer.js']));
    expect(files('sealer')).toEqual(['dist', 'dist/main.js', 'dist/main.js.map']);
    expect(files('streamer')).toEqual(['dist', 'dist/main.js', 'dist/main.js.map']);
    const sinkFiles = files('sink');
    expect(sinkFiles.slice(0, 3)).toEqual(['dist', 'dist/main.js', 'dist/main.js.map']);
    expect(sinkFiles.filter((f) => f.startsWith('migrations/'))).toEqual(
      (fs.readdirSync(path.join(root, 'packages/clickhouse/migrations'), { recursive: true }) as string[])
        .map((f) => `migrations/${f}`)
        .sort(),
    );
  });

  // The running stack has no sealer of this test's own (the sealer's ClickHouse user and topics
  // are shared): the bundle is held to loading every module and reading its key where compose
  // mounts it; test/integrity runs the sealer itself end to end.
  it('the sealer bundle loads and refuses to start without the mounted signing key', async () => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...imageEnv('sealer', 0),
      ...Object.fromEntries(
        Object.entries(compose.services.sealer!.environment).map(([k, v]) => [k, interpolate(String(v))]),
      ),
    };
    const r = spawnSync(process.execPath, entrypoint.slice(1), {
      cwd: path.join(work, 'sealer'),
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(env.SEALER_SIGNING_KEY_FILE).toBe('/run/secrets/sealer-signing-key');
    expect(r.stderr).toContain('SEALER_SIGNING_KEY_FILE: cannot read /run/secrets/sealer-signing-key');
    expect(r.status).toBe(1);
  });

  // Likewise the streamer (test/streams runs it end to end): every module loads, and it reads
  // its private key where compose mounts it.
  it('the streamer bundle loads and refuses to start without the mounted private key', async () => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...imageEnv('streamer', 0),
      ...Object.fromEntries(
        Object.entries(compose.services.streamer!.environment).map(([k, v]) => [k, interpolate(String(v))]),
      ),
    };
    const r = spawnSync(process.execPath, entrypoint.slice(1), {
      cwd: path.join(work, 'streamer'),
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(env.STREAMER_SECRETS_KEY_FILE).toBe('/run/secrets/streamer-secrets-key');
    expect(r.stderr).toContain('STREAMER_SECRETS_KEY_FILE: cannot read /run/secrets/streamer-secrets-key');
    expect(r.status).toBe(1);
  });

  it('serves an event end to end and stops on SIGTERM with exit code 0', async () => {
    const users = usersFile(work, tenant);
    const ingest = await start('ingest-api', users);
    const sink = await start('sink', users);
    const query = await start('query-api', users);

    for (const r of [ingest, sink, query]) {
      const res = await fetch(`http://127.0.0.1:${r.port}/readyz`);
      expect(res.status, r.log()).toBe(200);
    }

    const login = async (port: number, username: string, password: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { token: string }).token;
    };
    const eventId = randomUUID();
    const posted = await fetch(`http://127.0.0.1:${ingest.port}/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await login(ingest.port, 'writer', 'pw-writer')}`,
      },
      body: JSON.stringify({
        event_id: eventId,
        event_type: 'customer.account.created',
        timestamp: '2026-01-02T03:04:05.678Z',
        user_id: 'u-bundle',
        event_details: { plan: 'pro' },
      }),
    });
    expect(posted.status).toBe(202);
    expect(await posted.json()).toEqual({ accepted: 1, event_ids: [eventId], duplicates: [] });

    // The bundles serve /docs and the viewer from the files beside them.
    for (const [port, p, type] of [
      [ingest.port, '/docs/assets/swagger-ui-bundle.js', 'text/javascript'],
      [query.port, '/docs/assets/swagger-ui.css', 'text/css'],
      [query.port, '/ui/', 'text/html'],
      [query.port, '/ui/audit-viewer.js', 'text/javascript'],
    ] as const) {
      const res = await fetch(`http://127.0.0.1:${port}${p}`);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-type'), p).toContain(type);
    }

    const readerToken = await login(query.port, 'reader', 'pw-reader');
    let found: Response | undefined;
    for (let i = 0; i < 300; i++) {
      found = await fetch(`http://127.0.0.1:${query.port}/events/${eventId}`, {
        headers: { authorization: `Bearer ${readerToken}` },
      });
      if (found.status !== 404) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(found?.status, sink.log()).toBe(200);
    expect(await found?.json()).toMatchObject({
      event_id: eventId,
      tenant_id: tenant,
      user_id: 'u-bundle',
      event_details: { plan: 'pro' },
    });

    for (const r of [ingest, query, sink]) {
      r.child.kill('SIGTERM');
      expect(await r.exit, r.log()).toBe(0);
    }
  });
});
