/**
 * docker-compose.yml and the service image, checked without a Docker engine (none exists on the
 * CI machine): the file is parsed as YAML and held against what the code and the local stack
 * define — the services' zod config schemas, the ClickHouse users file, the local stack's
 * versions, ports and topics. What only an engine can check (building and running the images)
 * is listed in deploy/docker/README.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackSchema } from '@audit/config';
import {
  aclTopicsOf,
  describeAcl,
  SERVICE_PRINCIPALS,
  serviceAcls,
  tenantAcls,
  tenantTopic,
} from '@audit/kafka';
import { BROKER_PRINCIPAL, DEV_TENANTS, loadLocalStackConfig } from '@audit/stack';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { authProperties, bootstrapUsers } from '../../packages/stack/src/kafka-auth.ts';
import { ingestConfigSchema } from '../../services/ingest-api/src/config.ts';
import { queryConfigSchema } from '../../services/query-api/src/config.ts';
import { sealerConfigSchema } from '../../services/sealer/src/config.ts';
import { sinkConfigSchema } from '../../services/sink/src/config.ts';
import { streamerConfigSchema } from '../../services/streamer/src/config.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');
const exists = (rel: string) => fs.existsSync(path.join(root, rel));

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  ports?: string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string; disable?: boolean };
  profiles?: string[];
  restart?: string;
  entrypoint?: string[];
  command?: string[] | string;
  user?: string;
  secrets?: string[];
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string; environment?: string }>;
};
const services = compose.services;
const svc = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};

/** Compose interpolation as `docker compose up` does it with no `.env`: `${X:-dev}` → dev. */
function interpolate(value: string): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (m, name, def) => {
    if (m === '$$') return '$';
    if (def === undefined) throw new Error(`\${${name}} has no default: compose would need a .env`);
    return def;
  });
}

function environment(s: Service): Record<string, string> {
  const env = s.environment ?? {};
  const pairs = Array.isArray(env)
    ? env.map((line) => line.split(/=(.*)/s, 2) as [string, string])
    : Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)] as [string, string]);
  return Object.fromEntries(pairs.map(([k, v]) => [k, interpolate(v)]));
}

/** A Dockerfile's instructions per stage, continuation lines joined. */
function dockerfileStages(text: string) {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const globalArgs: Record<string, string> = {};
  const stages: { from: string; name?: string; instructions: { op: string; args: string }[] }[] = [];
  for (const line of lines) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else if (stages.length === 0 && upper === 'ARG') {
      const [k = '', v = ''] = args.split('=', 2);
      globalArgs[k] = v;
    } else {
      stages.at(-1)?.instructions.push({ op: upper, args });
    }
  }
  return { globalArgs, stages };
}

/** The last stage of a Dockerfile, with ARG/ENV values resolved against the build args. */
function finalStage(dockerfile: string, buildArgs: Record<string, string>) {
  const { globalArgs, stages } = dockerfileStages(read(dockerfile));
  const last = stages.at(-1);
  if (!last) throw new Error(`${dockerfile} has no FROM`);
  const vars: Record<string, string> = {};
  const sub = (s: string) => s.replace(/\$\{?(\w+)\}?/g, (_, k: string) => vars[k] ?? '');
  const env: Record<string, string> = {};
  const ops = (op: string) => last.instructions.filter((i) => i.op === op).map((i) => i.args);
  for (const i of last.instructions) {
    if (i.op === 'ARG') {
      const [k = '', def] = i.args.split('=', 2);
      vars[k] = buildArgs[k] ?? def ?? '';
    } else if (i.op === 'ENV') {
      for (const [, k = '', v = ''] of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
        env[k] = sub(v.replace(/^"|"$/g, ''));
        vars[k] = env[k];
      }
    }
  }
  const baseArg = /^\$\{?(\w+)\}?$/.exec(last.from)?.[1];
  return {
    from: baseArg ? (buildArgs[baseArg] ?? globalArgs[baseArg] ?? '') : last.from,
    env,
    user: ops('USER').at(-1),
    healthcheck: ops('HEALTHCHECK').at(-1),
    stopsignal: ops('STOPSIGNAL').at(-1),
    entrypoint: ops('ENTRYPOINT').at(-1),
    stages: stages.map((s) => s.name),
  };
}

