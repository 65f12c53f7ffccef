import type { StackConfig } from '@audit/config';
import kafkajs, { type AclEntry, type Admin } from 'kafkajs';
import { type AclTopics, applyAcls, serviceAcls, tenantAcls, tenantTopic } from './acls.ts';
import { createTopicsReady, type TopicSpec } from './topics.ts';

const { ConfigResourceTypes } = kafkajs;

/** The ACL topic names of a stack config, with the services' consumer groups (defaults: the services'). */
export function aclTopicsOf(
  cfg: Pick<
    StackConfig,
    | 'KAFKA_TOPIC'
    | 'KAFKA_DLQ_TOPIC'
    | 'KAFKA_LEAVES_TOPIC'
    | 'KAFKA_CHECKPOINTS_TOPIC'
    | 'KAFKA_TENANT_TOPIC_PREFIX'
  >,
  groups: { sink?: string; sealer?: string; streamer?: string } = {},
): AclTopics {
  return {
    events: cfg.KAFKA_TOPIC,
    dlq: cfg.KAFKA_DLQ_TOPIC,
    leaves: cfg.KAFKA_LEAVES_TOPIC,
    checkpoints: cfg.KAFKA_CHECKPOINTS_TOPIC,
    tenantPrefix: cfg.KAFKA_TENANT_TOPIC_PREFIX,
    sinkGroup: groups.sink ?? 'audit-sink',
    sealerGroup: groups.sealer ?? 'audit-sealer',
    streamerGroup: groups.streamer ?? 'audit-streamer.',
  };
}

/** The topics of one pipeline as the deployment creates them (the services create none). */
export function pipelineTopicSpecs(t: AclTopics, partitions: number): TopicSpec[] {
  return [
    { topic: t.events, partitions },
    { topic: t.dlq, partitions: 1 },
    // Tamper evidence (docs/integrity.md): one partition = one order; checkpoints are kept forever.
    { topic: t.leaves, partitions: 1 },
    { topic: t.checkpoints, partitions: 1, configs: { 'retention.ms': '-1' } },
  ];
}

/**
 * Creates a pipeline's topics (existing ones are left alone) and the services' ACLs on them,
 * plus the given tenants' topics and producer ACLs; idempotent. Returns the ACLs it applied
 * (tests remove theirs afterwards). Needs an admin principal.
 */
export async function provisionPipeline(
  admin: Admin,
  t: AclTopics,
  o: { partitions: number; tenants?: readonly string[] },
): Promise<AclEntry[]> {
  await createTopicsReady(admin, [
    ...pipelineTopicSpecs(t, o.partitions),
    ...(o.tenants ?? []).map((tenant) => ({
      topic: tenantTopic(t.tenantPrefix, tenant),
      partitions: o.partitions,
    })),
  ]);
  const acl = [
    ...serviceAcls(t),
    ...(o.tenants ?? []).flatMap((tenant) => tenantAcls(t.tenantPrefix, tenant)),
  ];
  await applyAcls(admin, acl);
  return acl;
}

/**
 * A tenant's topic for direct producers, shaped like the events topic (its partition count and
 * its topic-level settings such as retention), and the WRITE ACL of the tenant's principal on it.
 * The principal's SCRAM credential is set separately (kafkajs cannot: docs/operations.md).
 */
export async function provisionTenantTopic(
  admin: Admin,
  t: Pick<AclTopics, 'events' | 'tenantPrefix'>,
  tenant: string,
): Promise<{ topic: string; partitions: number; acl: AclEntry[] }> {
  const acl = tenantAcls(t.tenantPrefix, tenant);
  const topic = tenantTopic(t.tenantPrefix, tenant);
  const md = await admin.fetchTopicMetadata({ topics: [t.events] });
  const partitions = md.topics[0]?.partitions.length ?? 0;
  if (partitions === 0)
    throw new Error(`the events topic ${t.events} does not exist: provision the pipeline first`);
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: t.events }],
  });
  const configs: Record<string, string> = {};
  for (const e of described.resources[0]?.configEntries ?? []) {
    // Only what was set on the events topic itself; the rest stays the broker's default.
    if (!e.isDefault && !e.readOnly && e.configSource === 1) configs[e.configName] = e.configValue;
  }
  await createTopicsReady(admin, [{ topic, partitions, configs }]);
  await applyAcls(admin, acl);
  return { topic, partitions, acl };
}
