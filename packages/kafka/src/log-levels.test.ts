import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { kafkaLogLevel, TRANSIENT_BROKER_ERRORS } from './log-levels.ts';

const require = createRequire(import.meta.url);
const { errorCodes } = require('kafkajs/src/protocol/error.js') as {
  errorCodes: Array<{ type: string; retriable: boolean; message: string }>;
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

  it('explains the idempotent-retries notice away and keeps rebalances at info', () => {
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
