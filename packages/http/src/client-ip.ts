import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/**
 * The caller's address: the TCP peer, or — behind `trustedProxyHops` proxies that each append
 * the address they received from to `X-Forwarded-For` — the entry that many places from the
 * right. Entries further left are whatever the client wrote and are never used, so a client
 * cannot choose its own address. Undefined when unknown (e.g. `app.request` in tests).
 */
export function clientIp(c: Context, trustedProxyHops = 0): string | undefined {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    peer = undefined; // not served by @hono/node-server
  }
  if (trustedProxyHops <= 0) return normalize(peer);
  const forwarded = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // The last proxy is the peer itself; hop n appended the address of hop n+1.
  const chain = [...forwarded, ...(peer ? [peer] : [])];
  const index = chain.length - 1 - trustedProxyHops;
  return normalize(chain[Math.max(0, index)]);
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) and `10.0.0.1` are one client. */
function normalize(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
