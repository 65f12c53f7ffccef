import { randomUUID } from 'node:crypto';
import type { StackConfig } from '@audit/config';
import { type Kafka, stackKafka } from '@audit/kafka';

export interface BenchTopic {
  topic: string;
  dlq: string;
  /** Deletes the topic and its DLQ (best effort: a bench must not fail on cleanup). */
  drop(): Promise<void>;
}

/** A Kafka client for the bench process itself (ceilings, admin): the stack's admin principal. */
export function benchKafka(stack: StackConfig, clientId = 'audit-bench'): Kafka {
  return stackKafka(stack, clientId, { requestTimeoutMs: 30_000 });
}

/** A fresh topic (and DLQ) per run, so concurrent runs and tests never share data. */
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
      ],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  return {
    topic,
    dlq,
    async drop() {
      const a = kafka.admin();
      try {
        await a.connect();
        await a.deleteTopics({ topics: [topic, dlq] });
      } catch {
        // leftover bench topics are harmless; the broker keeps running
      } finally {
        await a.disconnect().catch(() => {});
      }
    },
  };
}
