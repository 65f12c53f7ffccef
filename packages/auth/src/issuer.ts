import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { PINS_CLAIM, type Principal } from './claims.ts';

export interface IssuerSettings {
  secret: Uint8Array;
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
  tenantClaim: string;
}

export interface IssueOptions {
  /** Overrides the configured lifetime (tests, tooling). */
  ttlSeconds?: number;
  /** Latest expiry (epoch seconds), e.g. the API key's own expiry; the token never outlives it. */
  notAfter?: number;
}

export type IssueToken = (p: Principal, opts?: IssueOptions) => Promise<string>;

/** HS256 tokens in the same shape a production identity provider is expected to mint. */
export function createIssuer(s: IssuerSettings): IssueToken {
  return async (p, opts = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { [s.tenantClaim]: p.tenant, scope: p.scopes.join(' ') };
    if (p.keyId !== undefined) claims.key_id = p.keyId;
    if (p.pins !== undefined) claims[PINS_CLAIM] = p.pins;
    if (p.actor !== undefined) claims.act = { sub: p.actor };
    const exp = Math.min(now + (opts.ttlSeconds ?? s.ttlSeconds), opts.notAfter ?? Number.POSITIVE_INFINITY);
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(p.subject)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(randomUUID());
    if (s.issuer !== undefined) jwt.setIssuer(s.issuer);
    if (s.audience !== undefined) jwt.setAudience(s.audience);
    return jwt.sign(s.secret);
  };
}
