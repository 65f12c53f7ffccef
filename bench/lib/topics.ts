import { randomUUID } from 'node:crypto';
import type { StackConfig } from '@audit/config';
import { applyAcls, type Kafka, serviceAcls, stackKafka } from '@audit/kafka';

export interface BenchTopic {
  topic: string;
  dlq: string;
  /** Environment that points a service at this topic (and at no tenant topic but its own). */
  env: Record<string, string>;
  /** Deletes the topic and its DLQ (best effort: a bench must not fail on cleanup). */
  drop(): Promise<void>;
}

/** A Kafka client for the bench process itself (ceilings, admin): the stack's admin principal. */
export function benchKafka(stack: StackConfig, clientId = 'audit-bench'): Kafka {
  return stackKafka(stack, clientId, { requestTimeoutMs: 30_000 });
}

/** Consumer groups of the services a bench starts: `bench-<uuid>`, one prefixed ACL for all. */
export const BENCH_GROUP_PREFIX = 'bench-';

/**
 * A fresh topic (and DLQ, and a checkpoints topic should it carry leaves) per run, so concurrent
 * runs and tests never share data; the services' principals get their ACLs on exactly these.
 */
export async function createBenchTopic(kafka: Kafka, label: string, partitions = 6): Promise<BenchTopic> {
  const topic = `bench.${label}.${randomUUID().slice(0, 8)}`;
  const dlq = `${topic}.dlq`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        { topic, numPartitions: partitions, replicationFactor: 1 },
        { topic: dlq, numPartitions: 1, replicationFactor: 1 },
        { topic: `${topic}.checkpoints`, numPartitions: 1, replicationFactor: 1 },
      ],
      waitForLeaders: true,
    });
    // The topic may serve as events or as leaves topic: the services authenticate as themselves.
    await applyAcls(
      admin,
      serviceAcls({
        events: topic,
        dlq,
        leaves: topic,
        checkpoints: `${topic}.checkpoints`,
        tenantPrefix: `${topic}.t.`,
        sinkGroup: BENCH_GROUP_PREFIX,
        sealerGroup: BENCH_GROUP_PREFIX,
        streamerGroup: BENCH_GROUP_PREFIX,
      }),
    );
  } finally {
    await admin.disconnect();
  }
  return {
    topic,
    dlq,
    env: { KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlq, KAFKA_TENANT_TOPIC_PREFIX: `${topic}.t.` },
    async drop() {
      const a = kafka.admin();
      try {
        await a.connect();
        await a.deleteTopics({ topics: [topic, dlq, `${topic}.checkpoints`] });
      } catch {
        // leftover bench topics are harmless; the broker keeps running
      } finally {
        await a.disconnect().catch(() => {});
      }
    },
  };
}
