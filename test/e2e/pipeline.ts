import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAuth } from '@audit/auth';
import { loadConfig, stackSchema } from '@audit/config';
import { aclTopicsOf, type Kafka, provisionPipeline, removeAcls, stackKafka } from '@audit/kafka';
import { type AuditEvent, normalizeEvent, serializeEvent, uuidv7 } from '@audit/schema';
import { parsePublished, type VerifyReport, verifyTrail } from '@audit/tlog';
import { generateNoteKey, nodeSha256 } from '@audit/tlog/node';
import { type ServiceProcess, startService, TEST_JWT_SECRET } from './harness.ts';

export const EVENT_TYPES = [
  'customer.account.created',
  'customer.account.deactivated',
  'customer.billed',
  'resource.action.performed',
  'resource.deleted',
  'session.login',
  'session.logout',
  'payment.refund.issued',
];

/** A realistic event with nested details; `i` makes every one distinct and checkable. */
export function makeEvent(i: number, prefix: string): Record<string, unknown> {
  const type = EVENT_TYPES[i % EVENT_TYPES.length]!;
  return {
    event_id: uuidv7(),
    event_type: type,
    timestamp: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(),
    user_id: `${prefix}-user-${i % 97}`,
    resource_type: 'invoice',
    resource_id: `inv-${i}`,
    action: type.split('.').at(-1),
    outcome: i % 11 === 0 ? 'failure' : 'success',
    event_details: {
      seq: i,
      amount: (i % 1000) / 10,
      customer: { plan: i % 3 === 0 ? 'pro' : 'free', country: ['FR', 'DE', 'US'][i % 3] },
      items: [{ sku: `sku-${i % 13}`, qty: (i % 5) + 1 }],
      note: i % 17 === 0 ? 'unicode ✓ “quoted” \\ back' : null,
    },
  };
}

/**
 * The four services as separate processes on topics, groups and a tenant of their own (the
 * sealer's leaves and checkpoints topics too, so its log holds only this pipeline's events).
 */
export interface Pipeline {
  tenant: string;
  topic: string;
  kafka: Kafka;
  ingest: ServiceProcess;
  sink: ServiceProcess;
  query: ServiceProcess;
  sealer: ServiceProcess;
  /** The sealer's verifier key and witness file, for `verifyPipeline`. */
  verifierKey: string;
  witnessFile: string;
  writeToken: string;
  readToken: string;
  stop(): Promise<void>;
}

export async function startPipeline(name: string, stackEnv: Record<string, string> = {}): Promise<Pipeline> {
  const cfg = loadConfig(stackSchema, { ...process.env, ...stackEnv });
  const id = randomUUID().slice(0, 8);
  const topic = `test.${name}.${id}`;
  const dlq = `${topic}.dlq`;
  const tenant = `e2e_${name}_${id}`.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  // The harness is the admin; the services authenticate as themselves, with their ACLs on
  // exactly this pipeline's topics and groups.
  const kafka = stackKafka(cfg, `e2e-${name}`);
  const names = {
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: dlq,
    KAFKA_LEAVES_TOPIC: `${topic}.leaves`,
    KAFKA_CHECKPOINTS_TOPIC: `${topic}.checkpoints`,
    KAFKA_TENANT_TOPIC_PREFIX: `${topic}.t.`,
  };
  const groups = { sink: `e2e-sink-${id}`, sealer: `e2e-sealer-${id}` };
  const admin = kafka.admin();
  await admin.connect();
  const acl = await provisionPipeline(admin, aclTopicsOf(names, groups), { partitions: 6 });
  await admin.disconnect();

  const logDir = path.join(os.tmpdir(), `audit-e2e-${name}-${id}`);
  const key = generateNoteKey('e2e.example');
  const witnessFile = path.join(logDir, 'witness.ndjson');
  const env = {
    ...stackEnv,
    ...names,
    SINK_GROUP_ID: groups.sink,
    SEALER_GROUP_ID: groups.sealer,
    SEALER_SIGNING_KEY: key.privateKey,
    SEALER_WITNESS_FILE: witnessFile,
    SEAL_INTERVAL_MS: '500',
    HOST: '127.0.0.1',
  };
  const sink = await startService('sink', env, logDir);
  const [ingest, query, sealer] = await Promise.all([
    startService('ingest-api', env, logDir),
    startService('query-api', env, logDir),
    startService('sealer', env, logDir),
  ]);
  const auth = await createAuth({ AUTH_JWT_SECRET: TEST_JWT_SECRET });
  const writeToken = await auth.issueToken({ subject: `${name}-producer`, tenant, scopes: ['events:write'] });
  const readToken = await auth.issueToken({ subject: `${name}-analyst`, tenant, scopes: ['events:read'] });
  return {
    tenant,
    topic,
    kafka,
    ingest,
    sink,
    query,
    sealer,
    verifierKey: key.verifierKey,
    witnessFile,
    writeToken,
    readToken,
    stop: async () => {
      await Promise.all([ingest.kill('SIGTERM'), query.kill('SIGTERM'), sink.kill('SIGTERM')]);
      await sealer.kill('SIGTERM');
      const a = kafka.admin();
      await a.connect();
      await removeAcls(a, acl).catch(() => {});
      await a.disconnect();
    },
  };
}

