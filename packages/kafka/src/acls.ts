import kafkajs, {
  type AclEntry,
  type AclOperationTypes,
  type AclResourceTypes,
  type Admin,
  type ResourcePatternTypes,
} from 'kafkajs';

// kafkajs is CommonJS and Node's named-export detection misses these enums: read them off the module.
const {
  AclOperationTypes: Op,
  AclPermissionTypes,
  AclResourceTypes: Res,
  ResourcePatternTypes: Pat,
} = kafkajs;

/**
 * The services' Kafka principals and their development passwords (the local stack creates them;
 * production sets KAFKA_SASL_USERNAME/PASSWORD per service). Tenant producers are `tenant-<id>`.
 */
export const SERVICE_PRINCIPALS = {
  ingest: { username: 'audit-ingest', devPassword: 'ingest-dev-password' },
  sink: { username: 'audit-sink', devPassword: 'sink-dev-password' },
  sealer: { username: 'audit-sealer', devPassword: 'sealer-dev-password' },
  query: { username: 'audit-query', devPassword: 'query-dev-password' },
  streamer: { username: 'audit-streamer', devPassword: 'streamer-dev-password' },
} as const;

/** Topic names the ACLs refer to (the stack config's). */
export interface AclTopics {
  events: string;
  dlq: string;
  leaves: string;
  checkpoints: string;
  /** Prefix of the tenants' own topics: `<prefix><tenant_id>`. */
  tenantPrefix: string;
  /** Consumer groups, PREFIXED: `audit-sink` also covers e.g. `audit-sink-blue`. */
  sinkGroup: string;
  sealerGroup: string;
  /** Prefix of the streamer's groups: one per stream, `<prefix><stream_id>`. */
  streamerGroup: string;
}

const { READ, WRITE } = Op;
const { TOPIC, GROUP } = Res;
const { LITERAL, PREFIXED } = Pat;

function allow(
  user: string,
  resourceType: AclResourceTypes,
  resourceName: string,
  operation: AclOperationTypes,
  pattern: ResourcePatternTypes = LITERAL,
): AclEntry {
  return {
    principal: `User:${user}`,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
    resourceType,
    resourceName,
    resourcePatternType: pattern,
  };
}

/**
 * Least privilege per service: ingest and the query API write the events topic; the sink reads
 * the events topic and every tenant topic (prefixed) in its group and writes the DLQ and leaves;
 * the sealer reads the leaves in its group and writes the checkpoints; the streamer reads what the
 * sink reads, in its own groups (one per stream), and writes nothing. READ and WRITE imply
 * DESCRIBE (metadata, listing the topic). No IDEMPOTENT_WRITE on the cluster: since Kafka 3.0
 * (KIP-679) WRITE on a topic is enough for an idempotent producer's InitProducerId, and nobody
 * uses transactions. Nobody but the admin may create topics or change ACLs: the deployment
 * creates the topics (the stack tool, compose's and Kubernetes' init jobs).
 */
export function serviceAcls(t: AclTopics, p = SERVICE_PRINCIPALS): AclEntry[] {
  return [
    allow(p.ingest.username, TOPIC, t.events, WRITE),
    allow(p.query.username, TOPIC, t.events, WRITE),
    allow(p.sink.username, TOPIC, t.events, READ),
    allow(p.sink.username, TOPIC, t.tenantPrefix, READ, PREFIXED),
    allow(p.sink.username, GROUP, t.sinkGroup, READ, PREFIXED),
    allow(p.sink.username, TOPIC, t.dlq, WRITE),
    allow(p.sink.username, TOPIC, t.leaves, WRITE),
    allow(p.sealer.username, TOPIC, t.leaves, READ),
    allow(p.sealer.username, GROUP, t.sealerGroup, READ, PREFIXED),
    allow(p.sealer.username, TOPIC, t.checkpoints, WRITE),
    allow(p.streamer.username, TOPIC, t.events, READ),
    allow(p.streamer.username, TOPIC, t.tenantPrefix, READ, PREFIXED),
    allow(p.streamer.username, GROUP, t.streamerGroup, READ, PREFIXED),
  ];
}

export const tenantPrincipal = (tenant: string) => `tenant-${tenant}`;
export const tenantTopic = (prefix: string, tenant: string) => `${prefix}${tenant}`;

/** Kafka topic names allow [a-zA-Z0-9._-] up to 249 characters; tenants with others have no topic. */
export const TENANT_TOPIC_ID = /^[a-zA-Z0-9._-]{1,200}$/;

/** A tenant's producer may write its own topic (LITERAL) and nothing else: no read, no group. */
export function tenantAcls(prefix: string, tenant: string): AclEntry[] {
  if (!TENANT_TOPIC_ID.test(tenant))
    throw new Error(`tenant id ${JSON.stringify(tenant)} cannot name a topic`);
  const user = tenantPrincipal(tenant);
  return [allow(user, TOPIC, tenantTopic(prefix, tenant), WRITE)];
}

/** The tenant a topic belongs to, or undefined for a topic outside the prefix. */
export function topicTenant(prefix: string, topic: string): string | undefined {
  return topic.startsWith(prefix) && topic.length > prefix.length ? topic.slice(prefix.length) : undefined;
}

const nameOf = (e: object, v: unknown) => Object.entries(e).find(([, x]) => x === v)?.[0] ?? String(v);

/** An ACL in Kafka's own words (as `kafka-acls.sh --list` prints them): for docs, logs, tests. */
export function describeAcl(a: AclEntry) {
  return {
    principal: a.principal,
    operation: nameOf(Op, a.operation),
    resourceType: nameOf(Res, a.resourceType),
    resourceName: a.resourceName,
    pattern: nameOf(Pat, a.resourcePatternType),
  };
}

const aclKey = (a: AclEntry) =>
  [
    a.principal,
    a.host,
    a.operation,
    a.permissionType,
    a.resourceType,
    a.resourceName,
    a.resourcePatternType,
  ].join('\u0000');

/**
 * Creates the ACLs (the broker ignores ones that exist already) and returns once the broker
 * enforces them: KRaft commits them to the metadata log and the broker's authorizer applies them a
 * moment later, and a client starting in between (a service right after `stack:up`) would be
 * refused. The broker answers DescribeAcls from that same authorizer. Needs an admin principal.
 */
export async function applyAcls(admin: Admin, acl: AclEntry[], timeoutMs = 15_000): Promise<void> {
  if (acl.length === 0) return;
  await admin.createAcls({ acl });
  const want = new Set(acl.map(aclKey));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await admin.describeAcls({
      resourceType: Res.ANY,
      resourcePatternType: Pat.ANY,
      operation: Op.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    const have = new Set(r.resources.flatMap((res) => res.acls.map((a) => aclKey({ ...res, ...a }))));
    const missing = [...want].filter((k) => !have.has(k));
    if (missing.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${missing.length} ACLs not in force after ${timeoutMs} ms (e.g. ${missing[0]!.split('\u0000').join(' ')})`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Removes exactly these ACLs (a test's, a deprovisioned tenant's). */
export async function removeAcls(admin: Admin, acl: AclEntry[]): Promise<void> {
  if (acl.length === 0) return;
  await admin.deleteAcls({
    filters: acl.map((a) => ({
      principal: a.principal,
      host: a.host,
      operation: a.operation,
      permissionType: a.permissionType,
      resourceType: a.resourceType,
      resourceName: a.resourceName,
      resourcePatternType: a.resourcePatternType,
    })),
  });
}
