/**
 * Prints a scrypt hash for a users file entry. The password is read from stdin (so it stays out
 * of shell history and `ps`), or taken from the first argument for scripting:
 *   printf '%s' 'devpass' | pnpm --filter @audit/auth hash-password
 */
import { text } from 'node:stream/consumers';
import { hashPassword } from './password.ts';

const fromArg = process.argv[2];
const password = fromArg ?? (await text(process.stdin)).replace(/\r?\n$/, '');
if (password.length === 0) {
  console.error('usage: hash-password <password>   (or the password on stdin)');
  process.exit(2);
}
console.log(await hashPassword(password));
