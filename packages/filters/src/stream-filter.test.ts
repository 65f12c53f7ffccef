import type { AuditEvent } from '@audit/schema';
import { describe, expect, it } from 'vitest';
import { compileMatcher } from './match.ts';
import { parseStreamFilter } from './stream-filter.ts';

function rejects(query: string, parameter: string, message: RegExp) {
  try {
    parseStreamFilter(query);
  } catch (err) {
    const e = err as { status: number; code: string; message: string; details: { parameter: string } };
    expect(e.status).toBe(400);
    expect(e.code).toBe('invalid_parameter');
    expect(e.details.parameter).toBe(parameter);
    expect(e.message).toMatch(message);
    return;
  }
  throw new Error(`expected ${query} to be refused`);
}

const event = (over: Partial<AuditEvent>): AuditEvent => ({
  event_id: '0190f1e2-7c3a-7d4e-8f10-123456789abc',
  event_type: 'user.created',
  timestamp: '2026-01-02T03:04:05.678Z',
  received_at: '2026-01-02T03:04:06.000Z',
  tenant_id: 'acme',
  source: 's',
  user_id: 'u1',
  schema_version: 1,
  event_details: {},
  ...over,
});

describe('parseStreamFilter', () => {
  it('parses the query API’s language and gives a sorted canonical form', () => {
    const { filters, canonical } = parseStreamFilter('event_type[prefix]=user.&details.amount[gte]=10');
    expect(filters.conditions.map((c) => [c.param, c.op, c.value])).toEqual([
      ['event_type[prefix]', 'prefix', 'user.'],
      ['details.amount[gte]', 'gte', 10],
    ]);
    expect(canonical).toBe('details.amount[gte]=10&event_type[prefix]=user.');
    const m = compileMatcher(filters);
    expect(m(event({ event_details: { amount: 10 } }))).toBe(true);
    expect(m(event({ event_details: { amount: 9.5 } }))).toBe(false);
    expect(m(event({ event_type: 'order.created', event_details: { amount: 10 } }))).toBe(false);
  });

  it('decodes like a request: percent-encoding, + as a space, a leading ?', () => {
    const { filters, canonical } = parseStreamFilter(
      '?details.a%2Bb=x+y&details.%D0%BA=%F0%9F%98%80&action%5Bin%5D=a%2Cb,c',
    );
    expect(filters.conditions.map((c) => [c.field, c.value])).toEqual([
      [{ kind: 'details', path: 'a+b' }, 'x y'],
      [{ kind: 'details', path: 'к' }, '😀'],
      [{ kind: 'column', name: 'action', type: 'string', optional: true }, ['a', 'b', 'c']],
    ]);
    expect(canonical).toBe('action[in]=a,b,c&details.a%2Bb=x%20y&details.%D0%BA=%F0%9F%98%80');
  });

  it('its canonical form parses to the same filters and the same text', () => {
    for (const q of [
      'user_id=1&action=2',
      'details.x y[ne]=a&details.b&user_id[in]=x,,y&access_records=only',
      'details.tags[0][eq]=%5B%5D&details.k%26=%3D%25',
      '',
    ]) {
      const first = parseStreamFilter(q);
      const again = parseStreamFilter(first.canonical);
      expect(again.canonical).toBe(first.canonical);
      expect(again.filters.accessRecords).toBe(first.filters.accessRecords);
      expect(new Set(again.filters.conditions.map((c) => JSON.stringify(c)))).toEqual(
        new Set(first.filters.conditions.map((c) => JSON.stringify(c))),
      );
    }
  });

  it('the empty filter matches every event but the service’s own records', () => {
    const { filters, canonical } = parseStreamFilter('');
    expect(canonical).toBe('');
    const m = compileMatcher(filters);
    expect(m(event({}))).toBe(true);
    expect(m(event({ event_type: 'audit.log.viewed' }))).toBe(false);
    expect(
      compileMatcher(parseStreamFilter('access_records=include').filters)(
        event({ event_type: 'audit.log.viewed' }),
      ),
    ).toBe(true);
  });

  it('refuses a time range and everything the query API refuses', () => {
    rejects('from=2026-01-01T00:00:00Z', 'from', /a stream has no time range/);
    rejects('event_type=x&to=2026-01-01T00:00:00Z', 'to', /a stream has no time range/);
    rejects('limit=10', 'limit', /unknown parameter/);
    rejects('cursor=abc', 'cursor', /unknown parameter/);
    rejects('a=1&a=2', 'a', /unknown parameter/);
    rejects('user_id=1&user_id=2', 'user_id', /more than once/);
    rejects('details.n[gt]=abc', 'details.n[gt]', /must be a number/);
    rejects('access_records=all', 'access_records', /must be one of/);
    rejects('event_id=nope', 'event_id', /must be a UUID/);
  });
});
