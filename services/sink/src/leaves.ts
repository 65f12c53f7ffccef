import type { StoredEventRow } from '@audit/clickhouse';
import { type Admin, createTopicsReady, type Message, type Producer } from '@audit/kafka';
import { leafHashOfRow, toHex } from '@audit/tlog';
import { nodeHasher } from '@audit/tlog/node';
import type { StoredRow } from './steps.ts';

/**
 * Tamper evidence, the sink's part (docs/integrity.md): for every row ClickHouse acknowledged,
 * one small leaf record goes to the single-partition leaves topic before the batch's offsets are
 * committed; the sealer appends them to the tenants' Merkle logs in that topic's order. A batch
 * written again after a crash or rebalance republishes its records; the sealer drops those by
 * their source offset.
 */
export interface LeafRecord {
  tenant_id: string;
  event_id: string;
  /** Hex RFC 9162 leaf hash of the stored row (@audit/tlog leaf.ts). */
  leaf_hash: string;
  topic: string;
  partition: number;
  offset: number;
}

export interface LeafPublisher {
  publish(records: LeafRecord[]): Promise<void>;
}

/** Hex RFC 9162 leaf hash of a row exactly as the sink stores it. */
export const rowLeafHash = (row: StoredEventRow): string => toHex(leafHashOfRow(nodeHasher, row));

/** The records of a range's stored rows (inserted now, or redelivered ones stored before). */
export function leafRecords(rows: StoredRow[], topic: string): LeafRecord[] {
  return rows.map((row) => {
    if (row.leaf_hash === undefined) throw new Error('sealing is on but a stored row has no leaf hash');
    return {
      tenant_id: row.tenant_id,
      event_id: row.event_id,
      leaf_hash: row.leaf_hash,
      topic,
      partition: row.kafka_partition,
      offset: row.kafka_offset,
    };
  });
}

/**
 * Records per produce request: ~200 bytes each, so one request (one record batch on the single
 * partition) stays near 400 KB, under the broker's 1 MiB message.max.bytes — a 50,000-row batch in
 * one send was refused as too large and retried forever.
 */
const CHUNK = 2_000;

export function kafkaLeafPublisher(producer: Producer, topic: string): LeafPublisher {
  return {
    async publish(records) {
      for (let i = 0; i < records.length; i += CHUNK) {
        const messages: Message[] = records
          .slice(i, i + CHUNK)
          .map((r) => ({ key: r.tenant_id, value: JSON.stringify(r) }));
        await producer.send({ topic, acks: -1, messages });
      }
    },
  };
}

/**
 * The leaves topic has one partition (the log's total order). Created here when missing, so a
 * sink never waits forever on a topic nobody made; an existing topic is left as it is.
 */
export async function ensureLeavesTopic(admin: Admin, topic: string): Promise<void> {
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic, partitions: 1 }]);
  } finally {
    await admin.disconnect();
  }
}
