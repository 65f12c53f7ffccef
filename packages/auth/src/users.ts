import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '@audit/config';
import { z } from 'zod';
import { type Principal, TENANT_RE } from './claims.ts';
import { hashPassword, type ParsedHash, parseHash, verifyPassword } from './password.ts';

const userSchema = z.strictObject({
  username: z.string().min(1).max(128),
  password_hash: z.string().min(1),
  tenant: z.string().regex(TENANT_RE, 'must match ^[a-z0-9][a-z0-9_-]{0,63}$'),
  scopes: z.array(z.string().regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')),
});
const usersFileSchema = z.array(userSchema);

interface User {
  principal: Principal;
  hash: ParsedHash;
}

/** The configured login users; `check` costs one scrypt whether or not the user exists. */
export interface UserStore {
  size: number;
  check(username: string, password: string): Promise<Principal | undefined>;
}

/** Reads `[{username, password_hash, tenant, scopes}]`; every problem is a ConfigError at start-up. */
export async function loadUsers(path: string, verify = verifyPassword): Promise<UserStore> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`AUTH_USERS_FILE ${path}: ${(err as Error).message}`);
  }
  const parsed = usersFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`AUTH_USERS_FILE ${path} is invalid:\n${lines.join('\n')}`);
  }
  const users = new Map<string, User>();
  for (const [i, u] of parsed.data.entries()) {
    if (users.has(u.username)) throw new ConfigError(`AUTH_USERS_FILE ${path}: duplicate username at ${i}`);
    let hash: ParsedHash;
    try {
      hash = parseHash(u.password_hash);
    } catch (err) {
      throw new ConfigError(`AUTH_USERS_FILE ${path}: ${i}.password_hash: ${(err as Error).message}`);
    }
    users.set(u.username, { principal: { subject: u.username, tenant: u.tenant, scopes: u.scopes }, hash });
  }
  return createUserStore(users, verify);
}

async function createUserStore(users: Map<string, User>, verify: typeof verifyPassword): Promise<UserStore> {
  // Unknown users are checked against this, with the cost of a real entry, so the response time
  // does not tell which usernames exist.
  const first = users.values().next().value;
  const decoy = first
    ? parseHash(await hashPassword(randomBytes(16).toString('hex'), first.hash.params))
    : undefined;
  return {
    size: users.size,
    async check(username, password) {
      const user = users.get(username);
      const hash = user?.hash ?? decoy;
      if (!hash) return undefined;
      const ok = await verify(password, hash);
      return ok && user ? { ...user.principal, scopes: [...user.principal.scopes] } : undefined;
    },
  };
}
