import { storedEventsLookup } from '@audit/clickhouse';
import { tlsFiles } from '@audit/config';
import { startApiAuth } from '@audit/credentials';
import { createLogger, createMetrics, createTenantLimits, onShutdown, startServer } from '@audit/http';
import { serviceKafka } from '@audit/kafka';
import { createKafkaPublisher } from '@audit/publisher';
import { createByteGate } from './admission.ts';
import { createApp } from './app.ts';
import { limitsFromConfig, loadIngestConfig } from './config.ts';
import { createIngestMetrics } from './metrics.ts';
import { createRecentIds } from './recent-ids.ts';
import { createResendCheck } from './resends.ts';

const logger = createLogger('ingest-api');
const config = loadIngestConfig();
const httpMetrics = createMetrics('ingest-api');
const metrics = createIngestMetrics(httpMetrics);
// API keys (POST /oauth/token, revocations polled), login brute-force limits.
const { auth, credentials, limits } = await startApiAuth(config, { logger, registry: httpMetrics.registry });
const kafka = serviceKafka(config, 'ingest-api', { logger });
const publisher = createKafkaPublisher({
  kafka,
  topic: config.KAFKA_TOPIC,
  timeoutMs: config.INGEST_KAFKA_TIMEOUT_MS,
  retryAfterSeconds: config.INGEST_RETRY_AFTER_SECONDS,
  maxPendingEvents: config.INGEST_MAX_PENDING_EVENTS,
  maxPendingBytes: config.INGEST_MAX_PENDING_BYTES,
  maxBatchBytes: config.INGEST_KAFKA_MAX_BATCH_BYTES,
  maxBatchMessages: config.INGEST_KAFKA_MAX_BATCH_MESSAGES,
  compression: config.INGEST_KAFKA_COMPRESSION,
  logger,
  metrics,
});
// Connect eagerly so the first request does not pay for it; a broker that is down now is
// retried by the first publish or readiness probe.
const problems = await publisher.ready();
if (problems.length > 0) logger.warn({ problems }, 'kafka not ready yet; will retry');

// Duplicates and conflicts of client-chosen ids: read-only, and skipped when ClickHouse is slow.
const resends = createResendCheck({
  lookup: storedEventsLookup({
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_READER_USER,
    password: config.CLICKHOUSE_READER_PASSWORD,
    database: config.CLICKHOUSE_DATABASE,
    timeoutMs: config.INGEST_ID_LOOKUP_TIMEOUT_MS,
  }),
  recent: createRecentIds(config.INGEST_RECENT_IDS),
  metrics,
});

const app = createApp({
  logger,
  httpMetrics,
  metrics,
  auth,
  credentialRoutes: credentials.routes(auth),
  publisher,
  resends,
  retentionDays: config.RETENTION_DAYS,
  limits: limitsFromConfig(config),
  admission: {
    gate: createByteGate(config.INGEST_MAX_ACTIVE_BYTES),
    timeoutMs: config.INGEST_KAFKA_TIMEOUT_MS,
    retryAfterSeconds: config.INGEST_RETRY_AFTER_SECONDS,
  },
  tenantLimits: createTenantLimits(limits, httpMetrics.registry),
});
const server = await startServer(app.fetch, { port: config.PORT, host: config.HOST, tls: tlsFiles(config) });
logger.info({ url: server.url, topic: config.KAFKA_TOPIC }, 'ingest-api listening');

onShutdown(logger, async () => {
  // Stop accepting and let in-flight requests finish (they end within the Kafka timeout),
  // then wait for sends still running and disconnect the producer.
  await server.close();
  await publisher.close();
  await credentials.close();
});
