/** Levels of the KafkaLogSink, lowest first. */
export type KafkaLogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Broker answers that kafkajs retries by itself and that any healthy cluster gives while it
 * starts, elects leaders or moves a group coordinator: a fresh broker loads `__consumer_offsets`
 * (GROUP_LOAD_IN_PROGRESS, GROUP_COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR_FOR_GROUP), a new topic
 * propagates (UNKNOWN_TOPIC_OR_PARTITION), leadership moves (LEADER_NOT_AVAILABLE,
 * NOT_LEADER_FOR_PARTITION, NOT_CONTROLLER). kafkajs reports every attempt at error level; each
 * attempt is logged at debug here, because the outcome that matters is reported anyway: when
 * the retries run out, the call fails and its caller logs (or the consumer crashes, which the
 * sink logs as an error).
 *
 * The texts and names are kafkajs' own (`kafkajs/src/protocol/error.js`); log-levels.test.ts checks them
 * against the installed kafkajs, so an upgrade that rewords one fails there, not silently here.
 */
export const TRANSIENT_BROKER_ERRORS: Readonly<Record<string, string>> = {
  UNKNOWN_TOPIC_OR_PARTITION: 'This server does not host this topic-partition',
  LEADER_NOT_AVAILABLE:
    'There is no leader for this topic-partition as we are in the middle of a leadership election',
  NOT_LEADER_FOR_PARTITION: 'This server is not the leader for that topic-partition',
  GROUP_LOAD_IN_PROGRESS: "The coordinator is loading and hence can't process requests for this group",
  GROUP_COORDINATOR_NOT_AVAILABLE: 'The group coordinator is not available',
  NOT_COORDINATOR_FOR_GROUP: 'This is not the correct coordinator for this group',
  NOT_CONTROLLER: 'This is not the correct controller for this cluster',
};

const transient = new Set(Object.values(TRANSIENT_BROKER_ERRORS));

/**
 * Routine group events kafkajs warns about and handles in the same breath: a member joined or
 * left (rebalance), or an assignment names partitions its metadata has not caught up with.
 */
const ROUTINE = new Set([
  'The group is rebalancing, re-joining',
  'Consumer is not aware of all assigned partitions, refreshing metadata',
]);
/**
 * A consumer that meets a transient answer outside kafkajs' inner retries (a JoinGroup while the
 * coordinator still loads) "crashes" and is restarted by kafkajs; the crash is reported with the
 * error's name (see isTransientBrokerError), the restart on its own line.
 */
const CRASH_PREFIX = 'Crash: KafkaJSProtocolError: ';
const RESTARTING = /^Restarting the consumer in \d+ms$/;

/** A broker answer of TRANSIENT_BROKER_ERRORS, as kafkajs throws it (not once its retries ran out). */
export function isTransientBrokerError(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | null;
  return e?.name === 'KafkaJSProtocolError' && typeof e.message === 'string' && transient.has(e.message);
}

/**
 * The level a consumer's CRASH event is logged at: a transient answer kafkajs restarts the
 * consumer after by itself (a JoinGroup while a fresh broker's coordinator loads) is routine;
 * anything else is an error. The sink and the sealer log crashes through this one rule.
 */
export function consumerCrashLevel(crash: { error: unknown; restart: boolean }): 'debug' | 'error' {
  return crash.restart && isTransientBrokerError(crash.error) ? 'debug' : 'error';
}

/**
 * kafkajs warns about this whenever an idempotent producer has a finite retry count, which ours
 * have on purpose (packages/kafka/src/producer.ts): a send that keeps failing must fail to its
 * caller instead of retrying forever. The guarantee the warning is about (no duplicate in Kafka
 * when the caller sends again) is not one the trail relies on: a resend carries the same
 * event_ids, and storage keeps one event per event_id (docs/storage.md).
 */
const IDEMPOTENT_RETRIES = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/** The level a kafkajs log entry is written at: kafkajs' own, except for the cases above. */
export function kafkaLogLevel(level: KafkaLogLevel, message: string, error?: unknown): KafkaLogLevel {
  if (level !== 'warn' && level !== 'error') return level;
  if (message === IDEMPOTENT_RETRIES) return 'debug';
  if (ROUTINE.has(message) || RESTARTING.test(message)) return 'info';
  if (message.startsWith(CRASH_PREFIX) && transient.has(message.slice(CRASH_PREFIX.length))) return 'debug';
  // kafkajs puts the broker's answer in `error` (connection responses) or in the message itself,
  // bare or after "Failed to send messages: " (producer and broker-pool retries).
  if (typeof error === 'string' && transient.has(error)) return 'debug';
  const text = message.startsWith('Failed to send messages: ')
    ? message.slice('Failed to send messages: '.length)
    : message;
  if (transient.has(text)) return 'debug';
  return level;
}
