import { isIP } from 'node:net';

/**
 * IPv4 (dotted quad, no leading zeros) or IPv6 (including IPv4-mapped forms). Zone ids
 * (`fe80::1%eth0`) are rejected: they mean nothing outside the host that saw them.
 */
export function isIpAddress(s: string): boolean {
  return s.length <= 45 && !s.includes('%') && isIP(s) !== 0;
}
