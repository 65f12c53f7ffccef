/**
 * Prints a new signing key and its verifier key (Go's note formats):
 *   pnpm tsx services/sealer/src/keygen.ts <key name> [private key file]
 * With a file, the private key is written there (mode 0600) and only the verifier key printed.
 */
import fs from 'node:fs';
import { generateNoteKey } from '@audit/tlog/node';

const [name, file] = process.argv.slice(2);
if (!name) {
  console.error('usage: keygen.ts <key name, e.g. audit-log.example.com> [private key file]');
  process.exit(2);
}
const k = generateNoteKey(name);
if (file) {
  fs.writeFileSync(file, `${k.privateKey}\n`, { mode: 0o600, flag: 'wx' });
  console.log(k.verifierKey);
} else {
  console.log(`SEALER_SIGNING_KEY=${k.privateKey}`);
  console.log(`verifier key: ${k.verifierKey}`);
}
