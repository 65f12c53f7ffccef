import { parseRequest } from '@audit/filters';
import { describe, expect, it } from 'vitest';
import { buildListQuery } from '../sql/build-query.ts';
import { parsePins, withPins } from './pins.ts';

const own = (qs: string) => parseRequest(new URLSearchParams(qs).entries(), ['limit', 'cursor']);
const where = (qs: string, pins: [string, string][]) =>
  buildListQuery({
    table: 'audit.events',
    tenant: 'acme',
    filters: withPins(own(qs), parsePins(pins)).filters,
    order: 'desc',
    limit: 10,
  });

describe('parsePins', () => {
  it('parses with the request parser, sorted, keeping the pairs as given', () => {
    const p = parsePins([
      ['user_id', 'alice'],
      ['details.k[in]', 'a,b'],
    ]);
    expect(p.pairs).toEqual([
      ['details.k[in]', 'a,b'],
      ['user_id', 'alice'],
    ]);
    expect(p.filters.conditions.map((c) => [c.param, c.op, c.value])).toEqual([
      ['user_id', 'eq', 'alice'],
      ['details.k[in]', 'in', ['a', 'b']],
    ]);
  });

  it('400s naming the parameter for what the request parser refuses, and for access_records', () => {
    for (const [pair, parameter] of [
      [['actor', 'x'], 'actor'],
      [['user_id[gt', 'x'], 'user_id[gt'],
      [['limit', '5'], 'limit'],
      [['cursor', 'x'], 'cursor'],
      [['from', 'yesterday'], 'from'],
      [['access_records', 'include'], 'access_records'],
    ] as [[string, string], string][]) {
      let err: { status?: number; details?: { parameter: string } } = {};
      try {
        parsePins([pair]);
      } catch (e) {
        err = e as typeof err;
      }
      expect(err.status).toBe(400);
      expect(err.details?.parameter).toBe(parameter);
    }
  });
});

describe('withPins', () => {
  it('is the request unchanged without pins', () => {
    const r = own('user_id=bob');
    expect(withPins(r, undefined)).toBe(r);
  });

  it('ANDs the pins before the request’s own filters, the same field twice included', () => {
    const q = where('user_id=bob', [['user_id', 'alice']]);
    expect(q.sql).toContain(
      'WHERE tenant_id = {p0:String} AND user_id = {p1:String} AND user_id = {p2:String} AND NOT',
    );
    expect(q.params).toMatchObject({ p1: 'alice', p2: 'bob' });
  });

  it('ne and a wider in only narrow', () => {
    const ne = where('user_id[ne]=alice', [['user_id', 'alice']]);
    expect(ne.sql).toContain('user_id = {p1:String} AND user_id != {p2:String}');
    const wide = where('user_id[in]=alice,bob,carol', [['user_id[in]', 'alice,bob']]);
    expect(wide.sql).toContain('user_id IN {p1:Array(String)} AND user_id IN {p2:Array(String)}');
  });

  it('access_records=include still ANDs the pins', () => {
    const q = where('access_records=include', [['resource_id', 'r1']]);
    expect(q.sql).toContain(
      "tenant_id = {p0:String} AND resource_id != '' AND resource_id = {p1:String} ORDER BY",
    );
  });

  it('intersects the time range', () => {
    const r = withPins(
      own('from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z'),
      parsePins([
        ['from', '2026-02-01T00:00:00Z'],
        ['to', '2026-04-01T00:00:00Z'],
      ]),
    );
    expect(r.filters.from).toBe('2026-02-01 00:00:00.000');
    expect(r.filters.to).toBe('2026-03-01 00:00:00.000');
    const only = withPins(own(''), parsePins([['to', '2026-04-01T00:00:00Z']]));
    expect(only.filters).toEqual({ conditions: [], to: '2026-04-01 00:00:00.000' });
  });

  it('binds the canonical set (what cursors cover) to the pins, apart from the request’s own', () => {
    const pinned = withPins(own('user_id=alice&limit=5'), parsePins([['user_id', 'alice']]));
    expect(pinned.canonical).toEqual([
      ['pin:user_id', 'alice'],
      ['user_id', 'alice'],
    ]);
    expect(withPins(own('user_id=alice'), parsePins([])).canonical).toEqual([['user_id', 'alice']]);
  });
});
