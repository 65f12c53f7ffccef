import {
  type ClickHouseClient,
  createClickHouse,
  eventsTable,
  migrate,
  storedEventsLookup,
} from '@audit/clickhouse';
import { tlsFiles } from '@audit/config';
import { createMetrics, type HttpMetrics, type Logger, type RunningServer, startServer } from '@audit/http';
import { durableProducer, type Kafka, type Producer, serviceKafka } from '@audit/kafka';
import { createApp } from './app.ts';
import type { SinkConfig } from './config.ts';
import { SinkConsumer } from './consumer.ts';
import { kafkaDlqSender } from './dlq.ts';
import { ensureLeavesTopic, kafkaLeafPublisher, leafRecords, rowLeafHash } from './leaves.ts';
import { createSinkMetrics, type SinkMetrics } from './metrics.ts';
import type { OnStored } from './pipeline.ts';
import { backoffDelay, clickHouseInserter, sleep } from './writer.ts';

export interface SinkDeps {
  config: SinkConfig;
  logger: Logger;
  /** Writer-user client; created from the config when absent (and then closed on stop). */
  clickhouse?: ClickHouseClient;
  kafka?: Kafka;
  /** Start the health/metrics HTTP server (default true). */
  http?: boolean;
  /** Runs after ClickHouse acknowledged a range, before its offsets are committed. */
  onStored?: OnStored;
}

export interface RunningSink {
  consumer: SinkConsumer;
  metrics: SinkMetrics;
  httpMetrics: HttpMetrics;
  server?: RunningServer;
  ready(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Starts the sink: migrations (retried until ClickHouse answers), the DLQ producer, the consumer
 * group and the HTTP server. main.ts and the in-process tests use this.
 */
export async function startSink(deps: SinkDeps): Promise<RunningSink> {
  const { config: cfg, logger } = deps;
  const own = [cfg.KAFKA_TOPIC, cfg.KAFKA_DLQ_TOPIC, cfg.KAFKA_LEAVES_TOPIC, cfg.KAFKA_CHECKPOINTS_TOPIC];
  const clash = own.find((t) => t.startsWith(cfg.KAFKA_TENANT_TOPIC_PREFIX));
  // The sink would read its own dead letters (or leaves) as a tenant's events.
  if (clash) {
    throw new Error(
      `KAFKA_TENANT_TOPIC_PREFIX ${cfg.KAFKA_TENANT_TOPIC_PREFIX} also matches the topic ${clash}: choose a prefix no service topic starts with`,
    );
  }
  const ownClickHouse = !deps.clickhouse;
  const ch =
    deps.clickhouse ?? createClickHouse(cfg, 'writer', { requestTimeoutMs: cfg.SINK_INSERT_TIMEOUT_MS });

  if (cfg.SINK_MIGRATE) {
    const vars = { database: cfg.CLICKHOUSE_DATABASE, retentionDays: cfg.RETENTION_DAYS };
    for (let attempt = 1; ; attempt++) {
      try {
        await migrate(ch, vars, { logger, topology: cfg.CLICKHOUSE_TOPOLOGY });
        break;
      } catch (err) {
        if ((err as Error).name === 'MigrationError') throw err;
        const delay = backoffDelay(attempt, {
          initialMs: cfg.SINK_RETRY_INITIAL_MS,
          maxMs: cfg.SINK_RETRY_MAX_MS,
        });
        logger.warn({ err: String(err), delay }, 'migrations failed (ClickHouse unavailable?), retrying');
        await sleep(delay);
      }
    }
  }

  const kafka = deps.kafka ?? serviceKafka(cfg, cfg.SINK_CLIENT_ID, { logger });
  const producer: Producer = durableProducer(kafka);
  await producer.connect();
  if (cfg.SINK_SEAL) await ensureLeavesTopic(kafka.admin(), cfg.KAFKA_LEAVES_TOPIC);

  // Tamper evidence: a range's stored rows go to the sealer before its offsets are committed.
  const leaves = cfg.SINK_SEAL ? kafkaLeafPublisher(producer, cfg.KAFKA_LEAVES_TOPIC) : undefined;
  const onStored: OnStored | undefined = leaves
    ? async (rows, range) => {
        await leaves.publish(leafRecords(rows, range.topic));
        await deps.onStored?.(rows, range);
      }
    : deps.onStored;

  const httpMetrics = createMetrics('sink');
  const metrics = createSinkMetrics(httpMetrics);
  const consumer = new SinkConsumer({
    kafka,
    insert: clickHouseInserter(ch, cfg.SINK_INSERT_TIMEOUT_MS),
    lookup: storedEventsLookup({
      url: cfg.CLICKHOUSE_URL,
      username: cfg.CLICKHOUSE_WRITER_USER,
      password: cfg.CLICKHOUSE_WRITER_PASSWORD,
      database: cfg.CLICKHOUSE_DATABASE,
      timeoutMs: cfg.SINK_INSERT_TIMEOUT_MS,
    }),
    dlq: kafkaDlqSender(producer, cfg.KAFKA_DLQ_TOPIC),
    leafHash: leaves ? rowLeafHash : undefined,
    metrics,
    logger,
    onStored,
    options: {
      topic: cfg.KAFKA_TOPIC,
      tenantTopicPrefix: cfg.KAFKA_TENANT_TOPIC_PREFIX,
      topicRefreshMs: cfg.SINK_TOPIC_REFRESH_MS,
      groupId: cfg.SINK_GROUP_ID,
      table: eventsTable(cfg.CLICKHOUSE_DATABASE),
      maxRows: cfg.SINK_BATCH_MAX_ROWS,
      maxBytes: cfg.SINK_BATCH_MAX_BYTES,
      maxWaitMs: cfg.SINK_BATCH_MAX_WAIT_MS,
      insertConcurrency: cfg.SINK_INSERT_CONCURRENCY,
      maxBufferBytes: cfg.SINK_MAX_BUFFER_BYTES,
      fetchMaxBytesPerPartition: cfg.SINK_FETCH_MAX_BYTES_PER_PARTITION,
      sessionTimeoutMs: cfg.SINK_SESSION_TIMEOUT_MS,
      retryInitialMs: cfg.SINK_RETRY_INITIAL_MS,
      retryMaxMs: cfg.SINK_RETRY_MAX_MS,
      retentionDays: cfg.RETENTION_DAYS,
      crashAfterInsert: cfg.SINK_FAULT_CRASH_AFTER_INSERT,
    },
  });
  await consumer.start();

  const ready = async () => {
    const problems: string[] = [];
    if (!consumer.joined()) problems.push('kafka: consumer has not joined the group');
    const ping = await ch.ping().catch((err: unknown) => ({ success: false as const, error: err as Error }));
    if (!ping.success) problems.push(`clickhouse: ${ping.error?.message ?? 'ping failed'}`);
    return problems;
  };

  const server =
    deps.http === false
      ? undefined
      : await startServer(createApp({ logger, metrics: httpMetrics, ready }).fetch, {
          port: cfg.PORT,
          host: cfg.HOST,
          tls: tlsFiles(cfg),
        });
  logger.info({ port: server?.port, topics: consumer.topics(), group: cfg.SINK_GROUP_ID }, 'sink started');

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await consumer.stop(cfg.SINK_SHUTDOWN_FLUSH_MS);
      await producer.disconnect();
      await server?.close();
      if (ownClickHouse) await ch.close();
    })();
    return stopped;
  };
  return { consumer, metrics, httpMetrics, server, ready, stop };
}
