import { type AuditEvent, eventContentHash } from '@audit/schema';
import { describe, expect, it } from 'vitest';
import { toClickHouseTime } from './time.ts';
import { toRow } from './to-row.ts';

describe('toRow', () => {
  const event: AuditEvent = {
    event_id: '0190a5a8-7b3c-7d4e-8f00-000000000001',
    event_type: 'customer.account.created',
    timestamp: '2026-01-02T03:04:05.678Z',
    received_at: '2026-01-02T03:04:06.000Z',
    tenant_id: 'acme',
    source: 'billing',
    user_id: 'u1',
    resource_id: 'r9',
    schema_version: 1,
    event_details: { plan: 'pro', amount: 42, flags: [true, null], nested: { empty: {} } },
  };

  it('maps the event to the table columns', () => {
    expect(toRow(event, 4, '1234')).toEqual({
      tenant_id: 'acme',
      event_id: '0190a5a8-7b3c-7d4e-8f00-000000000001',
      event_type: 'customer.account.created',
      timestamp: '2026-01-02 03:04:05.678',
      received_at: '2026-01-02 03:04:06.000',
      user_id: 'u1',
      source: 'billing',
      actor_type: '',
      resource_type: '',
      resource_id: 'r9',
      action: '',
      outcome: '',
      ip: '',
      user_agent: '',
      schema_version: 1,
      details: { plan: 'pro', amount: '42', 'flags.0': 'true', 'flags.1': 'null' },
      details_type: {
        plan: 'string',
        amount: 'number',
        flags: 'array',
        'flags.0': 'boolean',
        'flags.1': 'null',
        nested: 'object',
        'nested.empty': 'object',
      },
      event_details: '{"plan":"pro","amount":42,"flags":[true,null],"nested":{"empty":{}}}',
      content_hash: eventContentHash(event),
      kafka_partition: 4,
      kafka_offset: 1234,
    });
  });

  it('formats other ISO forms as UTC', () => {
    expect(toClickHouseTime('2026-01-02T05:04:05+02:00')).toBe('2026-01-02 03:04:05.000');
    expect(() => toClickHouseTime('nope')).toThrow();
  });
});
