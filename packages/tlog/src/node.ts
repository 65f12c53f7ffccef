/**
 * Node-only half of @audit/tlog: native SHA-256 and Ed25519 signing (node:crypto). The signing
 * key format is Go's golang.org/x/mod/sumdb/note private key, `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>`,
 * so keys made by Go's `note.GenerateKey` work here and the other way round.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { concat, fromBase64, toBase64 } from './bytes.ts';
import { TreeHasher } from './merkle.ts';
import {
  ALG_ED25519,
  formatNote,
  formatSignatureLine,
  formatVerifierKey,
  isValidKeyName,
  keyHash,
  splitPlus,
} from './note.ts';

export const nodeSha256 = (data: Uint8Array): Uint8Array => createHash('sha256').update(data).digest();

/** RFC 9162 hashing with node:crypto's SHA-256. */
export const nodeHasher = new TreeHasher(nodeSha256);

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export class NoteSigner {
  readonly name: string;
  readonly keyHash: string;
  readonly publicKey: Uint8Array;
  /** The public `name+hash+base64` verifier key. */
  readonly verifierKey: string;
  private readonly key: KeyObject;

  constructor(privateKeyText: string) {
    const parts = splitPlus(privateKeyText.trim(), 5);
    if (parts.length !== 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') {
      throw new Error('malformed signing key: want PRIVATE+KEY+<name>+<hash>+<key>');
    }
    const [, , name, hash, b64] = parts as [string, string, string, string, string];
    if (!isValidKeyName(name)) throw new Error('malformed signing key: bad name');
    let algSeed: Uint8Array;
    try {
      algSeed = fromBase64(b64);
    } catch {
      throw new Error('malformed signing key: bad base64');
    }
    if (algSeed.length !== 33 || algSeed[0] !== ALG_ED25519) throw new Error('signing key is not Ed25519');
    this.key = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, algSeed.subarray(1)]),
      format: 'der',
      type: 'pkcs8',
    });
    const spki = createPublicKey(this.key).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(spki.subarray(spki.length - 32));
    this.name = name;
    this.keyHash = keyHash(nodeSha256, name, concat(new Uint8Array([ALG_ED25519]), this.publicKey));
    if (this.keyHash !== hash) throw new Error('malformed signing key: key hash does not match');
    this.verifierKey = formatVerifierKey(nodeSha256, name, this.publicKey);
  }

  /** The signature line for `text`. */
  signatureLine(text: string): string {
    const sig = sign(null, Buffer.from(text, 'utf8'), this.key);
    return formatSignatureLine(this.name, this.keyHash, new Uint8Array(sig));
  }

  /** The complete signed note. */
  sign(text: string): string {
    return formatNote(text, [this.signatureLine(text)]);
  }
}

/** A fresh key pair in Go's note formats: the private key text and the public verifier key. */
export function generateNoteKey(name: string): { privateKey: string; verifierKey: string } {
  if (!isValidKeyName(name)) throw new Error(`invalid key name ${JSON.stringify(name)}`);
  const { privateKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const seed = der.subarray(der.length - 32);
  const pub = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const algPub = concat(new Uint8Array([ALG_ED25519]), new Uint8Array(pub.subarray(pub.length - 32)));
  const hash = keyHash(nodeSha256, name, algPub);
  const algSeed = concat(new Uint8Array([ALG_ED25519]), new Uint8Array(seed));
  const text = `PRIVATE+KEY+${name}+${hash}+${toBase64(algSeed)}`;
  return { privateKey: text, verifierKey: new NoteSigner(text).verifierKey };
}
