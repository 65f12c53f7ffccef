import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import type { DestinationSecrets, SigningSecret } from './destinations.ts';

/**
 * Destination secrets (webhook signing secrets, Splunk and Datadog tokens) are sealed to the
 * streamer's X25519 public key: the query API, which faces the internet and stores them, can
 * encrypt but never decrypt; only the streamer, which needs them to deliver, holds the private
 * key. A sealed box is an ephemeral X25519 key, HKDF-SHA256 of the shared secret into an
 * AES-256-GCM key, and the ciphertext: `v1.<ephemeral SPKI>.<iv>.<ciphertext+tag>` (base64url).
 */
const INFO = Buffer.from('audit-log streams secrets v1');
const VERSION = 'v1';

export interface StreamsKeyPair {
  /** SPKI DER, base64: STREAMS_SECRETS_PUBLIC_KEY of the query API. */
  publicKey: string;
  /** PKCS#8 DER, base64: STREAMER_SECRETS_KEY of the streamer. */
  privateKey: string;
}

export function generateStreamsKeyPair(): StreamsKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
  };
}

function publicKeyOf(text: string): KeyObject {
  const key = createPublicKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'x25519') throw new Error('not an X25519 public key');
  return key;
}

function privateKeyOf(text: string): KeyObject {
  const key = createPrivateKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'x25519') throw new Error('not an X25519 private key');
  return key;
}

function aeadKey(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), INFO, 32));
}

/** Seals `plaintext` so that only the holder of the private key can open it. */
export function sealSecret(publicKeyText: string, plaintext: string): string {
  const recipient = publicKeyOf(publicKeyText);
  const eph = generateKeyPairSync('x25519');
  const ephDer = eph.publicKey.export({ type: 'spki', format: 'der' });
  const recipientDer = recipient.export({ type: 'spki', format: 'der' });
  const key = aeadKey(
    diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }),
    ephDer,
    recipientDer,
  );
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return [VERSION, ephDer.toString('base64url'), iv.toString('base64url'), body.toString('base64url')].join(
    '.',
  );
}

/** Opens a sealed box with the private key; throws on a wrong key or any altered byte. */
export function openSecret(privateKeyText: string, sealed: string): string {
  const [version, ephText, ivText, bodyText, ...rest] = sealed.split('.');
  if (version !== VERSION || !ephText || !ivText || !bodyText || rest.length > 0) {
    throw new Error('not a sealed secret');
  }
  const privateKey = privateKeyOf(privateKeyText);
  const ephDer = Buffer.from(ephText, 'base64url');
  const eph = createPublicKey({ key: ephDer, format: 'der', type: 'spki' });
  const recipientDer = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const key = aeadKey(diffieHellman({ privateKey, publicKey: eph }), ephDer, recipientDer);
  const body = Buffer.from(bodyText, 'base64url');
  if (body.length < 16) throw new Error('not a sealed secret');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString(
    'utf8',
  );
}

/** Throws unless `text` is a usable public key (config validation). */
export function checkPublicKey(text: string): void {
  publicKeyOf(text);
}

/** Throws unless `text` is a usable private key (config validation). */
export function checkPrivateKey(text: string): void {
  privateKeyOf(text);
}

/** Rotations chained deeper than this are cut (their secrets expired long ago in practice). */
const MAX_PREVIOUS = 8;

/**
 * A stream's secrets, opened: a rotation's previous box is opened too and its signing secrets
 * appended (newest first) with the rotation's end as their `until`; expired ones are dropped.
 */
export function openSecrets(privateKeyText: string, sealed: string, nowMs: number): DestinationSecrets {
  const own = JSON.parse(openSecret(privateKeyText, sealed)) as DestinationSecrets;
  const signing: SigningSecret[] = [...(own.signing ?? [])];
  let previous = own.previous;
  for (let depth = 0; previous && previous.until > nowMs && depth < MAX_PREVIOUS; depth++) {
    const older = JSON.parse(openSecret(privateKeyText, previous.box)) as DestinationSecrets;
    const until = previous.until;
    for (const s of older.signing ?? [])
      signing.push({ secret: s.secret, until: Math.min(s.until ?? until, until) });
    previous = older.previous;
  }
  const { previous: _, ...rest } = own;
  return { ...rest, ...(own.signing ? { signing } : {}) };
}
