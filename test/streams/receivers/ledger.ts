import type { AuditEvent } from '@audit/schema';

export interface Rejection {
  reason: string;
  detail: string;
  at: number;
}

/** What a receiver saw, in the terms the streams tests assert on. */
export interface ReceivedRecords {
  /** Requests (for syslog: messages) accepted. */
  deliveries: number;
  /** Rejected requests by reason, e.g. `{ badSignature: 2 }`. */
  rejected: Record<string, number>;
  /** Every rejection with its detail, for a failing test's message. */
  rejections: Rejection[];
  /** event_id → how many times it was accepted: > 1 is a duplicate delivery. */
  events(): Map<string, number>;
  /** Each event once, in the order it first arrived: per-partition order is checked on this. */
  firstArrival(): AuditEvent[];
  /** Every tenant_id accepted: a destination must see only its own tenant's events. */
  tenants(): Set<string>;
  /** event_id → Date.now() when it first arrived: delivery latency is measured on these. */
  firstArrivalAt(): Map<string, number>;
}

/** The bookkeeping every receiver shares; a receiver decides what to accept, the ledger counts. */
export class Ledger {
  #deliveries = 0;
  #rejections: Rejection[] = [];
  #counts = new Map<string, number>();
  #first: AuditEvent[] = [];
  #firstAt = new Map<string, number>();

  /** One accepted request carrying `events`, in the order they were sent. */
  accept(events: AuditEvent[]): void {
    this.#deliveries++;
    for (const event of events) {
      const seen = this.#counts.get(event.event_id) ?? 0;
      if (seen === 0) {
        this.#first.push(event);
        this.#firstAt.set(event.event_id, Date.now());
      }
      this.#counts.set(event.event_id, seen + 1);
    }
  }

  reject(reason: string, detail: string): void {
    this.#rejections.push({ reason, detail, at: Date.now() });
  }

  records(): ReceivedRecords {
    const rejected: Record<string, number> = {};
    for (const r of this.#rejections) rejected[r.reason] = (rejected[r.reason] ?? 0) + 1;
    const first = [...this.#first];
    const counts = new Map(this.#counts);
    const firstAt = new Map(this.#firstAt);
    return {
      deliveries: this.#deliveries,
      rejected,
      rejections: [...this.#rejections],
      events: () => new Map(counts),
      firstArrival: () => [...first],
      tenants: () => new Set(first.map((e) => e.tenant_id)),
      firstArrivalAt: () => new Map(firstAt),
    };
  }
}
