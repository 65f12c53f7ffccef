import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import { addressProblem, type NetworkPolicy } from '@audit/streams';

/** An error the policy raised: the destination resolves to an address streams may not reach. */
export class BlockedAddress extends Error {
  readonly code = 'EADDRBLOCKED';
}

/**
 * DNS lookup that drops the addresses the policy refuses: the check is on the address the socket
 * connects to, so a name that resolves (or is rebound) to an internal address is never reached.
 */
export function guardedLookup(policy: NetworkPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      const allowed = list.filter((a) => addressProblem(a.address, policy) === undefined);
      if (allowed.length === 0) {
        const reason = list[0] ? addressProblem(list[0].address, policy) : 'no address';
        return callback(new BlockedAddress(`${hostname}: ${reason}`), '', 0);
      }
      if (options.all)
        return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

/** A literal IP host skips DNS (and the lookup): check it here. */
export function checkLiteralHost(host: string, policy: NetworkPolicy): void {
  const bare = host.replace(/^\[|\]$/g, '');
  if (net.isIP(bare) === 0) return;
  const problem = addressProblem(bare, policy);
  if (problem) throw new BlockedAddress(problem);
}

/** The system's CAs plus a destination's own (a private CA). */
export function trustedCas(ca: string | undefined): string[] | undefined {
  return ca === undefined ? undefined : [...tls.rootCertificates, ca];
}
