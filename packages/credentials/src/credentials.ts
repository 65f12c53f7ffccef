import type { Auth, AuthConfig, KeyRevocations } from '@audit/auth';
import { type ClickHouseClient, createClickHouse } from '@audit/clickhouse';
import { ConfigError, type StackConfig } from '@audit/config';
import type { Logger } from '@audit/http';
import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { createAdminRoutes, type RecordAction } from './admin-routes.ts';
import { bootstrapAdminKey } from './bootstrap.ts';
import type { CredentialsConfig } from './config.ts';
import { createRevocationPoller, type RevocationPoller } from './revocations.ts';
import { createKeyStore, type KeyStore } from './store.ts';
import { createTokenRoutes, type TokenEndpointGuard } from './token-route.ts';

export interface Credentials {
  /** Pass to `createAuth(config, { revocations })`. Undefined when CREDENTIALS_ENABLED=false. */
  revocations: KeyRevocations | undefined;
  store: KeyStore | undefined;
  /** `POST /oauth/token`, plus `/admin/*` when `admin` is set. Empty when disabled. */
  routes(
    auth: Auth,
    opts?: { admin?: boolean; recordAction?: RecordAction; tokenGuard?: TokenEndpointGuard },
  ): Hono;
  close(): Promise<void>;
}

export type CredentialsStartConfig = CredentialsConfig &
  Pick<AuthConfig, 'AUTH_JWT_SECRET' | 'AUTH_ALGORITHMS' | 'AUTH_JWKS_URL' | 'AUTH_CLOCK_SKEW_SECONDS'> &
  StackConfig;

/**
 * Wires the credentials of one API process: the key store (ClickHouse user `audit_keys`), the
 * revocation poller every verifier needs, and the routes. `admin` processes (the query API)
 * also create the schema, store the bootstrap key and get the access user for analysts.
 */
export async function startCredentials(
  config: CredentialsStartConfig,
  deps: { logger: Logger; registry?: Registry; admin?: boolean },
): Promise<Credentials> {
  if (!config.CREDENTIALS_ENABLED) {
    return { revocations: undefined, store: undefined, routes: () => new Hono(), close: async () => {} };
  }
  const algorithms = config.AUTH_ALGORITHMS ?? (config.AUTH_JWKS_URL ? ['RS256', 'ES256'] : ['HS256']);
  if (!config.AUTH_JWT_SECRET || !algorithms.includes('HS256')) {
    throw new ConfigError(
      'CREDENTIALS_ENABLED needs AUTH_JWT_SECRET and HS256 in AUTH_ALGORITHMS (POST /oauth/token signs HS256 tokens; with a JWKS: AUTH_ALGORITHMS=HS256,RS256,ES256), or set CREDENTIALS_ENABLED=false',
    );
  }
  const keysClient = createClickHouse(config, 'keys', { requestTimeoutMs: 5000 });
  const access: ClickHouseClient | undefined = deps.admin ? createClickHouse(config, 'access') : undefined;
  const store = createKeyStore(keysClient);
  if (deps.admin) {
    await store.ensureSchema();
    if (config.ADMIN_BOOTSTRAP_KEY_FILE)
      await bootstrapAdminKey(store, config.ADMIN_BOOTSTRAP_KEY_FILE, deps.logger);
  } else {
    // Idempotent, so whichever API starts first creates the tables its revocation poll reads; a
    // verifier that cannot reach ClickHouse yet still starts (tokens of API keys wait for a poll).
    await store.ensureSchema().catch((err: Error) => {
      deps.logger.info({ err: err.message }, 'credentials schema not ensured yet; the poller retries');
    });
  }
  const poller: RevocationPoller = createRevocationPoller({
    store,
    intervalMs: config.CREDENTIALS_POLL_INTERVAL_MS,
    maxStalenessMs: config.CREDENTIALS_MAX_STALENESS_SECONDS * 1000,
    logger: deps.logger,
    registry: deps.registry,
  });
  await poller.start();

  return {
    revocations: poller,
    store,
    routes(auth, opts = {}) {
      const app = new Hono();
      app.route(
        '/',
        createTokenRoutes({
          store,
          issueToken: auth.issueToken,
          ttlSeconds: config.CREDENTIALS_TOKEN_TTL_SECONDS,
          // The login brute-force limits hold for the token endpoint too (per address, per client id).
          guard: opts.tokenGuard ?? auth.credentials.guard,
          clientIp: auth.credentials.clientIp,
        }),
      );
      if (opts.admin) {
        app.route(
          '/',
          createAdminRoutes({
            store,
            auth,
            access,
            database: config.CLICKHOUSE_DATABASE,
            recordAction: opts.recordAction,
          }),
        );
      }
      return app;
    },
    async close() {
      poller.stop();
      await keysClient.close();
      await access?.close();
    },
  };
}
