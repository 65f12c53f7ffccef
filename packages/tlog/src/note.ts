/**
 * C2SP signed-note (https://c2sp.org/signed-note), as Go's golang.org/x/mod/sumdb/note:
 *
 *   <text, ending in \n>\n— <key name> <base64(key hash (4 bytes, big-endian) ‖ signature)>\n…
 *
 * Key hash = first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key); 0x01 = Ed25519.
 * Verifier key: `<name>+<hash, 8 hex>+<base64(0x01 ‖ public key)>`.
 * Ed25519 verification uses WebCrypto (`crypto.subtle`), available in browsers and Node ≥ 20.
 */
import { concat, fromBase64, fromHex, type Sha256, toBase64, toHex, utf8 } from './bytes.ts';

export const ALG_ED25519 = 1;
const SIG_PREFIX = '— ';
/** Go's limit: more signature lines than this make the note malformed. */
const MAX_SIGNATURES = 100;

export interface NoteSignature {
  name: string;
  /** Key hash, as 8 lowercase hex digits. */
  keyHash: string;
  /** base64 of key hash ‖ signature, as on the line. */
  base64: string;
}

export interface Note {
  text: string;
  signatures: NoteSignature[];
}

export interface VerifierKey {
  name: string;
  keyHash: string;
  /** The raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** The `name+hash+base64` string. */
  text: string;
}

export class NoteError extends Error {
  override name = 'NoteError';
}

/** A key name: non-empty, no whitespace, no '+' (Go's isValidName). */
export function isValidKeyName(name: string): boolean {
  return name !== '' && !/[\s+]/u.test(name) && [...name].every((c) => c.codePointAt(0)! > 0x20);
}

export function keyHash(sha256: Sha256, name: string, algAndKey: Uint8Array): string {
  return toHex(sha256(concat(utf8(name), new Uint8Array([0x0a]), algAndKey)).slice(0, 4));
}

export function formatVerifierKey(sha256: Sha256, name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new NoteError(`invalid key name ${JSON.stringify(name)}`);
  if (publicKey.length !== 32) throw new NoteError('an Ed25519 public key is 32 bytes');
  const algKey = concat(new Uint8Array([ALG_ED25519]), publicKey);
  return `${name}+${keyHash(sha256, name, algKey)}+${toBase64(algKey)}`;
}

export function parseVerifierKey(sha256: Sha256, text: string): VerifierKey {
  const parts = splitPlus(text, 3);
  if (parts.length !== 3) throw new NoteError('malformed verifier key');
  const [name, hash, key] = parts as [string, string, string];
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(hash)) throw new NoteError('malformed verifier key');
  let algKey: Uint8Array;
  try {
    algKey = fromBase64(key);
  } catch {
    throw new NoteError('malformed verifier key');
  }
  if (algKey.length !== 33 || algKey[0] !== ALG_ED25519) throw new NoteError('unsupported verifier key');
  if (keyHash(sha256, name, algKey) !== hash) throw new NoteError('verifier key hash mismatch');
  return { name, keyHash: hash, publicKey: algKey.slice(1), text };
}

function hasControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a) || c === 0xfffd) return true;
  }
  return false;
}

/** Splits on the first `n - 1` '+' signs (base64 may contain '+'). */
export function splitPlus(text: string, n: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (parts.length < n - 1) {
    const i = rest.indexOf('+');
    if (i < 0) break;
    parts.push(rest.slice(0, i));
    rest = rest.slice(i + 1);
  }
  parts.push(rest);
  return parts;
}

/** Splits a signed note into its text and signature lines; throws NoteError when malformed. */
export function parseNote(message: string): Note {
  // Text must be valid UTF-8 without control characters other than \n (Go's rules).
  if (hasControlChars(message)) throw new NoteError('malformed note');
  const split = message.lastIndexOf('\n\n');
  if (split < 0 || !message.endsWith('\n')) throw new NoteError('malformed note');
  const text = message.slice(0, split + 1);
  const lines = message.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError('malformed note');
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) throw new NoteError('malformed note');
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(' ');
    if (sp <= 0) throw new NoteError('malformed note');
    const name = rest.slice(0, sp);
    const base64 = rest.slice(sp + 1);
    if (!isValidKeyName(name)) throw new NoteError('malformed note');
    let raw: Uint8Array;
    try {
      raw = fromBase64(base64);
    } catch {
      throw new NoteError('malformed note');
    }
    if (raw.length < 5) throw new NoteError('malformed note');
    signatures.push({ name, keyHash: toHex(raw.slice(0, 4)), base64 });
  }
  return { text, signatures };
}

export function formatSignatureLine(name: string, keyHashHex: string, signature: Uint8Array): string {
  return `${SIG_PREFIX}${name} ${toBase64(concat(fromHex(keyHashHex), signature))}\n`;
}

/** The signed message with its signatures: text, blank line, one line per signature. */
export function formatNote(text: string, signatureLines: string[]): string {
  if (!text.endsWith('\n')) throw new NoteError('note text must end with a newline');
  return `${text}\n${signatureLines.join('')}`;
}

export interface OpenedNote {
  text: string;
  /** The signatures that verified, with the key that verified each. */
  verified: { key: VerifierKey; signature: NoteSignature }[];
  /** Signatures by keys we do not know (ignored, as Go's note.Open does). */
  unknown: NoteSignature[];
}

/**
 * Verifies a signed note against known keys (Go's note.Open semantics): a signature by a known
 * key (same name and hash) must verify, or the note is rejected; at least one must verify.
 */
export async function openNote(message: string, keys: readonly VerifierKey[]): Promise<OpenedNote> {
  const note = parseNote(message);
  const textBytes = utf8(note.text);
  const verified: OpenedNote['verified'] = [];
  const unknown: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const sig of note.signatures) {
    const matching = keys.filter((k) => k.name === sig.name && k.keyHash === sig.keyHash);
    if (matching.length > 1) throw new NoteError(`ambiguous key ${sig.name}+${sig.keyHash}`);
    const key = matching[0];
    if (!key) {
      unknown.push(sig);
      continue;
    }
    const id = `${key.name}+${key.keyHash}`;
    if (seen.has(id)) continue;
    const raw = fromBase64(sig.base64).slice(4);
    if (!(await ed25519Verify(key.publicKey, raw, textBytes))) {
      throw new NoteError(`invalid signature for key ${id}`);
    }
    seen.add(id);
    verified.push({ key, signature: sig });
  }
  if (verified.length === 0) throw new NoteError('note has no verifiable signatures');
  return { text: note.text, verified, unknown };
}

/** WebCrypto's CryptoKey, named without the DOM typings (this package compiles against Node's). */
type SubtleKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>;

const keyCache = new WeakMap<Uint8Array, Promise<SubtleKey>>();

export async function ed25519Verify(
  publicKey: Uint8Array,
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  if (signature.length !== 64) return false;
  let key = keyCache.get(publicKey);
  if (!key) {
    key = globalThis.crypto.subtle.importKey('raw', buf(publicKey), { name: 'Ed25519' }, false, ['verify']);
    keyCache.set(publicKey, key);
  }
  return globalThis.crypto.subtle.verify({ name: 'Ed25519' }, await key, buf(signature), buf(message));
}

/** A fresh ArrayBuffer copy: WebCrypto's typings want ArrayBuffer, not a view of a shared one. */
const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer as ArrayBuffer;