const core = ['kafka', 'kafka-init', 'clickhouse', 'ingest-api', 'sink', 'query-api', 'sealer', 'streamer'];
const apps = {
  'ingest-api': { schema: ingestConfigSchema, port: 8080, portKey: 'PORT', hostKey: 'HOST' },
  'query-api': { schema: queryConfigSchema, port: 8081, portKey: 'PORT', hostKey: 'HOST' },
  sink: { schema: sinkConfigSchema, port: 8082, portKey: 'PORT', hostKey: 'HOST' },
  sealer: { schema: sealerConfigSchema, port: 8083, portKey: 'PORT', hostKey: 'HOST' },
  streamer: { schema: streamerConfigSchema, port: 8084, portKey: 'PORT', hostKey: 'HOST' },
} as const;
type AppName = keyof typeof apps;
const appNames = Object.keys(apps) as AppName[];
/** Read by createLogger straight from process.env, not part of a service schema. */
/** Read outside the zod schemas: by the logger, and by Node itself. */
const envOutsideSchemas = new Set(['LOG_LEVEL', 'NODE_OPTIONS']);
const stackDefaults = stackSchema.parse({});

describe('docker-compose.yml services', () => {
  it('defines the stack, with Prometheus and Grafana only under the observability profile', () => {
    expect(Object.keys(services).sort()).toEqual([...core, 'grafana', 'prometheus'].sort());
    for (const name of core) expect(svc(name).profiles, name).toBeUndefined();
    expect(svc('prometheus').profiles).toEqual(['observability']);
    expect(svc('grafana').profiles).toEqual(['observability']);
  });

  it("publishes the local stack's ports, on 127.0.0.1 only", () => {
    const ports = Object.fromEntries(Object.entries(services).map(([n, s]) => [n, s.ports ?? []]));
    expect(ports).toEqual({
      kafka: ['127.0.0.1:9092:9092'],
      'kafka-init': [],
      clickhouse: ['127.0.0.1:8123:8123', '127.0.0.1:9000:9000'],
      'ingest-api': ['127.0.0.1:8080:8080'],
      'query-api': ['127.0.0.1:8081:8081'],
      sink: ['127.0.0.1:8082:8082'],
      sealer: ['127.0.0.1:8083:8083'],
      streamer: ['127.0.0.1:8084:8084'],
      prometheus: ['127.0.0.1:9090:9090'],
      grafana: ['127.0.0.1:3000:3000'],
    });
  });

  it('gives every long-running service a healthcheck (its own or its image’s)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (name === 'kafka-init') {
        expect(s.restart).toBe('no');
        expect(s.healthcheck).toBeUndefined();
        continue;
      }
      expect(s.healthcheck?.disable, name).not.toBe(true);
      const own = s.healthcheck?.test;
      const fromImage = s.build ? finalStage(s.build.dockerfile, s.build.args ?? {}).healthcheck : undefined;
      expect(own ?? fromImage, `${name} has no healthcheck`).toBeTruthy();
      if (own) expect(Array.isArray(own) ? own[0] : own, name).toMatch(/^(CMD|CMD-SHELL)$/);
    }
  });

  it('starts each service only after what it needs is healthy (or, for kafka-init, done)', () => {
    const conditions = Object.fromEntries(
      Object.entries(services).map(([n, s]) => [
        n,
        Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([d, c]) => [d, c.condition])),
      ]),
    );
    expect(conditions).toEqual({
      kafka: {},
      'kafka-init': { kafka: 'service_healthy' },
      clickhouse: {},
      'ingest-api': { kafka: 'service_healthy', 'kafka-init': 'service_completed_successfully' },
      sink: {
        kafka: 'service_healthy',
        'kafka-init': 'service_completed_successfully',
        clickhouse: 'service_healthy',
      },
      'query-api': { clickhouse: 'service_healthy', sink: 'service_healthy' },
      sealer: {
        kafka: 'service_healthy',
        'kafka-init': 'service_completed_successfully',
        clickhouse: 'service_healthy',
        sink: 'service_healthy',
      },
      streamer: {
        kafka: 'service_healthy',
        'kafka-init': 'service_completed_successfully',
        clickhouse: 'service_healthy',
      },
      prometheus: {
        'ingest-api': 'service_healthy',
        'query-api': 'service_healthy',
        sink: 'service_healthy',
        sealer: 'service_healthy',
        streamer: 'service_healthy',
      },
      grafana: { prometheus: 'service_healthy' },
    });
  });

  it('provisions the Grafana dashboard next to its datasource', () => {
    const mounts = (svc('grafana').volumes ?? []) as string[];
    expect(mounts).toContain(
      './deploy/grafana/dashboards.yml:/etc/grafana/provisioning/dashboards/audit.yml:ro',
    );
    expect(mounts).toContain('./deploy/grafana:/var/lib/grafana/dashboards/audit:ro');
  });

  it('mounts only files and directories that exist in the repository', () => {
    const sources = Object.values(services)
      .flatMap((s) => s.volumes ?? [])
      .map((v) => v.split(':')[0]!)
      .filter((src) => src.startsWith('./'));
    expect(sources.length).toBe(9);
    for (const src of sources) expect(exists(src), `${src} is missing`).toBe(true);
  });
});

