import fs from 'node:fs';
import type { Producer } from '@audit/kafka';

/** One published checkpoint: a line of the witness file and the value of a checkpoints-topic message. */
export interface PublishedCheckpoint {
  tenant_id: string;
  tree_size: number;
  /** The signed note (C2SP checkpoint + signature lines). */
  note: string;
}

/** Where checkpoints go besides ClickHouse: places the database admin cannot rewrite with it. */
export interface CheckpointPublisher {
  publish(cps: PublishedCheckpoint[]): Promise<void>;
}

/** Kafka topic with unlimited retention, keyed by tenant. */
export function kafkaCheckpointPublisher(producer: Producer, topic: string): CheckpointPublisher {
  return {
    async publish(cps) {
      if (cps.length === 0) return;
      await producer.send({
        topic,
        acks: -1,
        messages: cps.map((c) => ({ key: c.tenant_id, value: JSON.stringify(c) })),
      });
    },
  };
}

/**
 * An append-only NDJSON file, fsynced before the seal counts as durable. Ship it (or GET
 * /witness) to a system the database admins do not control: a WORM bucket, another team's log.
 */
export function witnessFilePublisher(file: string): CheckpointPublisher {
  return {
    async publish(cps) {
      if (cps.length === 0) return;
      const fh = await fs.promises.open(file, 'a');
      try {
        await fh.write(cps.map((c) => `${JSON.stringify(c)}\n`).join(''));
        await fh.datasync();
      } finally {
        await fh.close();
      }
    },
  };
}

export function allPublishers(list: CheckpointPublisher[]): CheckpointPublisher {
  return {
    async publish(cps) {
      for (const p of list) await p.publish(cps);
    },
  };
}
