import type { Batch, Batcher } from './batcher.ts';
import type { GroupMember, TopicPartitions } from './group.ts';
import type { Held } from './held.ts';
import type { SinkMetrics } from './metrics.ts';

/**
 * Flow control, recomputed after every change: a partition fetches only while its batch is not
 * sealed (one batch per partition) and the sink is under its memory budget (`maxBufferBytes` of
 * Kafka message bytes in open, sealed and written batches). Over the budget every partition stops
 * fetching and the largest open batches are sealed whenever a writer is free, so the buffered
 * bytes drain through inserts even when no batch is full, until they are back under 3/4 of it.
 */
export class FlowControl {
  /** Over the memory budget: fetching stays paused until the buffered bytes drop to 3/4 of it. */
  private overBudget = false;

  constructor(
    private readonly batcher: Batcher<Held>,
    private readonly maxBufferBytes: number,
    private readonly group: GroupMember,
    private readonly metrics: SinkMetrics,
  ) {}

  sync(writerFree: () => boolean, seal: (b: Batch<Held>) => void): void {
    const buffered = this.batcher.bufferedBytes();
    this.metrics.bufferedBytes.set(buffered);
    if (buffered >= this.maxBufferBytes) this.overBudget = true;
    else if (buffered <= this.maxBufferBytes * 0.75) this.overBudget = false;
    while (this.overBudget && writerFree()) {
      const b = this.batcher.sealLargest();
      if (!b) break;
      seal(b);
    }
    const pause = new Map<string, number[]>();
    const resume = new Map<string, number[]>();
    for (const { topic, partition } of this.group.partitions()) {
      const target = this.overBudget || this.batcher.isSealed(topic, partition) ? pause : resume;
      const list = target.get(topic) ?? [];
      list.push(partition);
      target.set(topic, list);
    }
    const toList = (m: Map<string, number[]>): TopicPartitions =>
      [...m].map(([topic, partitions]) => ({ topic, partitions }));
    if (pause.size > 0 || resume.size > 0) this.group.flow(toList(pause), toList(resume));
  }
}
