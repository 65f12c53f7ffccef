/**
 * Sealed batches waiting for a writer, and at most `concurrency` of them written at once (batches
 * of different partitions; a partition has at most one). `settled` runs after each write, so the
 * owner can re-evaluate flow control when a writer frees up.
 */
export class WriterPool<T> {
  private queue: T[] = [];
  private active = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly write: (item: T) => Promise<void>,
    private readonly settled: () => void,
  ) {}

  enqueue(item: T): void {
    this.queue.push(item);
    this.pump();
  }

  /** Drops queued (not yet started) items, e.g. of a revoked partition. */
  drop(match: (item: T) => boolean): void {
    this.queue = this.queue.filter((item) => !match(item));
  }

  /** A writer would be free for one more sealed batch. */
  hasRoom(): boolean {
    return this.active + this.queue.length < this.concurrency;
  }

  /** Resolves when nothing is queued or being written. */
  idle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump() {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const item = this.queue.shift()!;
      this.active++;
      this.write(item).finally(() => {
        this.active--;
        this.settled();
        this.pump();
        if (this.active === 0 && this.queue.length === 0) {
          for (const w of this.idleWaiters.splice(0)) w();
        }
      });
    }
  }
}
