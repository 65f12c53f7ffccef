/**
 * The event keys (tenant, event_id) of the batches between their id lookup and ClickHouse's
 * acknowledgement, across every partition this process writes. Batches of different partitions
 * run concurrently; two holding one id would both look it up, both miss and both insert. A batch
 * therefore registers all its keys at once (synchronously) and waits only for the batches that
 * registered one of them earlier: unrelated batches never wait, and as every wait points to an
 * earlier registration there is no cycle.
 */
export class InFlightKeys {
  private readonly holders = new Map<string, Promise<void>>();

  /** Resolves once no earlier batch holds any of `keys`; call the returned function when done. */
  async acquire(keys: Iterable<string>): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const earlier = new Set<Promise<void>>();
    const held: string[] = [];
    for (const key of keys) {
      const holder = this.holders.get(key);
      if (holder === mine) continue;
      if (holder) earlier.add(holder);
      this.holders.set(key, mine);
      held.push(key);
    }
    const done = () => {
      for (const key of held) if (this.holders.get(key) === mine) this.holders.delete(key);
      release();
    };
    if (earlier.size > 0) await Promise.all(earlier);
    return done;
  }

  /** Keys currently registered (waiting or held). */
  size(): number {
    return this.holders.size;
  }
}
