import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { clientIp } from './client-ip.ts';

/** A request as @hono/node-server hands it over: the socket's peer in `env.incoming`. */
async function ipOf(opts: { peer?: string; forwarded?: string; hops?: number }) {
  const app = new Hono();
  app.get('/', (c) => c.json({ ip: clientIp(c, opts.hops ?? 0) ?? null }));
  const env = opts.peer ? { incoming: { socket: { remoteAddress: opts.peer } } } : undefined;
  const headers: Record<string, string> = opts.forwarded ? { 'x-forwarded-for': opts.forwarded } : {};
  const res = await app.request('/', { headers }, env);
  return ((await res.json()) as { ip: string | null }).ip;
}

describe('clientIp', () => {
  it('is the TCP peer, and ignores X-Forwarded-For unless proxies are trusted', async () => {
    expect(await ipOf({ peer: '203.0.113.7' })).toBe('203.0.113.7');
    expect(await ipOf({ peer: '203.0.113.7', forwarded: '198.51.100.1' })).toBe('203.0.113.7');
  });

  it('behind one trusted proxy: the address the proxy appended, not what the client wrote', async () => {
    expect(await ipOf({ peer: '10.0.0.2', forwarded: '198.51.100.1', hops: 1 })).toBe('198.51.100.1');
    expect(await ipOf({ peer: '10.0.0.2', forwarded: '6.6.6.6, 198.51.100.1', hops: 1 })).toBe(
      '198.51.100.1',
    );
  });

  it('behind two trusted proxies: the entry two from the right', async () => {
    expect(await ipOf({ peer: '10.0.0.3', forwarded: '6.6.6.6, 198.51.100.1, 10.0.0.2', hops: 2 })).toBe(
      '198.51.100.1',
    );
  });

  it('a trusted proxy that sent no header: the peer', async () => {
    expect(await ipOf({ peer: '10.0.0.2', hops: 1 })).toBe('10.0.0.2');
  });

  it('folds IPv4-mapped IPv6 into IPv4', async () => {
    expect(await ipOf({ peer: '::ffff:203.0.113.7' })).toBe('203.0.113.7');
    expect(await ipOf({ peer: '2001:db8::1' })).toBe('2001:db8::1');
  });

  it('is undefined without a socket (app.request)', async () => {
    expect(await ipOf({})).toBeNull();
  });
});
