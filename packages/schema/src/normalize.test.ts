import { describe, expect, it } from 'vitest';
import { normalizeEvent } from './normalize.ts';

const ctx = { tenantId: 'acme', source: 'acme-producer', receivedAt: new Date('2026-01-02T03:04:06.789Z') };
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('normalizeEvent', () => {
  it('adds event_id (UUIDv7), received_at, tenant_id, source and defaults; normalizes the timestamp', () => {
    const e = normalizeEvent(
      { event_type: 'a.b', timestamp: '2026-01-02T04:04:05.5+01:00', user_id: 'u' },
      ctx,
    );
    expect(e.event_id).toMatch(V7);
    expect(e).toEqual({
      event_id: e.event_id,
      event_type: 'a.b',
      timestamp: '2026-01-02T03:04:05.500Z',
      received_at: '2026-01-02T03:04:06.789Z',
      tenant_id: 'acme',
      source: 'acme-producer',
      user_id: 'u',
      schema_version: 1,
      event_details: {},
    });
  });

  it('keeps a client event_id (lower-cased) and common fields; the token tenant wins, the body source wins', () => {
    const e = normalizeEvent(
      {
        event_id: 'ABCDEF01-2345-4678-89AB-CDEF01234567',
        event_type: 'a',
        timestamp: '2026-01-02T03:04:05Z',
        user_id: 'u',
        tenant_id: 'globex',
        source: 'billing',
        ip: '::1',
        schema_version: 4,
        event_details: { x: 1 },
      },
      ctx,
    );
    expect(e).toEqual({
      event_id: 'abcdef01-2345-4678-89ab-cdef01234567',
      event_type: 'a',
      timestamp: '2026-01-02T03:04:05.000Z',
      received_at: '2026-01-02T03:04:06.789Z',
      tenant_id: 'acme',
      source: 'billing',
      user_id: 'u',
      ip: '::1',
      schema_version: 4,
      event_details: { x: 1 },
    });
    expect(Object.keys(e)).toEqual([
      'event_id',
      'event_type',
      'timestamp',
      'received_at',
      'tenant_id',
      'source',
      'user_id',
      'ip',
      'schema_version',
      'event_details',
    ]);
  });

  it('throws on an unvalidated bad timestamp rather than store garbage', () => {
    expect(() =>
      normalizeEvent({ event_type: 'a', timestamp: '2026-02-30T00:00:00Z', user_id: 'u' }, ctx),
    ).toThrow(/invalid timestamp/);
  });
});
