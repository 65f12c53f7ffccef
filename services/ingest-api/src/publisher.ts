import { ApiError, type Logger } from '@audit/http';
import { CompressionTypes, type Kafka, type Message, type Producer } from '@audit/kafka';
import { type AuditEvent, serializeEvent } from '@audit/schema';
import type { IngestMetrics } from './metrics.ts';

/** Where accepted events go. `publish` resolves only once every event is durable. */
export interface EventPublisher {
  /** Resolves when Kafka acknowledged every event; otherwise throws ApiError 503 `unavailable`. */
  publish(events: AuditEvent[]): Promise<void>;
  /** Readiness problems; empty when Kafka is reachable. */
  ready(): Promise<string[]>;
  /**
   * Refuses new events, waits (at most `timeoutMs`) for sends still running, then disconnects.
   * Sends whose request already got a 503 are not worth a longer wait: their clients resend.
   */
  close(): Promise<void>;
}

export interface KafkaPublisherOptions {
  kafka: Kafka;
  topic: string;
  timeoutMs: number;
  retryAfterSeconds: number;
  maxPendingEvents: number;
  compression: 'none' | 'gzip';
  logger: Logger;
  metrics: IngestMetrics;
  /** How long a readiness answer is reused, so probes do not hammer the broker. */
  readyCacheMs?: number;
  readyTimeoutMs?: number;
}

/**
 * The Kafka message for one event. Key `tenant/user`: events of one actor stay ordered on one
 * partition, while a large tenant still spreads over all partitions by its users.
 */
export function toMessage(event: AuditEvent): Message {
  return {
    key: `${event.tenant_id}/${event.user_id}`,
    value: serializeEvent(event),
    headers: { 'content-type': 'application/json', 'schema-version': '1' },
  };
}

class Timeout extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * An idempotent kafkajs producer (acks=all) behind a bounded wait.
 *
 * The request stops waiting after `timeoutMs` and answers 503, but the send is never cancelled:
 * it carries on (with kafkajs' bounded retries) and may still land. Clients resend with the same
 * event_id; storage deduplicates. `maxPendingEvents` bounds what such sends hold in memory.
 *
 * A send that finally fails leaves kafkajs' idempotence sequence numbers unreliable (it rolls
 * them back even if the broker wrote the batch, and a later batch could then be taken for a
 * duplicate and dropped). So after any failure the producer is retired and the next request
 * gets a fresh one (a new producer id, fresh sequences), as the Java client does by bumping
 * the epoch. A retired producer is disconnected once its own sends settle.
 */
export function createKafkaPublisher(opts: KafkaPublisherOptions): EventPublisher {
  const { kafka, topic, logger, metrics } = opts;
  const admin = kafka.admin({ retry: { retries: 0 } });
  const compression = opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const unavailable = (message: string) =>
    new ApiError(503, 'unavailable', message, undefined, { 'Retry-After': String(opts.retryAfterSeconds) });

  interface Generation {
    producer: Producer;
    connecting?: Promise<void>;
    connected: boolean;
    retired: boolean;
    disconnecting?: boolean;
    sends: number;
  }
  let current: Generation | undefined;
  let closing = false;
  const inFlight = new Set<Promise<unknown>>();
  const retiredGenerations = new Set<Promise<unknown>>();
  let pendingEvents = 0;

  function generation(): Generation {
    if (!current || current.retired) {
      current = {
        producer: kafka.producer({
          idempotent: true,
          // kafkajs keeps ordering with idempotence only with one request in flight per broker.
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
        }),
        connected: false,
        retired: false,
        sends: 0,
      };
    }
    return current;
  }

  function disconnectWhenIdle(gen: Generation) {
    if (gen.sends > 0 || gen.disconnecting) return;
    gen.disconnecting = true;
    const done = gen.producer.disconnect().catch(() => {});
    retiredGenerations.add(done);
    done.finally(() => retiredGenerations.delete(done));
  }

  function retire(gen: Generation, err: unknown) {
    if (gen.retired) return;
    gen.retired = true;
    logger.warn({ err }, 'kafka producer failed; the next request uses a new producer');
    disconnectWhenIdle(gen);
  }

  /** Connects once; a failed connect retires the producer so the next call starts afresh. */
  function connected(gen: Generation): Promise<void> {
    if (gen.connected) return Promise.resolve();
    gen.connecting ??= gen.producer.connect().then(
      () => {
        gen.connected = true;
      },
      (err: unknown) => {
        retire(gen, err);
        throw err;
      },
    );
    return gen.connecting;
  }

  function sendOn(gen: Generation, events: AuditEvent[]): Promise<unknown> {
    gen.sends++;
    pendingEvents += events.length;
    const p = connected(gen)
      .then(() => gen.producer.send({ topic, acks: -1, compression, messages: events.map(toMessage) }))
      .catch((err: unknown) => {
        retire(gen, err);
        throw err;
      })
      .finally(() => {
        gen.sends--;
        pendingEvents -= events.length;
        inFlight.delete(p);
        if (gen.retired) disconnectWhenIdle(gen);
      });
    inFlight.add(p);
    // The request may have stopped waiting; a late failure must not become an unhandled rejection.
    p.catch(() => {});
    return p;
  }

  async function publish(events: AuditEvent[]): Promise<void> {
    if (closing) throw unavailable('shutting down');
    if (pendingEvents + events.length > opts.maxPendingEvents) {
      throw unavailable('too many events waiting for Kafka');
    }
    const t0 = performance.now();
    const observe = (outcome: string) =>
      metrics.kafkaSend.labels(outcome).observe((performance.now() - t0) / 1000);
    try {
      await withTimeout(sendOn(generation(), events), opts.timeoutMs);
      observe('ok');
    } catch (err) {
      const timedOut = err instanceof Timeout;
      observe(timedOut ? 'timeout' : 'error');
      logger.warn({ err, events: events.length, timedOut }, 'kafka send not acknowledged');
      throw unavailable(timedOut ? 'Kafka did not acknowledge in time' : 'Kafka is unavailable');
    }
  }

  let readyCache: { at: number; problems: Promise<string[]> } | undefined;
  async function check(): Promise<string[]> {
    const timeoutMs = opts.readyTimeoutMs ?? 1000;
    try {
      await withTimeout(connected(generation()), timeoutMs);
    } catch (err) {
      return [`kafka producer not connected: ${(err as Error).message}`];
    }
    try {
      await withTimeout(
        (async () => {
          await admin.connect();
          await admin.fetchTopicMetadata({ topics: [topic] });
        })(),
        timeoutMs,
      );
      return [];
    } catch (err) {
      return [`kafka metadata for ${topic} unavailable: ${(err as Error).message}`];
    }
  }

  return {
    publish,
    ready() {
      const now = Date.now();
      if (!readyCache || now - readyCache.at > (opts.readyCacheMs ?? 1000)) {
        readyCache = { at: now, problems: check() };
      }
      return readyCache.problems;
    },
    async close() {
      closing = true;
      await withTimeout(Promise.allSettled([...inFlight]), opts.timeoutMs).catch(() => {
        logger.warn({ pendingEvents }, 'closing with Kafka sends still unacknowledged');
      });
      await Promise.allSettled([current?.producer.disconnect(), admin.disconnect(), ...retiredGenerations]);
    },
  };
}
