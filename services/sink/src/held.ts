import type { IHeaders, KafkaMessage } from '@audit/kafka';
import type { SourceMessage } from './dlq.ts';

/**
 * A fetched message copied out of kafkajs' fetch response. kafkajs decodes keys, values and header
 * values as slices of the response buffer (up to the fetch's maxBytes), so keeping one message of a
 * response would pin all of it until the message's batch is written.
 */
export interface Held {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

const copyBuf = (b: Buffer | null | undefined): Buffer | null => (b ? Buffer.from(b) : null);

export function hold(m: KafkaMessage): Held {
  let headers: IHeaders | undefined;
  if (m.headers) {
    headers = {};
    for (const [k, v] of Object.entries(m.headers)) {
      headers[k] = Array.isArray(v)
        ? v.map((x) => (Buffer.isBuffer(x) ? Buffer.from(x) : x))
        : Buffer.isBuffer(v)
          ? Buffer.from(v)
          : v;
    }
  }
  return { offset: m.offset, timestamp: m.timestamp, key: copyBuf(m.key), value: copyBuf(m.value), headers };
}

/** The original message as the DLQ record carries it. */
export function source(topic: string, partition: number, msg: Held): SourceMessage {
  return {
    topic,
    partition,
    offset: msg.offset,
    key: msg.key ?? null,
    value: msg.value,
    headers: msg.headers,
  };
}
