import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Principal } from './claims.ts';

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
}

export type IssueToken = (p: Principal, opts?: IssueOptions) => Promise<string>;

/** HS256 tokens in the same shape a production identity provider is expected to mint. */
export function createIssuer(s: IssuerSettings): IssueToken {
  return async (p, opts = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ [s.tenantClaim]: p.tenant, scope: p.scopes.join(' ') })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(p.subject)
      .setIssuedAt(now)
      .setExpirationTime(now + (opts.ttlSeconds ?? s.ttlSeconds))
      .setJti(randomUUID());
    if (s.issuer !== undefined) jwt.setIssuer(s.issuer);
    if (s.audience !== undefined) jwt.setAudience(s.audience);
    return jwt.sign(s.secret);
  };
}