describe('Kafka in compose', () => {
  const local = loadLocalStackConfig({});

  it("runs the local stack's Kafka version for the broker and the topic init", () => {
    expect(local.KAFKA_VERSION).toBe('4.1.1');
    expect(svc('kafka').image).toBe(`apache/kafka:${local.KAFKA_VERSION}`);
    expect(svc('kafka-init').image).toBe(`apache/kafka:${local.KAFKA_VERSION}`);
  });

  it('is a single-node KRaft broker+controller with replication factor 1 everywhere', () => {
    const env = environment(svc('kafka'));
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(env.KAFKA_NODE_ID).toBe('1');
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(`1@kafka:${local.KAFKA_CONTROLLER_PORT}`);
    expect(env.KAFKA_LISTENERS).toBe('HOST://:9092,CONTROLLER://:9093,INTERNAL://:19092');
    expect(env.KAFKA_ADVERTISED_LISTENERS).toBe('HOST://127.0.0.1:9092,INTERNAL://kafka:19092');
    expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
    expect(env.KAFKA_HEAP_OPTS).toBe(`-Xmx${local.KAFKA_HEAP} -Xms${local.KAFKA_HEAP}`);
    const rf = Object.entries(env).filter(([k]) => /_REPLICATION_FACTOR$|_MIN_ISR$/.test(k));
    expect(Object.fromEntries(rf)).toEqual({
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
    });
    // The host address is the local stack's, so host-side tools use one KAFKA_BROKERS for both.
    expect(stackDefaults.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
  });

  it('creates the four topics and the dev tenants’ topics idempotently with the local stack’s partition counts', () => {
    const init = svc('kafka-init');
    expect(init.entrypoint).toEqual(['/bin/bash', '-ec']);
    const script = [init.command ?? []].flat().join(' ');
    const creates = script.split('&&').filter((c) => c.includes('--create'));
    const topics = Object.fromEntries(
      creates.map((c) => {
        expect(c).toContain('--if-not-exists');
        expect(c).toContain('--replication-factor 1');
        expect(c).toContain('--bootstrap-server kafka:19092 --command-config /tmp/admin.properties');
        expect(c).toMatch(/^\s*\/opt\/kafka\/bin\/kafka-topics\.sh /);
        return [/--topic (\S+)/.exec(c)?.[1], Number(/--partitions (\d+)/.exec(c)?.[1])];
      }),
    );
    expect(topics).toEqual({
      [stackDefaults.KAFKA_TOPIC]: stackDefaults.KAFKA_TOPIC_PARTITIONS,
      [stackDefaults.KAFKA_DLQ_TOPIC]: 1,
      [stackDefaults.KAFKA_LEAVES_TOPIC]: 1,
      [stackDefaults.KAFKA_CHECKPOINTS_TOPIC]: 1,
      ...Object.fromEntries(
        DEV_TENANTS.map((t) => [
          tenantTopic(stackDefaults.KAFKA_TENANT_TOPIC_PREFIX, t),
          stackDefaults.KAFKA_TOPIC_PARTITIONS,
        ]),
      ),
    });
    expect(topics).toEqual({
      'audit.events': 6,
      'audit.events.dlq': 1,
      'audit.leaves': 1,
      'audit.checkpoints': 1,
      'audit.t.acme': 6,
      'audit.t.globex': 6,
    });
    // The published checkpoints are the verifier's copy outside the database: never expired.
    const checkpoints = creates.find((c) => c.includes(`--topic ${stackDefaults.KAFKA_CHECKPOINTS_TOPIC} `));
    expect(checkpoints).toContain('--config retention.ms=-1');
  });
});

describe('Kafka authentication in compose (the local stack’s, packages/stack/src/kafka-auth.ts)', () => {
  const local = loadLocalStackConfig({});
  const kafka = svc('kafka');
  const env = environment(kafka);
  const script = [kafka.command ?? []].flat().join(' ');

  it('requires SASL on every listener: SCRAM-SHA-512 for clients and brokers, PLAIN on the controller', () => {
    expect(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).toBe(
      'HOST:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT',
    );
    // The same broker properties as the local stack's, by name (the image maps KAFKA_A_B to a.b).
    const props = Object.fromEntries(
      authProperties(local)
        .filter((p) => !p.includes('jaas.config'))
        .map((p) => p.split(/=(.*)/s, 2) as [string, string]),
    );
    const asEnv = (k: string) => `KAFKA_${k.replace(/-/g, '___').replace(/\./g, '_').toUpperCase()}`;
    for (const [k, v] of Object.entries(props)) {
      if (k === 'super.users') expect(env[asEnv(k)], k).toBe(`User:${BROKER_PRINCIPAL};User:admin`);
      else expect(env[asEnv(k)], k).toBe(v);
    }
    for (const listener of ['HOST', 'INTERNAL']) {
      expect(env[`KAFKA_LISTENER_NAME_${listener}_SCRAM___SHA___512_SASL_JAAS_CONFIG`]).toBe(
        `org.apache.kafka.common.security.scram.ScramLoginModule required username="${BROKER_PRINCIPAL}" password="${local.KAFKA_BROKER_PASSWORD}";`,
      );
    }
    expect(env.KAFKA_LISTENER_NAME_CONTROLLER_PLAIN_SASL_JAAS_CONFIG).toContain(
      `user_${BROKER_PRINCIPAL}="${local.KAFKA_BROKER_PASSWORD}"`,
    );
  });

  it('formats the storage with the local stack’s SCRAM users, once, then runs the image’s own start', () => {
    const added = [
      ...script.matchAll(/--add-scram "SCRAM-SHA-512=\[name=([^,]+),password=\$\$(\w+)\]"/g),
    ].map((m) => ({ name: m[1], password: env[m[2]!] }));
    expect(added).toEqual(bootstrapUsers(local));
    expect(script).toContain('if [ ! -e /var/lib/kafka/data/meta.properties ]');
    expect(script).toMatch(/exec \/etc\/kafka\/docker\/run$/);
    // No password variable named KAFKA_*: the image would write it into the broker properties.
    expect(Object.keys(env).filter((k) => k.startsWith('KAFKA_') && k.endsWith('_PASSWORD'))).toEqual([]);
    expect(Object.keys(env).filter((k) => k.startsWith('AUDIT_KAFKA_')).length).toBe(
      bootstrapUsers(local).length,
    );
  });

  it('applies exactly the ACLs of packages/kafka/src/acls.ts', () => {
    const init = [svc('kafka-init').command ?? []].flat().join(' ');
    const cmds = init.split('&&').filter((c) => c.includes('kafka-acls.sh'));
    const op = (o: string) => o.toUpperCase().replace(/-/g, '_');
    const got = cmds.map((c) => {
      expect(c).toContain('--bootstrap-server kafka:19092 --command-config /tmp/admin.properties --add');
      const resource = /--(topic|group) (\S+)/.exec(c)!;
      return {
        principal: /--allow-principal (\S+)/.exec(c)?.[1],
        operation: op(/--operation (\S+)/.exec(c)?.[1] ?? ''),
        resourceType: resource[1]!.toUpperCase(),
        resourceName: resource[2],
        pattern: c.includes('--resource-pattern-type prefixed') ? 'PREFIXED' : 'LITERAL',
      };
    });
    const want = [
      ...serviceAcls(aclTopicsOf(stackDefaults)),
      ...DEV_TENANTS.flatMap((t) => tenantAcls(stackDefaults.KAFKA_TENANT_TOPIC_PREFIX, t)),
    ].map(describeAcl);
    expect(got).toEqual(want);
  });

  it('gives each Kafka service its own principal and the password the broker was formatted with', () => {
    const users = Object.fromEntries(bootstrapUsers(local).map((u) => [u.name, u.password]));
    const expected = {
      'ingest-api': SERVICE_PRINCIPALS.ingest,
      sink: SERVICE_PRINCIPALS.sink,
      sealer: SERVICE_PRINCIPALS.sealer,
      streamer: SERVICE_PRINCIPALS.streamer,
      // The query API publishes the records of reads (docs/access-audit.md).
      'query-api': SERVICE_PRINCIPALS.query,
    };
    for (const [service, principal] of Object.entries(expected)) {
      const e = environment(svc(service));
      expect(e.KAFKA_SASL_MECHANISM, service).toBe('scram-sha-512');
      expect(e.KAFKA_SASL_USERNAME, service).toBe(principal.username);
      expect(e.KAFKA_SASL_PASSWORD, service).toBe(users[principal.username]);
    }
  });
});

describe('ClickHouse in compose', () => {
  const ch = svc('clickhouse');
  const env = environment(ch);
  const usersXml = read('deploy/clickhouse/users.xml');
  const fromEnv = [...usersXml.matchAll(/from_env="(\w+)"/g)].map((m) => m[1]).sort();

  it("runs the local stack's ClickHouse release line (chDB's major.minor)", () => {
    const chdb = JSON.parse(read('packages/stack/package.json')).dependencies['@chdb/lib-linux-x64-gnu'];
    const [major, minor] = String(chdb).split('.');
    expect(`${major}.${minor}`).toBe('26.7');
    expect(ch.image).toBe(`clickhouse/clickhouse-server:${major}.${minor}`);
  });

  it('mounts the shared users file and the container-only config', () => {
    expect(ch.volumes).toEqual([
      './deploy/clickhouse/users.xml:/etc/clickhouse-server/users.d/audit-users.xml:ro',
      './deploy/clickhouse/docker/users.d/no-default-user.xml:/etc/clickhouse-server/users.d/no-default-user.xml:ro',
      './deploy/clickhouse/docker/config.d/audit-server.xml:/etc/clickhouse-server/config.d/audit-server.xml:ro',
      'clickhouse-data:/var/lib/clickhouse',
    ]);
    expect(read('deploy/clickhouse/docker/users.d/no-default-user.xml')).toMatch(
      /<users>\s*<default remove="remove"\/>\s*<\/users>/,
    );
    expect(read('deploy/clickhouse/docker/config.d/audit-server.xml')).toMatch(
      /<http_port>8123<\/http_port>\s*<tcp_port>9000<\/tcp_port>/,
    );
    // The image's entrypoint must not write its own default user next to ours.
    expect(env.CLICKHOUSE_SKIP_USER_SETUP).toBe('1');
  });

  it('sets exactly the password variables users.xml reads, to the local stack’s dev values', () => {
    expect(fromEnv).toEqual([
      'CLICKHOUSE_ACCESS_PASSWORD',
      'CLICKHOUSE_ADMIN_PASSWORD',
      'CLICKHOUSE_KEYS_PASSWORD',
      'CLICKHOUSE_OPERATOR_PASSWORD',
      'CLICKHOUSE_READER_PASSWORD',
      'CLICKHOUSE_SEALER_PASSWORD',
      'CLICKHOUSE_STREAMER_PASSWORD',
      'CLICKHOUSE_WRITER_PASSWORD',
    ]);
    const passwords = Object.keys(env)
      .filter((k) => k.endsWith('_PASSWORD'))
      .sort();
    expect(passwords).toEqual(fromEnv);
    expect(env.CLICKHOUSE_ADMIN_PASSWORD).toBe(stackDefaults.CLICKHOUSE_ADMIN_PASSWORD);
    expect(env.CLICKHOUSE_WRITER_PASSWORD).toBe(stackDefaults.CLICKHOUSE_WRITER_PASSWORD);
    expect(env.CLICKHOUSE_READER_PASSWORD).toBe(stackDefaults.CLICKHOUSE_READER_PASSWORD);
    expect(env.CLICKHOUSE_SEALER_PASSWORD).toBe(stackDefaults.CLICKHOUSE_SEALER_PASSWORD);
    expect(env.CLICKHOUSE_STREAMER_PASSWORD).toBe(stackDefaults.CLICKHOUSE_STREAMER_PASSWORD);
    expect(env.CLICKHOUSE_KEYS_PASSWORD).toBe(stackDefaults.CLICKHOUSE_KEYS_PASSWORD);
    expect(env.CLICKHOUSE_ACCESS_PASSWORD).toBe(stackDefaults.CLICKHOUSE_ACCESS_PASSWORD);
    expect(env.CLICKHOUSE_OPERATOR_PASSWORD).toBe(stackDefaults.CLICKHOUSE_OPERATOR_PASSWORD);
    expect(env.CLICKHOUSE_WRITER_PASSWORD).toBe('writer-dev-password');
  });

  it('checks health by logging in as the writer that users.xml defines', () => {
    const test = ch.healthcheck?.test;
    expect(Array.isArray(test) ? test.join(' ') : test).toContain(
      'clickhouse-client --user "$$CLICKHOUSE_WRITER_USER" --password "$$CLICKHOUSE_WRITER_PASSWORD"',
    );
    expect(env.CLICKHOUSE_WRITER_USER).toBe(stackDefaults.CLICKHOUSE_WRITER_USER);
    expect(usersXml).toContain(`<${stackDefaults.CLICKHOUSE_WRITER_USER}>`);
    expect(usersXml).toContain(`<${stackDefaults.CLICKHOUSE_READER_USER}>`);
  });
});

describe('the four services in compose', () => {
  const chEnv = environment(svc('clickhouse'));
  const kafkaAdvertised = environment(svc('kafka')).KAFKA_ADVERTISED_LISTENERS ?? '';

  for (const name of appNames) {
    const { schema, port, portKey, hostKey } = apps[name];
    const s = svc(name);
    const env = environment(s);
    const image = finalStage(s.build?.dockerfile ?? '', s.build?.args ?? {});
    const shape: Record<string, { safeParse(v: unknown): { success: boolean } }> = schema.shape;

    it(`${name}: sets every variable its config schema requires, and only known ones`, () => {
      const required = Object.keys(shape).filter((k) => !shape[k]!.safeParse(undefined).success);
      for (const key of required) expect(env, `${name} needs ${key}`).toHaveProperty(key);
      if (name === 'query-api') expect(required).toContain('QUERY_CURSOR_SECRET');
      const unknown = Object.keys(env).filter((k) => !(k in shape) && !envOutsideSchemas.has(k));
      expect(unknown, `${name}: variables its config does not read`).toEqual([]);
    });

    it(`${name}: its config parses from the image and compose environment`, () => {
      const result = schema.safeParse({ ...image.env, ...env });
      expect(result.error?.issues ?? []).toEqual([]);
      const cfg = result.data as Record<string, unknown>;
      expect(cfg[portKey]).toBe(port);
      expect(cfg[hostKey]).toBe('0.0.0.0');
      expect(s.ports).toEqual([`127.0.0.1:${port}:${port}`]);
      // The image's healthcheck probes PORT: it must be the port the service listens on.
      expect(s.build?.args?.PORT).toBe(String(port));
      expect(image.env.PORT).toBe(String(port));
      expect(cfg.KAFKA_TOPIC).toBe('audit.events');
      expect(cfg.KAFKA_LEAVES_TOPIC).toBe('audit.leaves');
      expect(cfg.CLICKHOUSE_DATABASE).toBe('audit');
      if ('KAFKA_BROKERS' in env) {
        expect(cfg.KAFKA_BROKERS).toEqual(['kafka:19092']);
        expect(kafkaAdvertised).toContain(`INTERNAL://${env.KAFKA_BROKERS}`);
      }
      if ('CLICKHOUSE_URL' in env) expect(cfg.CLICKHOUSE_URL).toBe('http://clickhouse:8123');
    });

    it(`${name}: ClickHouse credentials match the server's`, () => {
      for (const [key, value] of Object.entries(env).filter(([k]) => k.startsWith('CLICKHOUSE_'))) {
        if (key.endsWith('_PASSWORD')) expect(value, key).toBe(chEnv[key]);
      }
      // Least privilege: the sink has only the writer, the query API the reader (and the credentials
      // store, and the user that creates analysts), the sealer its own; ingest only reads revocations.
      const users = Object.keys(env).filter((k) => /^CLICKHOUSE_\w+_USER$/.test(k));
      expect(users).toEqual(
        {
          'ingest-api': ['CLICKHOUSE_KEYS_USER'],
          sink: ['CLICKHOUSE_WRITER_USER'],
          'query-api': ['CLICKHOUSE_READER_USER', 'CLICKHOUSE_KEYS_USER', 'CLICKHOUSE_ACCESS_USER'],
          sealer: ['CLICKHOUSE_SEALER_USER'],
          streamer: ['CLICKHOUSE_STREAMER_USER'],
        }[name],
      );
    });
  }

  it('gives both APIs the same signing secret and the dev users file, as `pnpm start` does', () => {
    const ingest = environment(svc('ingest-api'));
    const query = environment(svc('query-api'));
    expect(ingest.AUTH_JWT_SECRET).toBe(query.AUTH_JWT_SECRET);
    expect(ingest.AUTH_JWT_SECRET?.length).toBeGreaterThanOrEqual(32);
    const start = read('scripts/start.ts');
    expect(start).toContain(`AUTH_JWT_SECRET: '${ingest.AUTH_JWT_SECRET}'`);
    expect(start).toContain(`QUERY_CURSOR_SECRET: '${query.QUERY_CURSOR_SECRET}'`);
    for (const name of ['ingest-api', 'query-api']) {
      const env = environment(svc(name));
      expect(env.AUTH_USERS_FILE).toBe('/etc/audit/dev-users.json');
      expect(svc(name).volumes).toEqual(['./deploy/local/dev-users.json:/etc/audit/dev-users.json:ro']);
    }
    expect(environment(svc('sink'))).not.toHaveProperty('AUTH_JWT_SECRET');
  });

  it('gives the sealer its signing key as a secret file, never as a value, and one instance', () => {
    const sealer = svc('sealer');
    const env = environment(sealer);
    expect(env).not.toHaveProperty('SEALER_SIGNING_KEY');
    expect(sealer.secrets).toEqual(['sealer-signing-key']);
    expect(env.SEALER_SIGNING_KEY_FILE).toBe('/run/secrets/sealer-signing-key');
    // A git-ignored path (generated by keygen.ts), so no key is ever committed.
    const file = compose.secrets?.['sealer-signing-key']?.file;
    expect(file).toBe('./.local/compose/sealer-signing.key');
    expect(read('.gitignore').split('\n')).toContain('.local/');
    expect(read('docker-compose.yml')).toContain(
      'pnpm tsx services/sealer/src/keygen.ts audit-log.local .local/compose/sealer-signing.key',
    );
    expect(Object.keys(compose.secrets ?? {})).toEqual(['sealer-signing-key', 'streamer-secrets-key']);
    expect((sealer as { deploy?: { replicas?: number } }).deploy?.replicas ?? 1).toBe(1);
  });
});

describe('the streamer in compose', () => {
  it('gives the streamer its private key as a secret file and the query API only the public key', () => {
    const streamer = svc('streamer');
    const env = environment(streamer);
    expect(env).not.toHaveProperty('STREAMER_SECRETS_KEY');
    expect(streamer.secrets).toEqual(['streamer-secrets-key']);
    expect(env.STREAMER_SECRETS_KEY_FILE).toBe('/run/secrets/streamer-secrets-key');
    expect(compose.secrets?.['streamer-secrets-key']?.file).toBe('./.local/compose/streamer-secrets.key');
    expect(read('scripts/streams-keygen.ts')).toContain(
      "path.join('.local', 'compose', 'streamer-secrets.key')",
    );
    expect(read('docker-compose.yml')).toContain('pnpm streams:keygen --compose');
    const query = environment(svc('query-api'));
    expect(query).toHaveProperty('STREAMS_SECRETS_PUBLIC_KEY');
    expect(query).not.toHaveProperty('STREAMER_SECRETS_KEY');
  });
});

describe('the service image (deploy/docker/Dockerfile)', () => {
  const dockerfile = 'deploy/docker/Dockerfile';
  const text = read(dockerfile);

  it('is the one Dockerfile every service builds, from the repository root', () => {
    for (const name of appNames) {
      const build = svc(name).build;
      expect(build, name).toEqual({
        context: '.',
        dockerfile,
        args: { SERVICE: name, PORT: String(apps[name].port) },
      });
      expect(exists(`services/${name}/src/main.ts`)).toBe(true);
      expect(svc(name).image).toBe(`audit-log/${name}:dev`);
    }
    expect(exists(dockerfile)).toBe(true);
  });

  it('has a small, non-root runtime stage with a healthcheck and SIGTERM', () => {
    const image = finalStage(dockerfile, { SERVICE: 'sink', PORT: '8082' });
    expect(image.stages).toEqual(['manifests', 'build', 'runtime']);
    expect(image.from).toBe('node:20-slim');
    expect(image.user).toBe('1000:1000');
    expect(image.user).not.toMatch(/^(root|0)(:|$)/);
    expect(image.healthcheck).toMatch(/^--interval=\S+ --timeout=\S+ .*CMD \["node", "-e", ".*\/healthz/);
    expect(image.stopsignal).toBe('SIGTERM');
    expect(image.entrypoint).toBe('["node", "--enable-source-maps", "dist/main.js"]');
    expect(image.env).toEqual({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '8082', SERVICE: 'sink' });
  });

  it('pins pnpm and esbuild to the versions the repository uses', () => {
    const pnpm = /^ARG PNPM_VERSION=(\S+)$/m.exec(text)?.[1];
    const esbuild = /^ARG ESBUILD_VERSION=(\S+)$/m.exec(text)?.[1];
    expect(JSON.parse(read('package.json')).packageManager).toBe(`pnpm@${pnpm}`);
    expect(read('pnpm-lock.yaml')).toContain(`\n  esbuild@${esbuild}:`);
    // Dockerfile text: `${SERVICE}` is the build argument, expanded by the builder.
    const service = '$' + '{SERVICE}';
    expect(text).toContain(`pnpm install --frozen-lockfile --prod --filter "@audit/${service}..."`);
    expect(text).toContain(`RUN sh deploy/docker/bundle.sh "${service}" /out`);
  });

  it('ships every directory the services open relative to their source', () => {
    const bundle = read('deploy/docker/bundle.sh');
    // `<service>:<package directory>:<name>` entries.
    const shipped = /^for entry in ([\w:/ -]+); do$/m.exec(bundle)?.[1]?.split(' ') ?? [];
    const wanted = new Set<string>();
    const dirs = [
      ...appNames.map((name) => `services/${name}`),
      ...fs.readdirSync(path.join(root, 'packages')).map((p) => `packages/${p}`),
    ];
    for (const dir of dirs) {
      const src = path.join(root, dir, 'src');
      if (!fs.existsSync(src)) continue;
      for (const file of fs.readdirSync(src, { recursive: true }) as string[]) {
        // generate-*.ts are build-time scripts (e.g. the JSON Schema file), never bundled.
        if (!file.endsWith('.ts') || file.endsWith('.test.ts') || file.startsWith('generate-')) continue;
        const code = fs.readFileSync(path.join(src, file), 'utf8');
        for (const m of code.matchAll(/new URL\(\s*'([^']+)',\s*import\.meta\.url\s*\)/g)) {
          // The bundle is one file in dist/: only a path from a file directly in src/ keeps its meaning.
          expect(path.dirname(file), `${dir}/src/${file} opens ${m[1]}`).toBe('.');
          const sibling = /^\.\.\/([\w-]+)(?:\/[\w-]+)*\/?$/.exec(m[1]!)?.[1];
          expect(sibling, `${dir}/src/${file}: ${m[1]} is not a sibling directory of src/`).toBeTruthy();
          wanted.add(`${dir}:${sibling}`);
        }
      }
    }
    expect([...wanted].sort()).toEqual([
      'packages/clickhouse:migrations',
      'packages/http:swagger-ui',
      'packages/viewer:web',
    ]);
    // The sink applies the migrations at start-up; the query API serves the viewer.
    expect(shipped).toEqual(['sink:packages/clickhouse:migrations', 'query-api:packages/viewer:web']);
    // Swagger UI's files come from its package, for both APIs (/docs).
    expect(bundle).toMatch(/ingest-api \| query-api\)\n\s+mkdir -p "\$\{out\}\/swagger-ui"/);
  });

  it('keeps machine-local files out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const p of ['**/node_modules', '**/dist', '.git', '.local']) expect(ignored).toContain(p);
  });
});

describe('observability profile', () => {
  it('scrapes the four services at their compose names and ports', () => {
    const prom = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    const jobs = Object.fromEntries(
      prom.scrape_configs.map((j) => [
        j.job_name,
        [j.metrics_path, ...j.static_configs.flatMap((c) => c.targets)],
      ]),
    );
    expect(jobs).toEqual({
      'ingest-api': ['/metrics', 'ingest-api:8080'],
      'query-api': ['/metrics', 'query-api:8081'],
      sink: ['/metrics', 'sink:8082'],
      sealer: ['/metrics', 'sealer:8083'],
      streamer: ['/metrics', 'streamer:8084'],
    });
    expect(svc('prometheus').volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
  });
});
