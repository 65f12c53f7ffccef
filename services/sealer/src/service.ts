import { type ClickHouseClient, createClickHouse } from '@audit/clickhouse';
import { backoffDelay, sleep, tlsFiles } from '@audit/config';
import { createMetrics, type HttpMetrics, type Logger, type RunningServer, startServer } from '@audit/http';
import { createTopicsReady, durableProducer, type Kafka, serviceKafka } from '@audit/kafka';
import { createApp } from './app.ts';
import type { SealerConfig } from './config.ts';
import { loadSigner, verifierKeys } from './keys.ts';
import { createSealerMetrics, type SealerMetrics } from './metrics.ts';
import {
  allPublishers,
  type CheckpointPublisher,
  kafkaCheckpointPublisher,
  witnessFilePublisher,
} from './publish.ts';
import { Sealer } from './sealer.ts';
import { SealerStore } from './store.ts';

export interface SealerServiceDeps {
  config: SealerConfig;
  logger: Logger;
  clickhouse?: ClickHouseClient;
  kafka?: Kafka;
  http?: boolean;
}

export interface RunningSealer {
  sealer: Sealer;
  metrics: SealerMetrics;
  httpMetrics: HttpMetrics;
  server?: RunningServer;
  ready(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Starts the sealer: its tables (retried until ClickHouse answers), its verifier keys, the
 * topics it needs, a re-publication of the latest checkpoints, the consumer and the HTTP server.
 */
export async function startSealer(deps: SealerServiceDeps): Promise<RunningSealer> {
  const { config: cfg, logger } = deps;
  const signer = loadSigner(cfg);
  const ownClickHouse = !deps.clickhouse;
  const ch = deps.clickhouse ?? createClickHouse(cfg, 'sealer');
  const store = new SealerStore(ch, cfg.CLICKHOUSE_DATABASE);
  for (let attempt = 1; ; attempt++) {
    try {
      if (cfg.SEALER_MIGRATE) await store.migrate();
      await store.registerKeys(verifierKeys(cfg, signer));
      break;
    } catch (err) {
      const delay = backoffDelay(attempt, {
        initialMs: cfg.SEALER_RETRY_INITIAL_MS,
        maxMs: cfg.SEALER_RETRY_MAX_MS,
      });
      logger.warn({ err: String(err), delay }, 'sealer tables not ready (ClickHouse unavailable?), retrying');
      await sleep(delay);
    }
  }

  const kafka = deps.kafka ?? serviceKafka(cfg, cfg.SEALER_CLIENT_ID, { logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Existing topics keep their settings; missing ones get the documented ones.
    await createTopicsReady(admin, [
      { topic: cfg.KAFKA_LEAVES_TOPIC, partitions: 1 },
      { topic: cfg.KAFKA_CHECKPOINTS_TOPIC, partitions: 1, configs: { 'retention.ms': '-1' } },
    ]);
  } finally {
    await admin.disconnect();
  }
  const producer = durableProducer(kafka);
  await producer.connect();
  const publishers: CheckpointPublisher[] = [kafkaCheckpointPublisher(producer, cfg.KAFKA_CHECKPOINTS_TOPIC)];
  if (cfg.SEALER_WITNESS_FILE !== '') publishers.push(witnessFilePublisher(cfg.SEALER_WITNESS_FILE));

  const httpMetrics = createMetrics('sealer');
  const metrics = createSealerMetrics(httpMetrics);
  const sealer = new Sealer({
    kafka,
    store,
    signer,
    publisher: allPublishers(publishers),
    metrics,
    logger,
    options: {
      topic: cfg.KAFKA_LEAVES_TOPIC,
      groupId: cfg.SEALER_GROUP_ID,
      intervalMs: cfg.SEAL_INTERVAL_MS,
      maxPending: cfg.SEALER_MAX_PENDING,
      origin: cfg.SEALER_ORIGIN,
      dedupeWindow: cfg.SEALER_DEDUPE_WINDOW,
      retryInitialMs: cfg.SEALER_RETRY_INITIAL_MS,
      retryMaxMs: cfg.SEALER_RETRY_MAX_MS,
    },
  });
  const republished = await sealer.republishLatest();
  await sealer.start();

  const ready = async () => {
    const problems: string[] = [];
    if (!sealer.isJoined()) problems.push('kafka: consumer has not joined the group');
    const ping = await ch.ping().catch((err: unknown) => ({ success: false as const, error: err as Error }));
    if (!ping.success) problems.push(`clickhouse: ${ping.error?.message ?? 'ping failed'}`);
    return problems;
  };
  const server =
    deps.http === false
      ? undefined
      : await startServer(
          createApp({
            logger,
            metrics: httpMetrics,
            ready,
            witnessFile: cfg.SEALER_WITNESS_FILE || undefined,
          }).fetch,
          { port: cfg.PORT, host: cfg.HOST, tls: tlsFiles(cfg) },
        );
  logger.info(
    { port: server?.port, topic: cfg.KAFKA_LEAVES_TOPIC, key: signer.verifierKey, republished },
    'sealer started',
  );

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await sealer.stop();
      await producer.disconnect();
      await server?.close();
      if (ownClickHouse) await ch.close();
    })();
    return stopped;
  };
  return { sealer, metrics, httpMetrics, server, ready, stop };
}
