import { describe, expect, it } from 'vitest';
import { createCursorCodec } from './cursor.ts';

const codec = createCursorCodec('cursor-secret-that-is-at-least-32-chars');
const scope = { tenant: 'acme', filters: [['event_type', 'a']] as [string, string][], order: 'desc' };
const pos = { ts: '2026-01-02 03:04:05.678', id: '018f0000-0000-7000-8000-000000000000' };

const refused = (fn: () => unknown) => {
  expect(fn).toThrow(expect.objectContaining({ status: 400, details: { parameter: 'cursor' } }));
};

describe('cursor codec', () => {
  it('round-trips a position as url-safe text', () => {
    const c = codec.encode(scope, pos);
    expect(c).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(codec.decode(scope, c)).toEqual(pos);
  });

  it('refuses a cursor replayed by another tenant, with other filters or another order', () => {
    const c = codec.encode(scope, pos);
    refused(() => codec.decode({ ...scope, tenant: 'globex' }, c));
    refused(() => codec.decode({ ...scope, filters: [['event_type', 'b']] }, c));
    refused(() => codec.decode({ ...scope, filters: [] }, c));
    refused(() => codec.decode({ ...scope, order: 'asc' }, c));
  });

  it('refuses an altered position, a forged signature, another secret and garbage', () => {
    const c = codec.encode(scope, pos);
    const [, sig] = c.split('.');
    const forged = Buffer.from(JSON.stringify(['2099-01-01 00:00:00.000', pos.id])).toString('base64url');
    refused(() => codec.decode(scope, `${forged}.${sig}`));
    refused(() => codec.decode(scope, `${c}x`));
    refused(() => createCursorCodec('another-secret-that-is-at-least-32-chars').decode(scope, c));
    for (const junk of ['', '.', 'abc', 'a.b.c', "'; DROP", 'x'.repeat(600)])
      refused(() => codec.decode(scope, junk));
  });
});
