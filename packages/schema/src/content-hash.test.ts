import { describe, expect, it } from 'vitest';
import { eventContentHash } from './content-hash.ts';
import type { AuditEvent } from './event-schema.ts';

const base: AuditEvent = {
  event_id: '0190f1e2-7c3a-7d4e-8f10-123456789abc',
  event_type: 'customer.billed',
  timestamp: '2026-11-27T12:00:00.000Z',
  received_at: '2026-11-27T12:00:01.000Z',
  tenant_id: 'acme',
  source: 'billing',
  user_id: 'cust-42',
  schema_version: 1,
  event_details: { amount: 12.5, invoice: { id: 'inv-1' } },
};

describe('eventContentHash', () => {
  it('ignores received_at and key order', () => {
    const resend = {
      ...base,
      received_at: '2026-11-28T00:00:00.000Z',
      event_details: { invoice: { id: 'inv-1' }, amount: 12.5 },
    };
    expect(eventContentHash(resend)).toBe(eventContentHash(base));
    expect(eventContentHash(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with any field the producer sent', () => {
    const h = eventContentHash(base);
    expect(eventContentHash({ ...base, timestamp: '2026-11-27T12:00:00.001Z' })).not.toBe(h);
    expect(eventContentHash({ ...base, event_details: { amount: 12.5, invoice: { id: 'inv-2' } } })).not.toBe(
      h,
    );
    expect(eventContentHash({ ...base, outcome: 'success' })).not.toBe(h);
    expect(eventContentHash({ ...base, tenant_id: 'globex' })).not.toBe(h);
  });
});