export type RequestKind = 'single' | 'array' | 'ndjson';

/** Posts events; returns the acknowledged ids (202), or the status when not accepted. */
export async function postEvents(
  p: Pipeline,
  events: Record<string, unknown>[],
  kind: RequestKind,
): Promise<{ status: number; ids: string[] }> {
  const body =
    kind === 'ndjson'
      ? events.map((e) => JSON.stringify(e)).join('\n')
      : JSON.stringify(kind === 'single' ? events[0] : events);
  try {
    const res = await fetch(`${p.ingest.url}/events`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${p.writeToken}`,
        'content-type': kind === 'ndjson' ? 'application/x-ndjson' : 'application/json',
      },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const json = (await res.json().catch(() => ({}))) as { event_ids?: string[] };
    return { status: res.status, ids: res.status === 202 ? (json.event_ids ?? []) : [] };
  } catch {
    // Connection refused or reset (e.g. the ingest API was killed): not acknowledged.
    return { status: 0, ids: [] };
  }
}

/** Writes events straight to the topic as a direct producer would; returns their ids. */
export async function produceDirect(p: Pipeline, inputs: Record<string, unknown>[]): Promise<AuditEvent[]> {
  const producer = p.kafka.producer({ idempotent: true });
  await producer.connect();
  const events = inputs.map((input) =>
    normalizeEvent(input as never, { tenantId: p.tenant, source: 'direct-kafka', receivedAt: new Date() }),
  );
  for (let i = 0; i < events.length; i += 1000) {
    const chunk = events.slice(i, i + 1000);
    await producer.send({
      topic: p.topic,
      acks: -1,
      messages: chunk.map((e) => ({ key: `${e.tenant_id}/${e.user_id}`, value: serializeEvent(e) })),
    });
  }
  await producer.disconnect();
  return events;
}

export async function queryJson<T>(p: Pipeline, pathAndQuery: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${p.query.url}${pathAndQuery}`, {
    headers: { authorization: `Bearer ${p.readToken}` },
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Polls the query API's count until it reaches `expected` (or stops growing past the deadline). */
export async function waitForCount(
  p: Pipeline,
  expected: number,
  filter = '',
  timeoutMs = 180_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = -1;
  while (Date.now() < deadline) {
    const r = await queryJson<{ count: number }>(p, `/events/stats?${filter}`).catch(() => undefined);
    if (r?.status === 200) {
      count = r.body.count;
      if (count >= expected) return count;
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
  return count;
}

/** Every stored event of the pipeline's tenant (matching `filter`), through the export endpoint. */
export async function exportAll(p: Pipeline, filter = ''): Promise<AuditEvent[]> {
  const res = await fetch(`${p.query.url}/events/export?format=ndjson&order=asc&${filter}`, {
    headers: { authorization: `Bearer ${p.readToken}` },
  });
  if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as AuditEvent);
}

/** Runs `fn` over `items` with `n` concurrent workers. */
export async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        await fn(item);
      }
    }),
  );
}

