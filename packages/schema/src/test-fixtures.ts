/** A minimal valid event for tests; each test changes only what it is about. */
export function baseEvent(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_type: 'customer.account.created',
    timestamp: '2026-01-02T03:04:05Z',
    user_id: 'u1',
    ...extra,
  };
}

/** Nested objects {a:{a:…}} with `levels` objects in all (the outermost being event_details). */
export function nested(levels: number, leaf: unknown = 1): Record<string, unknown> {
  let v: unknown = leaf;
  for (let i = 1; i < levels; i++) v = { a: v };
  return { a: v };
}
