import net from 'node:net';
import { env } from '@audit/config';
import { z } from 'zod';
import type { PublicDestination } from './destinations.ts';

/**
 * A stream's destination is a URL or host chosen by a tenant, and the streamer connects to it
 * from inside the deployment: without a policy a tenant could point a webhook at ClickHouse's HTTP
 * port or a cloud metadata endpoint (SSRF). By default only public addresses are reached, checked
 * on the address actually connected to (after DNS, so a name that resolves inward is refused too),
 * and only over TLS. On-premises SIEMs and tests on loopback need the operator's opt-in.
 */
export interface NetworkPolicy {
  /** STREAMS_ALLOW_PRIVATE_NETWORKS: loopback, RFC 1918, link-local, ULA… may be reached. */
  allowPrivate: boolean;
  /** STREAMS_ALLOW_PLAINTEXT: http:// URLs and syslog without TLS may be used. */
  allowPlaintext: boolean;
}

const blocked = new net.BlockList();
for (const [addr, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(addr, prefix, 'ipv4');
}
for (const [addr, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(addr, prefix, 'ipv6');
}

/** Whether `ip` (v4 or v6, an IPv4-mapped v6 judged by its v4 part) is a private or special address. */
export function isPrivateAddress(ip: string): boolean {
  const family = net.isIP(ip);
  if (family === 0) return true;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped) return blocked.check(mapped[1]!, 'ipv4');
    return blocked.check(ip, 'ipv6');
  }
  return blocked.check(ip, 'ipv4');
}

/** The reason the policy refuses connecting to `ip`, or undefined. */
export function addressProblem(ip: string, policy: NetworkPolicy): string | undefined {
  if (policy.allowPrivate) return undefined;
  return isPrivateAddress(ip)
    ? `${ip} is a private or special-purpose address (the operator allows those with STREAMS_ALLOW_PRIVATE_NETWORKS)`
    : undefined;
}

const bareHost = (h: string) => h.replace(/^\[|\]$/g, '');

/**
 * What is wrong with a destination under the policy before any connection: its scheme, and a
 * literal IP address. Names are checked again on every connection (the streamer's lookup).
 */
export function destinationProblem(d: PublicDestination, policy: NetworkPolicy): string | undefined {
  let host: string;
  if (d.type === 'syslog') {
    if (!d.tls && !policy.allowPlaintext) {
      return 'syslog without TLS is not allowed here (the operator allows it with STREAMS_ALLOW_PLAINTEXT)';
    }
    host = d.host;
  } else {
    const u = new URL(d.url);
    if (u.protocol !== 'https:' && !policy.allowPlaintext) {
      return 'url must be https:// (the operator allows http:// with STREAMS_ALLOW_PLAINTEXT)';
    }
    host = bareHost(u.hostname);
  }
  if (net.isIP(host) !== 0) return addressProblem(host, policy);
  if (!policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) {
    return `${host} is a loopback name (the operator allows those with STREAMS_ALLOW_PRIVATE_NETWORKS)`;
  }
  return undefined;
}

/** The policy's settings, the same for the query API (checks at creation) and the streamer (at connect). */
export const streamsPolicySchema = z.object({
  /**
   * Let streams reach private and special-purpose addresses (loopback, RFC 1918, link-local, ULA,
   * cloud metadata): only for an on-premises SIEM on an internal network, or a local test.
   */
  STREAMS_ALLOW_PRIVATE_NETWORKS: env.bool(false),
  /** Let streams use http:// URLs and syslog without TLS (the events then cross the network in the clear). */
  STREAMS_ALLOW_PLAINTEXT: env.bool(false),
});

export function networkPolicy(cfg: z.infer<typeof streamsPolicySchema>): NetworkPolicy {
  return { allowPrivate: cfg.STREAMS_ALLOW_PRIVATE_NETWORKS, allowPlaintext: cfg.STREAMS_ALLOW_PLAINTEXT };
}
