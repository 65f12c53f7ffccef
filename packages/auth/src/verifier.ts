import { createSecretKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, type JWSHeaderParameters, type JWTVerifyOptions, jwtVerify } from 'jose';
import { type Principal, principalFromClaims } from './claims.ts';
import type { Algorithm } from './config.ts';
import { keysUnavailable, unauthorized } from './errors.ts';
import { createVerifiedCache } from './verified-cache.ts';

export interface VerifierSettings {
  algorithms: Algorithm[];
  secret?: Uint8Array;
  jwksUrl?: string;
  jwksTimeoutMs: number;
  issuer?: string;
  audience?: string;
  clockSkewSeconds: number;
  tenantClaim: string;
  /** Reuse of successful verifications (see verified-cache.ts); absent: every call verifies. */
  cache?: { maxEntries: number; maxAgeMs: number };
}

/** A failure of the key source itself (network, HTTP status, bad JSON), as opposed to a bad token. */
class KeySourceError extends Error {}

export type Verify = (token: string) => Promise<Principal>;

export function createVerifier(s: VerifierSettings): Verify {
  // A KeyObject made once: jose converts it to a WebCrypto key once per algorithm and caches it,
  // whereas raw bytes would be imported into WebCrypto on every verification.
  const secret: KeyObject | undefined = s.secret ? createSecretKey(s.secret) : undefined;
  const jwks = s.jwksUrl
    ? createRemoteJWKSet(new URL(s.jwksUrl), { timeoutDuration: s.jwksTimeoutMs })
    : undefined;

  // jose checks `alg` against `algorithms` before calling this, and then checks that the key
  // type fits the alg, so an HS256 token can never be verified with a public key (and vice versa).
  const key = async (header: JWSHeaderParameters, token: Parameters<NonNullable<typeof jwks>>[1]) => {
    if (header.alg?.startsWith('HS')) {
      if (!secret) throw new errors.JOSEAlgNotAllowed('no HMAC secret configured');
      return secret;
    }
    if (!jwks) throw new errors.JOSEAlgNotAllowed('no JWKS configured');
    try {
      return await jwks(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
        throw err;
      throw new KeySourceError('JWKS unavailable', { cause: err });
    }
  };

  const options: JWTVerifyOptions = {
    algorithms: s.algorithms,
    requiredClaims: ['exp'],
    clockTolerance: s.clockSkewSeconds,
    ...(s.issuer === undefined ? {} : { issuer: s.issuer }),
    ...(s.audience === undefined ? {} : { audience: s.audience }),
  };

  const verified = s.cache ? createVerifiedCache(s.cache) : undefined;

  return async (token) => {
    const hit = verified?.get(token);
    if (hit) return hit;
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, key, options));
    } catch (err) {
      throw toApiError(err);
    }
    const principal = principalFromClaims(payload, s.tenantClaim);
    // `exp` is required, so it is a number here.
    verified?.set(token, principal, payload.exp as number);
    return principal;
  };
}

/** Names what is wrong with the token in words a client can act on; never echoes jose's text. */
function toApiError(err: unknown) {
  if (err instanceof KeySourceError) return keysUnavailable();
  if (err instanceof errors.JWTExpired) return unauthorized('token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return unauthorized('token not yet valid (nbf)');
    if (err.claim === 'iss') return unauthorized('token issuer not accepted');
    if (err.claim === 'aud') return unauthorized('token audience not accepted');
    if (err.claim === 'exp') return unauthorized('token has no expiry (exp)');
    return unauthorized('token claims invalid');
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return unauthorized('token algorithm not allowed');
  if (err instanceof errors.JWSSignatureVerificationFailed) return unauthorized('token signature invalid');
  if (err instanceof errors.JWKSNoMatchingKey) return unauthorized('token signing key not recognised');
  if (err instanceof errors.JWKSMultipleMatchingKeys) {
    return unauthorized('token signing key ambiguous (no kid)');
  }
  // Malformed headers/payloads, unsupported algorithms, key-type mismatches: fail closed.
  return unauthorized('malformed token');
}
