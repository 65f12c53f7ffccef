import type { KafkaMessage } from '@audit/kafka';
import { describe, expect, it } from 'vitest';
import { examine } from '../../scripts/dlq-replay.ts';

const valid = JSON.stringify({
  event_id: '0190a1b2-0000-7000-8000-000000000001',
  tenant_id: 'globex',
  event_type: 'customer.billed',
  timestamp: new Date().toISOString(),
  user_id: 'u1',
  event_details: {},
});
const letter = (reason: string): KafkaMessage =>
  ({
    key: Buffer.from('k'),
    value: Buffer.from(valid),
    offset: '7',
    timestamp: String(Date.now()),
    attributes: 0,
    headers: {
      'dlq-reason': reason,
      'source-topic': 'audit.t.acme',
      'source-partition': '0',
      'source-offset': '3',
    },
  }) as KafkaMessage;

describe('DLQ replay: what a producer was not allowed to write is never replayed', () => {
  it('a valid event dead-lettered as tenant_mismatch or reserved_type is skipped as forbidden', () => {
    for (const reason of ['tenant_mismatch', 'reserved_type']) {
      const item = examine('audit.events.dlq', 0, letter(reason));
      expect(item).toMatchObject({ action: 'skip', reason: 'forbidden', dlqReason: reason });
      expect(item.issues?.[0]?.message).toContain('audit.t.acme');
    }
  });

  it('the same bytes dead-lettered for a data reason are replayed once valid', () => {
    expect(examine('audit.events.dlq', 0, letter('invalid'))).toMatchObject({ action: 'replay' });
  });
});
