// Prints a fresh API key for ADMIN_BOOTSTRAP_KEY_FILE: `pnpm --filter @audit/credentials new-key > admin.key`.
import { generateKey } from './key-format.ts';

process.stdout.write(`${generateKey().key}\n`);
