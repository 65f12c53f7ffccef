/**
 * The local stack's first operator key (scope `admin`, the management API): generated on the first
 * `npm start` into the stack's state directory (git-ignored, mode 0600) and handed to the query
 * API as ADMIN_BOOTSTRAP_KEY_FILE, which stores its hash. Production creates its own
 * (`pnpm --filter @audit/credentials new-key`, docs/credentials.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateKey, parseKey } from '@audit/credentials';

export function devAdminKey(stackDir: string): { file: string; keyId: string } {
  const dir = path.join(stackDir, 'admin');
  const file = path.join(dir, 'admin.key');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${generateKey().key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Already there: keep it (its hash is stored; a new one would be a second operator key).
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = parseKey(fs.readFileSync(file, 'utf8').trim());
  if (!key) throw new Error(`${file} does not hold an ak_<id>_<secret> key; delete it to get a new one`);
  return { file, keyId: key.id };
}
