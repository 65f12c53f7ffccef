import { describe, expect, it } from 'vitest';
import type { AuditEvent } from './event-schema.ts';
import { UNKNOWN_FIELD_MESSAGE } from './event-schema.ts';
import { kafkaEventId, validateKafkaMessage } from './kafka-message.ts';
import { LIMITS } from './limits.ts';
import { normalizeEvent, serializeEvent } from './normalize.ts';
import { baseEvent } from './test-fixtures.ts';
import { validateEvent } from './validate.ts';

const meta = { topic: 'audit.events', partition: 3, offset: '12345', timestamp: '1767323045678' };
const V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('kafkaEventId', () => {
  it('is the same for the same message and differs per topic, partition and offset', () => {
    const id = kafkaEventId(meta);
    expect(id).toMatch(V8);
    expect(kafkaEventId({ ...meta })).toBe(id);
    expect(kafkaEventId({ ...meta, offset: '12346' })).not.toBe(id);
    expect(kafkaEventId({ ...meta, partition: 4 })).not.toBe(id);
    expect(kafkaEventId({ ...meta, topic: 'audit.events2' })).not.toBe(id);
    // No ambiguity between fields: partition 1 offset 23 vs partition 12 offset 3.
    expect(kafkaEventId({ ...meta, partition: 1, offset: '23' })).not.toBe(
      kafkaEventId({ ...meta, partition: 12, offset: '3' }),
    );
  });
});

