import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  consumerCrashLevel,
  isTransientBrokerError,
  kafkaLogLevel,
  TRANSIENT_BROKER_ERRORS,
} from './log-levels.ts';

const require = createRequire(import.meta.url);
const { errorCodes, createErrorFromCode } = require('kafkajs/src/protocol/error.js') as {
  errorCodes: Array<{ type: string; code: number; retriable: boolean; message: string }>;
  createErrorFromCode(code: number): Error;
};
const { KafkaJSNumberOfRetriesExceeded } = require('kafkajs/src/errors.js') as {
  KafkaJSNumberOfRetriesExceeded: new (e: Error, o: { retryCount: number; retryTime: number }) => Error;
};

describe('kafkaLogLevel', () => {
  it('names retriable broker errors with the texts of the installed kafkajs', () => {
    for (const [type, message] of Object.entries(TRANSIENT_BROKER_ERRORS)) {
      expect(errorCodes.find((e) => e.type === type)).toEqual(
        expect.objectContaining({ type, message, retriable: true }),
      );
    }
  });

  it('logs the per-attempt reports of transient broker answers at debug', () => {
    const loading = TRANSIENT_BROKER_ERRORS.GROUP_LOAD_IN_PROGRESS!;
    // connection.js: the response error is a field of the entry
    expect(kafkaLogLevel('error', 'Response InitProducerId(key: 22, version: 1)', loading)).toBe('debug');
    expect(
      kafkaLogLevel(
        'error',
        'Response GroupCoordinator(key: 10, version: 2)',
        'The group coordinator is not available',
      ),
    ).toBe('debug');
    // sendMessages.js and brokerPool.js: the error is the message
    expect(
      kafkaLogLevel(
        'error',
        'Failed to send messages: This server is not the leader for that topic-partition',
      ),
    ).toBe('debug');
    expect(kafkaLogLevel('error', 'This server does not host this topic-partition')).toBe('debug');
  });

  it('explains the idempotent-retries notice away and keeps routine group events at info', () => {
    expect(
      kafkaLogLevel('warn', 'Limiting retries for the idempotent producer may invalidate EoS guarantees'),
    ).toBe('debug');
    expect(
      kafkaLogLevel(
        'warn',
        'The group is rebalancing, re-joining',
        'The group is rebalancing, so a rejoin is needed',
      ),
    ).toBe('info');
    expect(
      kafkaLogLevel('warn', 'Consumer is not aware of all assigned partitions, refreshing metadata'),
    ).toBe('info');
  });

  it('logs a consumer crash on a transient answer, which kafkajs restarts, at debug; the restart at info', () => {
    const loading = createErrorFromCode(14);
    expect(isTransientBrokerError(loading)).toBe(true);
    expect(kafkaLogLevel('error', `Crash: ${loading.name}: ${loading.message}`)).toBe('debug');
    expect(kafkaLogLevel('error', 'Restarting the consumer in 200ms')).toBe('info');
    // Once kafkajs' retries ran out it is a real problem.
    const exhausted = new KafkaJSNumberOfRetriesExceeded(loading, { retryCount: 5, retryTime: 5000 });
    expect(isTransientBrokerError(exhausted)).toBe(false);
    expect(kafkaLogLevel('error', `Crash: ${exhausted.name}: ${exhausted.message}`)).toBe('error');
    expect(isTransientBrokerError(createErrorFromCode(25))).toBe(false); // UNKNOWN_MEMBER_ID
    expect(isTransientBrokerError(new Error(loading.message))).toBe(false);
    // The consumer's CRASH event (sink and sealer): routine only when kafkajs restarts it.
    expect(consumerCrashLevel({ error: loading, restart: true })).toBe('debug');
    expect(consumerCrashLevel({ error: loading, restart: false })).toBe('error');
    expect(consumerCrashLevel({ error: exhausted, restart: true })).toBe('error');
  });

  it('keeps every other warning and error as kafkajs reported it', () => {
    expect(kafkaLogLevel('error', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092')).toBe('error');
    expect(kafkaLogLevel('error', 'Response Produce(key: 0, version: 7)', 'The request timed out')).toBe(
      'error',
    );
    expect(
      kafkaLogLevel('error', 'Crash: KafkaJSNumberOfRetriesExceeded: The group coordinator is not available'),
    ).toBe('error');
    expect(kafkaLogLevel('warn', 'Could not create topics', 'Topic with this name already exists')).toBe(
      'warn',
    );
    expect(kafkaLogLevel('info', 'Consumer has joined the group')).toBe('info');
  });
});
