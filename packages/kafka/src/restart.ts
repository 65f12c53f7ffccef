import { type BackoffOptions, backoffDelay, sleep } from '@audit/config';
import type { Consumer } from 'kafkajs';
import type { KafkaLogSink } from './client.ts';

export interface RestartOptions extends BackoffOptions {
  /** Aborted when the service stops: no more attempts. */
  signal: AbortSignal;
  logger: KafkaLogSink;
  /** Called after each failed attempt (a retry metric). */
  onFailedAttempt?: () => void;
}

/**
 * kafkajs restarts a crashed consumer by itself only after retriable errors; after others (e.g.
 * "Failed to find group coordinator" while the broker is down) it stays stopped for good. This
 * reconnects and runs it again with capped backoff until it runs or `signal` aborts. `run` is the
 * caller's `consumer.run({...})` (the subscription survives a crash).
 */
export async function restartConsumer(
  consumer: Consumer,
  run: () => Promise<void>,
  o: RestartOptions,
): Promise<boolean> {
  for (let attempt = 1; !o.signal.aborted; attempt++) {
    if (!(await sleep(backoffDelay(attempt, o), o.signal))) return false;
    try {
      await consumer.connect();
      await run();
      o.logger.warn({ attempt }, 'consumer restarted after crash');
      return true;
    } catch (err) {
      if (o.signal.aborted) return false;
      o.onFailedAttempt?.();
      o.logger.warn(
        { err: String((err as Error)?.message ?? err), attempt },
        'consumer restart failed, retrying',
      );
    }
  }
  return false;
}
