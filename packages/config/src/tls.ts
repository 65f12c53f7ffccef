import { z } from 'zod';

const unsetIfEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalPath = z.preprocess(unsetIfEmpty, z.string().optional());

/**
 * HTTPS served by the service itself (docs/limits.md), for deployments without a TLS-terminating
 * ingress. A plain object so services can merge it; `checkTlsPair` enforces both-or-neither.
 */
export const tlsSchema = z.object({
  /** PEM certificate (with its chain) to serve HTTPS. Unset with TLS_KEY_FILE: plain HTTP. */
  TLS_CERT_FILE: optionalPath,
  /** PEM private key of TLS_CERT_FILE. Set both or neither. */
  TLS_KEY_FILE: optionalPath,
});

export type TlsConfig = z.infer<typeof tlsSchema>;

/** A zod check for the merged service schema: a certificate without its key (or the reverse) is an error. */
export function checkTlsPair(ctx: { value: Partial<TlsConfig>; issues: unknown[] }): void {
  const { TLS_CERT_FILE: cert, TLS_KEY_FILE: key } = ctx.value;
  if ((cert === undefined) === (key === undefined)) return;
  const missing = cert === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE';
  ctx.issues.push({
    code: 'custom',
    path: [missing],
    message: 'TLS_CERT_FILE and TLS_KEY_FILE must be set together',
    input: ctx.value,
  });
}

/** The files for `startServer`'s `tls` option, or undefined for plain HTTP. */
export function tlsFiles(c: Partial<TlsConfig>): { certFile: string; keyFile: string } | undefined {
  return c.TLS_CERT_FILE && c.TLS_KEY_FILE
    ? { certFile: c.TLS_CERT_FILE, keyFile: c.TLS_KEY_FILE }
    : undefined;
}