describe('validateKafkaMessage', () => {
  it('round-trips an event written by the ingest API unchanged', () => {
    const r = validateEvent(
      baseEvent({
        event_id: '0190F1E2-7C3A-7D4E-8F10-123456789ABC',
        timestamp: '2026-01-02T05:04:05.123456+02:00',
        ip: '::1',
        outcome: 'success',
        action: 'create',
        event_details: { customer: { plan: 'pro', seats: 3 }, items: [{ sku: 'a' }], n: null },
      }),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const event = normalizeEvent(r.event, {
      tenantId: 'acme',
      source: 'billing',
      receivedAt: new Date('2026-01-02T03:04:06.001Z'),
    });
    const text = serializeEvent(event);
    const back = validateKafkaMessage(Buffer.from(text), meta);
    expect(back).toEqual({ ok: true, event });
    expect(back.ok && serializeEvent(back.event)).toBe(text);
    expect(event.event_id).toBe('0190f1e2-7c3a-7d4e-8f10-123456789abc');
    expect(event.timestamp).toBe('2026-01-02T03:04:05.123Z');
  });

  it('fills event_id, received_at and source for a direct producer; redelivery gives the same id', () => {
    const value = buf(baseEvent({ tenant_id: 'acme', event_details: { a: 1 } }));
    const r = validateKafkaMessage(value, meta);
    expect(r).toEqual({
      ok: true,
      event: {
        event_id: kafkaEventId(meta),
        event_type: 'customer.account.created',
        timestamp: '2026-01-02T03:04:05.000Z',
        received_at: '2026-01-02T03:04:05.678Z',
        tenant_id: 'acme',
        source: 'kafka',
        user_id: 'u1',
        schema_version: 1,
        event_details: { a: 1 },
      },
    });
    const again = validateKafkaMessage(value, { ...meta });
    expect(again.ok && again.event.event_id).toBe(kafkaEventId(meta));
    const next = validateKafkaMessage(value, { ...meta, offset: '12346' });
    expect(next.ok && next.event.event_id).not.toBe(kafkaEventId(meta));
  });

  it('keeps a producer-supplied event_id, source and received_at', () => {
    const r = validateKafkaMessage(
      buf(
        baseEvent({
          tenant_id: 'acme',
          event_id: '550e8400-e29b-41d4-a716-446655440000',
          source: 'crm',
          received_at: '2026-01-02T03:04:06+00:00',
        }),
      ),
      meta,
    );
    expect(r.ok && [r.event.event_id, r.event.source, r.event.received_at, r.event.event_details]).toEqual([
      '550e8400-e29b-41d4-a716-446655440000',
      'crm',
      '2026-01-02T03:04:06.000Z',
      {},
    ]);
  });

  it('uses a valid received_at when the broker reports no timestamp', () => {
    const r = validateKafkaMessage(buf(baseEvent({ tenant_id: 'acme' })), { ...meta, timestamp: '-1' });
    expect(r.ok && r.event.received_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('requires tenant_id and reports contract violations as invalid', () => {
    expect(validateKafkaMessage(buf(baseEvent()), meta)).toEqual({
      ok: false,
      reason: 'invalid',
      issues: [{ path: 'tenant_id', message: 'is required' }],
    });
    expect(
      validateKafkaMessage(
        buf(baseEvent({ tenant_id: 'acme', received_at: 'yesterday', kafka_offset: 1 })),
        meta,
      ),
    ).toEqual({
      ok: false,
      reason: 'invalid',
      issues: [
        {
          path: 'received_at',
          message: 'must be an RFC 3339 timestamp with offset, e.g. 2026-01-02T03:04:05Z',
        },
        { path: 'kafka_offset', message: UNKNOWN_FIELD_MESSAGE },
      ],
    });
    expect(validateKafkaMessage(buf('[1,2]'), meta)).toEqual({
      ok: false,
      reason: 'invalid',
      issues: [{ path: '', message: 'event must be a JSON object' }],
    });
  });

  it('refuses a timestamp more than 24 hours ahead of the clock (its TTL would wrap to 1970)', () => {
    const now = Date.parse('2026-12-02T00:00:00Z');
    const at = (timestamp: string) =>
      validateKafkaMessage(buf(baseEvent({ tenant_id: 'acme', timestamp })), meta, now);
    expect(at('2026-12-03T00:00:00Z').ok).toBe(true);
    expect(at('2105-06-01T00:00:00Z')).toEqual({
      ok: false,
      reason: 'invalid',
      issues: [
        {
          path: 'timestamp',
          message:
            'is more than 24 hours ahead of the server clock (latest accepted: 2026-12-03T00:00:00.000Z)',
        },
      ],
    });
  });

  it('reports an empty value, invalid UTF-8 and bad JSON as unparseable', () => {
    expect(validateKafkaMessage(null, meta)).toEqual({
      ok: false,
      reason: 'unparseable',
      issues: [{ path: '', message: 'message has no value' }],
    });
    expect(validateKafkaMessage(Buffer.from([0x7b, 0xff, 0x7d]), meta)).toEqual({
      ok: false,
      reason: 'unparseable',
      issues: [{ path: '', message: 'message value is not valid UTF-8' }],
    });
    expect(validateKafkaMessage(buf('{"a":'), meta)).toEqual({
      ok: false,
      reason: 'unparseable',
      issues: [
        { path: '', message: 'invalid JSON at position 5: unexpected end of input, expected a JSON value' },
      ],
    });
    expect(validateKafkaMessage(buf('['.repeat(10_000)), meta)).toMatchObject({
      ok: false,
      reason: 'unparseable',
    });
  });

  it(`accepts ${LIMITS.MAX_MESSAGE_BYTES} bytes of value, not one more`, () => {
    const event = baseEvent({ tenant_id: 'acme', event_details: {} as Record<string, string> });
    const details = event['event_details'] as Record<string, string>;
    for (let i = 0; i < 8; i++) details[`k${i}`] = 'x'.repeat(8000);
    const base = Buffer.byteLength(JSON.stringify(event));
    details['pad'] = 'x'.repeat(LIMITS.MAX_MESSAGE_BYTES - base - '"pad":"",'.length);
    const exact = buf(event);
    expect(exact.length).toBe(LIMITS.MAX_MESSAGE_BYTES);
    expect(validateKafkaMessage(exact, meta).ok).toBe(true);
    const over = Buffer.concat([exact, Buffer.from(' ')]);
    expect(validateKafkaMessage(over, meta)).toEqual({
      ok: false,
      reason: 'invalid',
      issues: [
        {
          path: '',
          message: `message is ${LIMITS.MAX_MESSAGE_BYTES + 1} bytes, more than the limit of 67584`,
        },
      ],
    });
  });

  it('accepts the largest HTTP event after normalization (the sink never rejects what ingest accepted)', () => {
    const event = baseEvent({
      event_details: {} as Record<string, string>,
      timestamp: '2026-01-02T03:04:05Z',
      user_id: 'u'.repeat(LIMITS.MAX_FIELD_LENGTH),
    });
    const details = event['event_details'] as Record<string, string>;
    for (let i = 0; i < 8; i++) details[`k${i}`] = 'x'.repeat(8000);
    details['pad'] = '';
    details['pad'] = 'x'.repeat(LIMITS.MAX_EVENT_BYTES - Buffer.byteLength(JSON.stringify(event)));
    const r = validateEvent(event);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const stored = normalizeEvent(r.event, {
      tenantId: 't'.repeat(LIMITS.MAX_FIELD_LENGTH),
      source: 's'.repeat(LIMITS.MAX_FIELD_LENGTH),
      receivedAt: new Date(),
    });
    expect(validateKafkaMessage(Buffer.from(serializeEvent(stored)), meta).ok).toBe(true);
  });
});

describe('serializeEvent', () => {
  const event: AuditEvent = {
    event_details: { b: 1, a: { z: 1, y: 2 } },
    schema_version: 2,
    user_agent: 'ua',
    ip: '203.0.113.7',
    user_id: 'u1',
    source: 'api',
    tenant_id: 'acme',
    received_at: '2026-01-02T03:04:06.000Z',
    timestamp: '2026-01-02T03:04:05.000Z',
    event_type: 'a.b',
    event_id: '0190f1e2-7c3a-7d4e-8f10-123456789abc',
    actor_type: 'user',
    outcome: 'success',
  };
  it('writes keys in the fixed order whatever the object order, details as given', () => {
    const text = serializeEvent(event);
    expect(Object.keys(JSON.parse(text))).toEqual([
      'event_id',
      'event_type',
      'timestamp',
      'received_at',
      'tenant_id',
      'source',
      'user_id',
      'actor_type',
      'outcome',
      'ip',
      'user_agent',
      'schema_version',
      'event_details',
    ]);
    expect(JSON.parse(text)).toEqual(event);
    expect(text.endsWith(',"schema_version":2,"event_details":{"b":1,"a":{"z":1,"y":2}}}')).toBe(true);
  });
  it('escapes strings as JSON', () => {
    const text = serializeEvent({ ...event, user_id: 'a"b\\c\n\u2028' });
    expect(JSON.parse(text).user_id).toBe('a"b\\c\n\u2028');
  });
});
