import type { KafkaMessage } from '@audit/kafka';
import { describe, expect, it } from 'vitest';
import { chunk, type SelectContext, selectMessages } from './select.ts';
import { guardedLookup } from './senders/connect.ts';
import { parseRetryAfter } from './senders/sender.ts';

const event = (tenant: string, type = 'customer.billed', extra: Record<string, unknown> = {}) => ({
  event_id: '0190f1e2-7c3a-7d4e-8f10-123456789abc',
  event_type: type,
  timestamp: new Date(Date.now() - 60_000).toISOString(),
  tenant_id: tenant,
  source: 'billing',
  user_id: 'alice',
  event_details: {},
  ...extra,
});
const msg = (value: unknown, key: string | null, offset: number): KafkaMessage =>
  ({
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    offset: String(offset),
    timestamp: String(Date.now()),
    attributes: 0,
    headers: {},
  }) as KafkaMessage;
const ctx = (o: Partial<SelectContext> = {}): SelectContext => ({
  tenant: 'acme',
  topic: 'audit.events',
  partition: 0,
  tenantTopic: false,
  retentionDays: 365,
  nowMs: Date.now(),
  matches: () => true,
  ...o,
});

describe('the messages a stream takes', () => {
  it('only its tenant’s valid, unexpired, matching events', () => {
    const batch = [
      msg(event('acme'), 'acme/1', 0),
      msg(event('globex'), 'globex/1', 1),
      // A key that lies is caught by the tenant inside.
      msg(event('globex'), 'acme/2', 2),
      msg('{not json', 'acme/3', 3),
      msg(event('acme', 'session.login'), 'acme/4', 4),
      msg(event('acme', 'customer.billed', { timestamp: '2001-01-01T00:00:00Z' }), 'acme/5', 5),
      msg(event('acme'), null, 6),
    ];
    const got = selectMessages(batch, ctx({ matches: (e) => e.event_type === 'customer.billed' }));
    expect(got.map((s) => s.offset)).toEqual(['0', '6']);
  });

  it('on a tenant’s own topic: that tenant’s events only, and no service records', () => {
    const batch = [
      msg(event('acme'), null, 0),
      msg(event('globex'), null, 1),
      msg(event('acme', 'audit.log.viewed'), null, 2),
    ];
    expect(
      selectMessages(batch, ctx({ tenantTopic: true, topic: 'audit.t.acme' })).map((s) => s.offset),
    ).toEqual(['0']);
  });

  it('chunks by events and bytes, in order', () => {
    const s = (i: number, bytes = 10) => ({ event: {} as never, offset: String(i), kafkaMs: 0, bytes });
    expect(chunk([s(0), s(1), s(2)], 2, 1000).map((c) => c.map((x) => x.offset))).toEqual([
      ['0', '1'],
      ['2'],
    ]);
    expect(chunk([s(0, 600), s(1, 600), s(2, 10)], 10, 1000).map((c) => c.length)).toEqual([1, 2]);
  });
});

describe('retries and connections', () => {
  it('Retry-After in seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });

  it('a name that resolves to a private address is never connected to under the strict policy', async () => {
    const lookup = guardedLookup({ allowPrivate: false, allowPlaintext: false });
    const err = await new Promise<Error | null>((resolve) => lookup('localhost', {}, (e) => resolve(e)));
    expect(err?.message).toMatch(/private/);
    const open = guardedLookup({ allowPrivate: true, allowPlaintext: false });
    const addr = await new Promise<string>((resolve) => open('localhost', {}, (_e, a) => resolve(String(a))));
    expect(addr).toMatch(/127\.0\.0\.1|::1/);
  });
});
