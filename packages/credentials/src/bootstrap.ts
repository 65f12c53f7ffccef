import { readFile } from 'node:fs/promises';
import { ConfigError } from '@audit/config';
import type { Logger } from '@audit/http';
import { OPERATOR_TENANT } from './admin-schemas.ts';
import { hashSecret, parseKey } from './key-format.ts';
import type { KeyStore } from './store.ts';

/**
 * The first operator credential: ADMIN_BOOTSTRAP_KEY_FILE holds an `ak_<id>_<secret>` key
 * (`pnpm --filter @audit/credentials new-key`). Its hash is stored, scope `admin`, unless that key
 * id was ever stored: restarting never resurrects a revoked bootstrap key, and a different key
 * under a stored id is refused. Several replicas starting at once store the same row (harmless).
 */
export async function bootstrapAdminKey(store: KeyStore, file: string, logger: Logger): Promise<string> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new ConfigError(`ADMIN_BOOTSTRAP_KEY_FILE ${file}: ${(err as Error).message}`);
  }
  const key = parseKey(text);
  if (!key) throw new ConfigError(`ADMIN_BOOTSTRAP_KEY_FILE ${file}: not an ak_<id>_<secret> key`);
  const known = await store.getKey(key.id);
  if (known) {
    if (known.secretHash !== hashSecret(key.secret)) {
      throw new ConfigError(
        `ADMIN_BOOTSTRAP_KEY_FILE ${file}: key id ${key.id} is stored with another secret`,
      );
    }
    return key.id;
  }
  await store.addKey({
    keyId: key.id,
    tenant: OPERATOR_TENANT,
    name: 'bootstrap',
    scopes: ['admin'],
    secretHash: hashSecret(key.secret),
    expiresAt: null,
    actor: 'bootstrap',
    at: new Date(),
  });
  logger.info({ keyId: key.id }, 'stored the bootstrap operator key');
  return key.id;
}
