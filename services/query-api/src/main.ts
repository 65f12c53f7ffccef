import { createAuth, createCredentialGuard } from '@audit/auth';
import { createClickHouse } from '@audit/clickhouse';
import { limitSettings, tlsFiles } from '@audit/config';
import {
  createLogger,
  createMetrics,
  createTenantLimits,
  onShutdown,
  rateLimitRefusals,
  startServer,
} from '@audit/http';
import { createApp } from './app.ts';
import { loadQueryConfig } from './config.ts';

const logger = createLogger('query-api');
const config = loadQueryConfig();
const clickhouse = createClickHouse(config, 'reader', {
  // A little above the longest max_execution_time: the server's own limit answers first.
  requestTimeoutMs: (Math.max(config.QUERY_TIMEOUT_SECONDS, config.QUERY_EXPORT_TIMEOUT_SECONDS) + 5) * 1000,
});
const metrics = createMetrics('query-api');
const limits = limitSettings(config);
const auth = await createAuth(config, {
  guard: createCredentialGuard({
    ...limits.credentials,
    maxKeys: limits.maxKeys,
    refusals: rateLimitRefusals(metrics.registry),
  }),
  trustProxyHops: limits.trustProxyHops,
});
const tenantLimits = createTenantLimits(limits, metrics.registry);
const app = createApp({ logger, metrics, clickhouse, auth, config, tenantLimits });
const server = await startServer(app.fetch, { port: config.PORT, host: config.HOST, tls: tlsFiles(config) });
logger.info({ url: server.url }, 'query-api listening');

onShutdown(logger, async () => {
  // Stop accepting, let in-flight requests (and exports) finish, then close ClickHouse sockets.
  await server.close();
  await clickhouse.close();
});
