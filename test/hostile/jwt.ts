import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Hand-built JWTs: jose refuses to mint the broken ones (alg none, tampered parts), and an
 * attacker does not use a well-behaved library either.
 */
export const b64url = (v: unknown) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function claims(tenant: string, scope: string, over: Record<string, unknown> = {}) {
  const now = nowSeconds();
  return { sub: 'hostile', tenant, scope, iat: now, exp: now + 600, ...over };
}

export function unsigned(header: unknown, payload: unknown, signature = ''): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

export function hmac(header: Record<string, unknown>, payload: unknown, secret: string | Buffer): string {
  const alg = String(header.alg ?? 'HS256');
  const bits = /^HS(256|384|512)$/.exec(alg)?.[1] ?? '256';
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac(`sha${bits}`, secret).update(input).digest('base64url')}`;
}

export function rsa(header: Record<string, unknown>, payload: unknown, key: KeyObject): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

export function ecdsa(header: Record<string, unknown>, payload: unknown, key: KeyObject): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** Replaces the payload of a signed token, keeping its header and signature. */
export function swapPayload(token: string, payload: unknown): string {
  const [h, , s] = token.split('.');
  return `${h}.${b64url(payload)}.${s}`;
}

export const rsaKeys = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
export const ecKeys = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A JWKS endpoint on a random port publishing the given public keys. */
export async function serveJwks(keys: { kid: string; alg: string; key: KeyObject }[]) {
  const doc = JSON.stringify({
    keys: keys.map((k) => ({ ...k.key.export({ format: 'jwk' }), kid: k.kid, alg: k.alg, use: 'sig' })),
  });
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(doc);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
