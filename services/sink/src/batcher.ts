/**
 * Pure accumulation of Kafka messages into per-partition batches, each over one contiguous range of
 * offsets (as delivered: a gap left by compaction or control records stays inside the range).
 *
 * Invariants that make redelivery safe:
 * - a partition holds either one open batch (filling) or one sealed batch (being written), never
 *   both: while sealed it takes nothing, and the caller pauses its fetching;
 * - offsets below the partition's position (already buffered, written or committed here) are
 *   skipped, so a refetch after a rebalance never overlaps a batch;
 * - cuts by rows/bytes depend only on the message sequence, so a range redelivered from the same
 *   committed offset is cut the same way and gets the same deduplication token.
 */

export interface BatchLimits {
  maxRows: number;
  maxBytes: number;
  maxWaitMs: number;
}

export interface Item<T> {
  offset: string;
  bytes: number;
  value: T;
}

export interface Batch<T> {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  items: T[];
  bytes: number;
  openedAt: number;
}

export interface OfferResult<T> {
  /** Offset through which messages were consumed (taken or skipped); resolve it in kafkajs. */
  resolveThrough?: string;
  /** Number of offered items consumed; the rest must be offered again later (refetched). */
  consumed: number;
  skipped: number;
  sealed?: Batch<T>;
}

interface PartitionState<T> {
  open?: Batch<T>;
  sealed?: Batch<T>;
  /** Next offset expected: everything below is buffered, written or committed. */
  position?: bigint;
}

export const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class Batcher<T> {
  private readonly parts = new Map<string, PartitionState<T>>();

  constructor(private readonly limits: BatchLimits) {}

  private state(topic: string, partition: number): PartitionState<T> {
    const key = partitionKey(topic, partition);
    let s = this.parts.get(key);
    if (!s) {
      s = {};
      this.parts.set(key, s);
    }
    return s;
  }

  /** Offers a fetched run of messages (ascending offsets) of one partition. */
  offer(topic: string, partition: number, items: Item<T>[], now: number): OfferResult<T> {
    const s = this.state(topic, partition);
    const result: OfferResult<T> = { consumed: 0, skipped: 0 };
    if (s.sealed) return result;
    for (const item of items) {
      const offset = BigInt(item.offset);
      if (s.position !== undefined && offset < s.position) {
        result.consumed++;
        result.skipped++;
        result.resolveThrough = item.offset;
        continue;
      }
      const open = s.open;
      if (
        open &&
        (open.items.length >= this.limits.maxRows || open.bytes + item.bytes > this.limits.maxBytes)
      ) {
        result.sealed = this.seal(s);
        return result;
      }
      if (open) {
        open.items.push(item.value);
        open.bytes += item.bytes;
        open.lastOffset = item.offset;
      } else {
        s.open = {
          topic,
          partition,
          firstOffset: item.offset,
          lastOffset: item.offset,
          items: [item.value],
          bytes: item.bytes,
          openedAt: now,
        };
      }
      s.position = offset + 1n;
      result.consumed++;
      result.resolveThrough = item.offset;
    }
    // Seal as soon as full, without waiting for the next message to prove it.
    if (s.open && s.open.items.length >= this.limits.maxRows) result.sealed = this.seal(s);
    return result;
  }

  private seal(s: PartitionState<T>): Batch<T> {
    const batch = s.open!;
    s.sealed = batch;
    s.open = undefined;
    return batch;
  }

  /** Seals open batches whose first message waited `maxWaitMs` (all of them when `force`). */
  due(now: number, force = false): Batch<T>[] {
    const out: Batch<T>[] = [];
    for (const s of this.parts.values()) {
      if (s.open && !s.sealed && (force || now - s.open.openedAt >= this.limits.maxWaitMs)) {
        out.push(this.seal(s));
      }
    }
    return out;
  }

  /**
   * Seals the largest open batch (by bytes), if any. Used when the global memory budget is reached
   * while no batch is full: the cut then depends on timing, like a `maxWaitMs` cut (see consumer.ts).
   */
  sealLargest(): Batch<T> | undefined {
    let best: PartitionState<T> | undefined;
    for (const s of this.parts.values()) {
      if (s.open && !s.sealed && (!best || s.open.bytes > best.open!.bytes)) best = s;
    }
    return best ? this.seal(best) : undefined;
  }

  /** The sealed batch of a partition was written (or abandoned): the partition takes messages again. */
  release(topic: string, partition: number, batch: Batch<T>): void {
    const s = this.parts.get(partitionKey(topic, partition));
    if (s?.sealed === batch) s.sealed = undefined;
  }

  /**
   * The partition was revoked: forget it. Whoever owns it next starts from the committed offset, so
   * nothing buffered here may be written or committed any more.
   */
  revoke(topic: string, partition: number): void {
    this.parts.delete(partitionKey(topic, partition));
  }

  isSealed(topic: string, partition: number): boolean {
    return this.parts.get(partitionKey(topic, partition))?.sealed !== undefined;
  }

  /** Bytes held in open and sealed batches (the memory the sink bounds). */
  bufferedBytes(): number {
    let n = 0;
    for (const s of this.parts.values()) n += (s.open?.bytes ?? 0) + (s.sealed?.bytes ?? 0);
    return n;
  }

  partitions(): Array<{ topic: string; partition: number }> {
    const out: Array<{ topic: string; partition: number }> = [];
    for (const s of this.parts.values()) {
      const b = s.open ?? s.sealed;
      if (b) out.push({ topic: b.topic, partition: b.partition });
    }
    return out;
  }
}
