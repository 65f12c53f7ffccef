/**
 * The local stack's checkpoint signing key: generated on the first `npm start` into the stack's
 * state directory (git-ignored, mode 0600) and reused afterwards, so the verifier key printed by
 * the banner stays the same across restarts and old checkpoints keep verifying.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateNoteKey, NoteSigner } from '@audit/tlog/node';

/** Key name of the local stack's checkpoints (the first part of the verifier key). */
export const DEV_KEY_NAME = 'audit-log.local';

export interface DevSigningKey {
  /** The private key file, for SEALER_SIGNING_KEY_FILE. */
  file: string;
  verifierKey: string;
}

export function devSigningKey(stackDir: string): DevSigningKey {
  const dir = path.join(stackDir, 'sealer');
  const file = path.join(dir, 'signing.key');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${generateNoteKey(DEV_KEY_NAME).privateKey}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Already there: keep it (the checkpoints already signed name it).
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return { file, verifierKey: new NoteSigner(fs.readFileSync(file, 'utf8')).verifierKey };
}
