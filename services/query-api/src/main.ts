import { createClickHouse } from '@audit/clickhouse';
import { tlsFiles } from '@audit/config';
import { CONTROL_DATABASE, startApiAuth } from '@audit/credentials';
import { createLogger, createMetrics, createTenantLimits, onShutdown, startServer } from '@audit/http';
import { serviceKafka } from '@audit/kafka';
import { networkPolicy, StreamStore } from '@audit/streams';
import { createAccessLog, recordAdminActions } from './access-log.ts';
import { createApp } from './app.ts';
import { loadQueryConfig } from './config.ts';

const logger = createLogger('query-api');
const config = loadQueryConfig();
const metrics = createMetrics('query-api');
const clickhouse = createClickHouse(config, 'reader', {
  // A little above the longest max_execution_time: the server's own limit answers first.
  requestTimeoutMs: (Math.max(config.QUERY_TIMEOUT_SECONDS, config.QUERY_EXPORT_TIMEOUT_SECONDS) + 5) * 1000,
});
// Records of reads and management actions go into the tenants' trails through the events topic.
const kafka = serviceKafka(config, 'query-api', { logger });
const accessLog = createAccessLog({
  kafka,
  topic: config.KAFKA_TOPIC,
  timeoutMs: config.QUERY_ACCESS_LOG_TIMEOUT_MS,
  logger,
  registry: metrics.registry,
});
const problems = await accessLog.ready();
if (problems.length > 0) logger.warn({ problems }, 'kafka not ready yet; reads answer 503 until it is');

// The management API lives here: it creates the credentials schema and the bootstrap key.
const { auth, credentials, limits } = await startApiAuth(config, {
  logger,
  registry: metrics.registry,
  admin: true,
});
const tenantLimits = createTenantLimits(limits, metrics.registry);
// Stream definitions live beside the credentials (the keys user's database), never in the trail's.
const control = createClickHouse(config, 'keys');
const streamStore = new StreamStore(control, CONTROL_DATABASE);
if (config.STREAMS_SECRETS_PUBLIC_KEY !== '') {
  await streamStore
    .ensureSchema()
    .catch((err: unknown) => logger.warn({ err: String(err) }, 'stream tables not created yet'));
}
const app = createApp({
  logger,
  metrics,
  clickhouse,
  auth,
  accessLog,
  tenantLimits,
  credentialRoutes: credentials.routes(auth, { admin: true, recordAction: recordAdminActions(accessLog) }),
  streams: {
    store: streamStore,
    publicKey: config.STREAMS_SECRETS_PUBLIC_KEY,
    policy: networkPolicy(config),
    maxPerTenant: config.QUERY_STREAMS_MAX_PER_TENANT,
    testWaitMs: config.QUERY_STREAM_TEST_WAIT_MS,
    statusLiveMs: 60_000,
  },
  config,
});
const server = await startServer(app.fetch, { port: config.PORT, host: config.HOST, tls: tlsFiles(config) });
logger.info({ url: server.url }, 'query-api listening');

onShutdown(logger, async () => {
  // Stop accepting, let in-flight requests (and exports) finish, then close ClickHouse sockets.
  await server.close();
  await accessLog.close();
  await credentials.close();
  await control.close();
  await clickhouse.close();
});
