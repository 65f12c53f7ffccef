import { ApiError, type Logger } from '@audit/http';
import { CompressionTypes, durableProducer, type Kafka, type Message, type Producer } from '@audit/kafka';
import { type AuditEvent, serializeEvent } from '@audit/schema';
import { Histogram, type Registry } from 'prom-client';
import { createCoalescer } from './coalescer.ts';

/** Where accepted events go. `publish` resolves only once every event is durable. */
/** What the publisher reports: send latency by outcome (`kafka_send_duration_seconds`). */
export interface PublisherMetrics {
  kafkaSend: Histogram<'outcome'>;
}

export function createPublisherMetrics(registry: Registry): PublisherMetrics {
  return {
    kafkaSend: new Histogram({
      name: 'kafka_send_duration_seconds',
      help: 'Time from handing a request to the producer until Kafka acknowledged it (or it failed)',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

export interface EventPublisher {
  /**
   * Resolves when Kafka acknowledged every event; otherwise throws ApiError 503 `unavailable`
   * whose `details.may_have_been_written` says whether some events may land all the same.
   */
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
  /** Bytes of messages queued or being sent; beyond it 503 at once. Default 64 MiB. */
  maxPendingBytes?: number;
  /** Largest coalesced send in bytes (the broker's `message.max.bytes` is 1 MiB per batch). Default 1,000,000. */
  maxBatchBytes?: number;
  /** Most messages in one coalesced send. Default 10,000. */
  maxBatchMessages?: number;
  compression: 'none' | 'gzip';
  logger: Logger;
  metrics: PublisherMetrics;
  /** How long a readiness answer is reused, so probes do not hammer the broker. */
  readyCacheMs?: number;
  readyTimeoutMs?: number;
}

const HEADERS = { 'content-type': 'application/json', 'schema-version': '1' };
/** Header keys and values plus a generous bound on a v2 record's varint fields. */
const RECORD_OVERHEAD = 'content-type'.length + 'application/json'.length + 'schema-version'.length + 1 + 32;

/**
 * A Kafka message with key and value as strings. Strings, not Buffers: a waiting request then
 * holds one compact heap string per event instead of slices of off-heap pool slabs, which kept
 * the process' RSS higher under load (kafkajs copies the bytes into its own encoder either way).
 */
export interface OutgoingMessage extends Message {
  key: string;
  value: string;
}

/**
 * The Kafka message for one event. Key `tenant/event_id`: every send of one id (a retry, a
 * resend after a lost answer) lands on one partition, so one sink consumer sees all copies of
 * it in order and keeps the first; a large tenant still spreads over all partitions.
 */
export function toMessage(event: AuditEvent): OutgoingMessage {
  return {
    key: `${event.tenant_id}/${event.event_id}`,
    value: serializeEvent(event),
    headers: HEADERS,
  };
}

/** What a message adds to a record batch, for the batch and pending-bytes bounds. */
export function messageBytes(m: OutgoingMessage): number {
  return Buffer.byteLength(m.value) + Buffer.byteLength(m.key) + RECORD_OVERHEAD;
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
 * An idempotent kafkajs producer (acks=all) behind a group commit and a bounded wait.
 *
 * kafkajs' idempotent producer keeps one Produce request in flight, so one send per HTTP request
 * made concurrent requests queue one round trip each. Instead, the messages of concurrent
 * requests are coalesced (`coalescer.ts`): one send at a time, carrying everything that arrived
 * while the previous one ran. A request is answered 202 only when all of its messages were
 * acknowledged; a failed send fails every request that had messages in it.
 *
 * The request stops waiting after `timeoutMs` and answers 503. Its messages that are still
 * queued are dropped; a send already running is never cancelled: it carries on (with kafkajs'
 * bounded retries) and may still land. Clients resend with the same event_id; storage
 * deduplicates. `maxPendingEvents`/`maxPendingBytes` bound what queued and running sends hold.
 *
 * A send that finally fails leaves kafkajs' idempotence sequence numbers unreliable (it rolls
 * them back even if the broker wrote the batch, and a later batch could then be taken for a
 * duplicate and dropped). So after any failure the producer is retired and the next send gets a
 * fresh one (a new producer id, fresh sequences), as the Java client does by bumping the epoch.
 * A send that outlives `timeoutMs` retires its producer too: the next batch must not wait behind
 * it, and a producer never has more than one send of ours in flight. A retired producer is
 * disconnected once its own sends settle.
 */
export function createKafkaPublisher(opts: KafkaPublisherOptions): EventPublisher {
  const { kafka, topic, logger, metrics } = opts;
  const maxPendingBytes = opts.maxPendingBytes ?? 64 * 1024 * 1024;
  const admin = kafka.admin({ retry: { retries: 0 } });
  const compression = opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const unavailable = (message: string, mayHaveBeenWritten: boolean) =>
    new ApiError(
      503,
      'unavailable',
      message,
      { may_have_been_written: mayHaveBeenWritten },
      { 'Retry-After': String(opts.retryAfterSeconds) },
    );

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
  // Handed to kafkajs and not settled yet (including sends nobody waits for any more).
  let sendingEvents = 0;
  let sendingBytes = 0;

  function generation(): Generation {
    if (!current || current.retired) {
      current = {
        producer: durableProducer(kafka),
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
    logger.warn({ err }, 'kafka producer failed or stalled; the next send uses a new producer');
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

  /** One coalesced send; the coalescer never calls it again before it settles. */
  function sendBatch(messages: OutgoingMessage[], bytes: number): Promise<void> {
    const gen = generation();
    gen.sends++;
    sendingEvents += messages.length;
    sendingBytes += bytes;
    const p = connected(gen)
      .then(() => gen.producer.send({ topic, acks: -1, compression, messages }))
      .catch((err: unknown) => {
        retire(gen, err);
        throw err;
      })
      .finally(() => {
        gen.sends--;
        sendingEvents -= messages.length;
        sendingBytes -= bytes;
        inFlight.delete(p);
        if (gen.retired) disconnectWhenIdle(gen);
      });
    inFlight.add(p);
    // Nobody may wait for it any more; a late failure must not become an unhandled rejection.
    p.catch(() => {});
    return withTimeout(p, opts.timeoutMs).then(
      () => {},
      (err: unknown) => {
        if (err instanceof Timeout) retire(gen, err);
        throw err;
      },
    );
  }

  const coalescer = createCoalescer<OutgoingMessage>({
    send: sendBatch,
    sizeOf: messageBytes,
    maxBatchBytes: opts.maxBatchBytes ?? 1_000_000,
    maxBatchMessages: opts.maxBatchMessages ?? 10_000,
  });
  const pending = () => ({
    events: coalescer.queued.messages + sendingEvents,
    bytes: coalescer.queued.bytes + sendingBytes,
  });

  async function publish(events: AuditEvent[]): Promise<void> {
    if (closing) throw unavailable('shutting down', false);
    // Encode now, so the caller's parsed objects can be collected while the request waits.
    const messages = events.map(toMessage);
    let bytes = 0;
    for (const m of messages) bytes += messageBytes(m);
    const p = pending();
    // A request alone is always let through, so a maximal body is never refused for its size.
    if (
      (p.events > 0 || p.bytes > 0) &&
      (p.events + messages.length > opts.maxPendingEvents || p.bytes + bytes > maxPendingBytes)
    ) {
      throw unavailable('too many events waiting for Kafka', false);
    }
    const t0 = performance.now();
    const observe = (outcome: string) =>
      metrics.kafkaSend.labels(outcome).observe((performance.now() - t0) / 1000);
    const submission = coalescer.submit(messages);
    submission.done.catch(() => {});
    try {
      await withTimeout(submission.done, opts.timeoutMs);
      observe('ok');
    } catch (err) {
      const timedOut = err instanceof Timeout;
      // Whatever of this request is still queued is not sent: its client gets 503 and resends.
      if (timedOut) submission.cancel(err);
      observe(timedOut ? 'timeout' : 'error');
      logger.warn({ err, events: events.length, timedOut }, 'kafka send not acknowledged');
      // A send handed to the producer may have reached the broker without its answer reaching us.
      throw unavailable(timedOut ? 'Kafka did not acknowledge in time' : 'Kafka is unavailable', true);
    }
  }

  /** Until nothing is queued or being sent (the caller bounds the wait). */
  async function drained(): Promise<void> {
    for (;;) {
      if (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      else if (coalescer.sending || coalescer.queued.messages > 0) await new Promise((r) => setImmediate(r));
      else return;
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
      await withTimeout(drained(), opts.timeoutMs).catch(() => {
        logger.warn({ pending: pending() }, 'closing with Kafka sends still unacknowledged');
      });
      await Promise.allSettled([current?.producer.disconnect(), admin.disconnect(), ...retiredGenerations]);
    },
  };
}
