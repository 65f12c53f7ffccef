import { createAuth } from '@audit/auth';
import { createClickHouse } from '@audit/clickhouse';
import { createLogger, createMetrics, onShutdown, startServer } from '@audit/http';
import { createApp } from './app.ts';
import { loadQueryConfig } from './config.ts';

const logger = createLogger('query-api');
const config = loadQueryConfig();
const clickhouse = createClickHouse(config, 'reader', {
  // A little above the longest max_execution_time: the server's own limit answers first.
  requestTimeoutMs: (Math.max(config.QUERY_TIMEOUT_SECONDS, config.QUERY_EXPORT_TIMEOUT_SECONDS) + 5) * 1000,
});
const auth = await createAuth(config);
const app = createApp({ logger, metrics: createMetrics('query-api'), clickhouse, auth, config });
const server = await startServer(app.fetch, { port: config.PORT, host: config.HOST });
logger.info({ url: server.url }, 'query-api listening');

onShutdown(logger, async () => {
  // Stop accepting, let in-flight requests (and exports) finish, then close ClickHouse sockets.
  await server.close();
  await clickhouse.close();
});
