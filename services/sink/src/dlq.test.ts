import { describe, expect, it } from 'vitest';
import { MAX_DLQ_ERROR_BYTES, toDlqMessage, truncateUtf8 } from './dlq.ts';

describe('toDlqMessage', () => {
  it('keeps the original key, bytes and headers, and adds reason, error and source', () => {
    const value = Buffer.from([0xff, 0x00, 0x7b]);
    const msg = toDlqMessage(
      {
        topic: 'audit.events',
        partition: 3,
        offset: '42',
        key: Buffer.from('t/u'),
        value,
        headers: { a: 'b' },
      },
      'unparseable',
      [{ path: '', message: 'not JSON' }],
    );
    expect(msg.value).toBe(value);
    expect(msg.key?.toString()).toBe('t/u');
    expect(msg.headers).toEqual({
      a: 'b',
      'dlq-reason': 'unparseable',
      'dlq-error': '[{"path":"","message":"not JSON"}]',
      'source-topic': 'audit.events',
      'source-partition': '3',
      'source-offset': '42',
    });
  });

  it('truncates the error to 4 KiB on a character boundary', () => {
    const issues = Array.from({ length: 500 }, (_, i) => ({ path: `p${i}`, message: 'é€'.repeat(5) }));
    const err = toDlqMessage(
      { topic: 't', partition: 0, offset: '0', key: null, value: null },
      'invalid',
      issues,
    ).headers?.['dlq-error'] as string;
    expect(Buffer.byteLength(err)).toBeLessThanOrEqual(MAX_DLQ_ERROR_BYTES);
    expect(err).not.toContain('\ufffd');
    expect(truncateUtf8('aé', 2)).toBe('a');
  });
});