/** Continuous ingest load until `stop()`: every event generated, every one acknowledged, by status. */
export function startLoad(
  p: Pipeline,
  opts: { workers: number; batch: number; prefix: string; pauseMs?: number },
) {
  const generated = new Map<string, Record<string, unknown>>();
  const acknowledged = new Set<string>();
  const statuses = new Map<number, number>();
  let running = true;
  let i = 0;
  const workers = Array.from({ length: opts.workers }, async () => {
    while (running) {
      const events = Array.from({ length: opts.batch }, () => makeEvent(i++, opts.prefix));
      for (const e of events) generated.set(e.event_id as string, e);
      const res = await postEvents(p, events, 'array');
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      for (const id of res.ids) acknowledged.add(id);
      // A refused or failed request backs off a little, as a real client would.
      await sleep(res.status === 202 ? (opts.pauseMs ?? 100) : 200);
    }
  });
  return {
    generated,
    acknowledged,
    statuses,
    /** Query-string filter selecting exactly this load's events (user ids carry the prefix). */
    filter: new URLSearchParams({ 'user_id[prefix]': `${opts.prefix}-user-` }).toString(),
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The promise under faults: every acknowledged event is stored, nothing is stored twice, and
 * nothing is stored that was never sent. Returns the numbers for the test's log line.
 */
export async function checkStored(
  p: Pipeline,
  load: { generated: Map<string, unknown>; acknowledged: Set<string>; filter: string },
) {
  const { generated, acknowledged, filter } = load;
  // Unacknowledged sends may still have landed (a 503 after a timeout); wait for at least the acked.
  await waitForCount(p, acknowledged.size, filter);
  let stored = await exportAll(p, filter);
  // Let late deliveries settle: the count must be stable for a few seconds.
  for (let stable = 0; stable < 3; ) {
    await sleep(1000);
    const again = await exportAll(p, filter);
    stable = again.length === stored.length ? stable + 1 : 0;
    stored = again;
  }
  const ids = stored.map((e) => e.event_id);
  const unique = new Set(ids);
  return {
    stored: stored.length,
    duplicates: ids.length - unique.size,
    missing: [...acknowledged].filter((id) => !unique.has(id)).length,
    unknown: ids.filter((id) => !generated.has(id)).length,
  };
}

/**
 * The trail promise: once the sealer has caught up, `pnpm verify`'s checks pass for the
 * pipeline's tenant with nothing pending — every stored event is sealed exactly once (an
 * unsealed event or a leaf sealed twice is a finding), under checkpoints that are signed,
 * chained, consistent and published to the witness file.
 */
export async function verifyPipeline(p: Pipeline, timeoutMs = 120_000): Promise<VerifyReport> {
  const run = (graceMs: number) =>
    verifyTrail({
      url: p.query.url,
      token: `Bearer ${p.readToken}`,
      keys: [p.verifierKey],
      published: parsePublished(fs.existsSync(p.witnessFile) ? fs.readFileSync(p.witnessFile, 'utf8') : ''),
      sha256: nodeSha256,
      graceMs,
    });
  const deadline = Date.now() + timeoutMs;
  let r = await run(60_000);
  while ((r.pendingEvents > 0 || r.latestSize < r.events) && Date.now() < deadline) {
    await sleep(1000);
    r = await run(60_000);
  }
  // Caught up (or out of time): now nothing may be pending.
  return run(0);
}
