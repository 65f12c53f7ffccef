import type { Admin } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
  /** Topic configs at creation, e.g. `{ 'retention.ms': '-1' }` (an existing topic keeps its own). */
  configs?: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Creates topics (existing ones are left alone) and returns once the broker's metadata lists
 * every partition with a leader. kafkajs' own `waitForLeaders` can fail right after creation
 * with UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this topic-partition") while the
 * new topic propagates, so both steps retry until the deadline.
 */
export async function createTopicsReady(
  admin: Admin,
  topics: TopicSpec[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      // Only the missing ones: the broker answers an existing topic with TOPIC_ALREADY_EXISTS,
      // which kafkajs ignores but logs at error level — on every start of every service.
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length === 0) break;
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor ?? 1,
          configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const md = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      const ready = topics.every((spec) => {
        const t = md.topics.find((m) => m.name === spec.topic);
        return (
          t !== undefined &&
          t.partitions.length >= spec.partitions &&
          t.partitions.every((p) => p.leader >= 0)
        );
      });
      if (ready) return;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(
    `topics ${topics.map((t) => t.topic).join(', ')} not ready: ${String(last ?? 'no leaders')}`,
  );
}
