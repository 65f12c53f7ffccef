/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the body of a signed note,
 *
 *   <origin>\n<tree size, decimal>\n<root hash, base64>\n[extension lines…]
 *
 * Our extension lines (opaque to other verifiers, which ignore them):
 *   `time <RFC 3339 UTC>`                     when the sealer signed it
 *   `prev <size> <base64 SHA-256 of the previous signed note>`   the chain: a checkpoint removed
 *                                             from the store leaves its successor pointing at nothing
 */
import { fromBase64, toBase64 } from './bytes.ts';

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** Extension lines, without their newline. */
  extensions: string[];
}

export class FormatError extends Error {
  override name = 'FormatError';
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin === '' || /[\n\r]/.test(c.origin)) throw new FormatError('origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0)
    throw new FormatError('size must be a non-negative integer');
  if (c.rootHash.length !== 32) throw new FormatError('root hash must be 32 bytes');
  for (const e of c.extensions) {
    if (e === '' || /[\n\r]/.test(e)) throw new FormatError('extension lines must be non-empty single lines');
  }
  return [c.origin, String(c.size), toBase64(c.rootHash), ...c.extensions].map((l) => `${l}\n`).join('');
}

export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new FormatError('checkpoint must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new FormatError('checkpoint needs origin, size and root hash lines');
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') throw new FormatError('empty origin');
  if (!DECIMAL.test(size) || !Number.isSafeInteger(Number(size))) throw new FormatError('bad tree size');
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(root);
  } catch {
    throw new FormatError('bad root hash');
  }
  if (rootHash.length !== 32) throw new FormatError('root hash must be 32 bytes');
  if (extensions.some((e) => e === '')) throw new FormatError('empty extension line');
  return { origin, size: Number(size), rootHash, extensions };
}

/** The value of our `key value…` extension line, if present. */
export function extension(c: Checkpoint, key: string): string | undefined {
  const line = c.extensions.find((e) => e.startsWith(`${key} `));
  return line?.slice(key.length + 1);
}
