/**
 * The content hashes of the last `max` events with a client-chosen id that Kafka acknowledged
 * here, by eventKey. A resend usually follows within seconds, before the sink has stored the
 * original, when the id index cannot know it yet. Oldest forgotten first (a Map iterates in
 * insertion order); `max` 0 remembers nothing.
 */
export interface RecentIds {
  get(key: string): string | undefined;
  remember(key: string, contentHash: string): void;
  readonly size: number;
}

export function createRecentIds(max: number): RecentIds {
  const map = new Map<string, string>();
  return {
    get: (key) => map.get(key),
    remember(key, contentHash) {
      if (max === 0) return;
      map.delete(key);
      map.set(key, contentHash);
      if (map.size > max) map.delete(map.keys().next().value as string);
    },
    get size() {
      return map.size;
    },
  };
}
