/**
 * Replays the dead-letter topic into the events topic after a fix.
 *
 *   pnpm tsx scripts/dlq-replay.ts --dry-run [--limit N] [--from-offset N]
 *   pnpm tsx scripts/dlq-replay.ts --apply   [--limit N] [--from-offset N]
 *
 * Every message from the replay group's committed position (or --from-offset, on every
 * partition) up to the topic's end as it was at start is validated again with the schema the
 * sink uses (`validateKafkaMessage`): valid ones are replayed — the ORIGINAL key and value bytes,
 * the original headers without the dlq-* / source-* ones, plus `dlq-replayed-from` — and invalid
 * ones are skipped with their issues. --dry-run prints what would happen and changes nothing.
 * --apply produces (acks=all, idempotent) and then commits the replay group's offsets, batch by
 * batch, so a second run continues where the first stopped and never replays a message twice.
 * (A crash between a produce and its commit replays that batch again on the next run: events
 * carry their event_id, and storage keeps one row per event_id.)
 *
 * Endpoints and topics come from the same environment as the services (KAFKA_BROKERS,
 * KAFKA_TOPIC, KAFKA_DLQ_TOPIC), as the Kafka admin principal (KAFKA_ADMIN_USERNAME/PASSWORD); DLQ_REPLAY_GROUP names the replay group (default audit-dlq-replay).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, stackSchema } from '@audit/config';
import {
  durableProducer,
  type IHeaders,
  type Kafka,
  type KafkaMessage,
  type Message,
  stackKafka,
} from '@audit/kafka';
import { type Issue, validateKafkaMessage } from '@audit/schema';

export interface ReplayOptions {
  kafka: Kafka;
  dlqTopic: string;
  topic: string;
  groupId: string;
  apply: boolean;
  /** Most messages to examine in this run. */
  limit?: number;
  /** Start at this offset on every partition instead of the group's position. */
  fromOffset?: number;
  /** One line per examined message (dry-run listing) and progress updates. */
  onItem?: (item: ReplayItem) => void;
  onProgress?: (p: ReplayProgress) => void;
}

export interface ReplayItem {
  partition: number;
  offset: string;
  action: 'replay' | 'skip';
  key: string | null;
  eventId?: string;
  eventType?: string;
  /** Why the sink dead-lettered it (the dlq-reason header). */
  dlqReason?: string;
  /** Why it is skipped now (`forbidden`: its producer was not allowed to write it; never replayed). */
  reason?: 'unparseable' | 'invalid' | 'forbidden';
  issues?: Issue[];
}

export interface ReplayProgress {
  examined: number;
  total: number;
  replayed: number;
  skipped: number;
}

export interface ReplaySummary extends ReplayProgress {
  items: ReplayItem[];
  applied: boolean;
}

const DROPPED_HEADERS = /^(dlq-|source-)/;

/** DLQ reasons that are decisions about the producer, not the data (the sink's dlq.ts). */
const FORBIDDEN_REASONS = new Set(['tenant_mismatch', 'reserved_type']);

function header(h: IHeaders | undefined, name: string): string | undefined {
  const v = h?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : String(one);
}

/** The message to put back: original key and value bytes, original headers, where it came from. */
export function replayMessage(dlqTopic: string, partition: number, msg: KafkaMessage): Message {
  const headers: IHeaders = {};
  for (const [k, v] of Object.entries(msg.headers ?? {})) {
    if (!DROPPED_HEADERS.test(k) && v !== undefined) headers[k] = v;
  }
  headers['dlq-replayed-from'] = `${dlqTopic}/${partition}/${msg.offset}`;
  return { key: msg.key, value: msg.value, headers };
}

/** Decides one DLQ message: replay when the schema accepts it now, else skip with the issues. */
export function examine(dlqTopic: string, partition: number, msg: KafkaMessage): ReplayItem {
  const base = {
    partition,
    offset: msg.offset,
    key: msg.key?.toString() ?? null,
    dlqReason: header(msg.headers, 'dlq-reason'),
  };
  // A tenant's producer wrote another tenant's (or a system) event: replaying it onto the events
  // topic, which only services write, would store exactly what the sink refused.
  if (base.dlqReason !== undefined && FORBIDDEN_REASONS.has(base.dlqReason)) {
    const topic = header(msg.headers, 'source-topic') ?? '?';
    return {
      ...base,
      action: 'skip',
      reason: 'forbidden',
      issues: [{ path: '', message: `dead-lettered as ${base.dlqReason} from ${topic}: never replayed` }],
    };
  }
  // Validate as the sink will see it on the events topic: the original position names a
  // derived event_id, so use it when the headers carry it.
  const v = validateKafkaMessage(msg.value, {
    topic: header(msg.headers, 'source-topic') ?? dlqTopic,
    partition: Number(header(msg.headers, 'source-partition') ?? partition),
    offset: header(msg.headers, 'source-offset') ?? msg.offset,
    timestamp: msg.timestamp,
  });
  if (v.ok) return { ...base, action: 'replay', eventId: v.event.event_id, eventType: v.event.event_type };
  return { ...base, action: 'skip', reason: v.reason, issues: v.issues };
}

/** Reads the DLQ from the group's position to the end seen at start; replays (or lists) each message. */
export async function replayDlq(opts: ReplayOptions): Promise<ReplaySummary> {
  const admin = opts.kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(opts.dlqTopic);
  const [committed] = await admin.fetchOffsets({ groupId: opts.groupId, topics: [opts.dlqTopic] });
  await admin.disconnect();

  const start = new Map<number, bigint>();
  const end = new Map<number, bigint>();
  for (const p of ends) {
    const low = BigInt(p.low);
    const high = BigInt(p.high);
    const c = committed?.partitions.find((x) => x.partition === p.partition)?.offset ?? '-1';
    let from = opts.fromOffset !== undefined ? BigInt(opts.fromOffset) : BigInt(c) >= 0n ? BigInt(c) : low;
    if (from < low) from = low;
    if (from > high) from = high;
    start.set(p.partition, from);
    end.set(p.partition, high);
  }
  let total = 0;
  for (const [p, s] of start) total += Number(end.get(p)! - s);
  if (opts.limit !== undefined) total = Math.min(total, opts.limit);

  const summary: ReplaySummary = {
    examined: 0,
    total,
    replayed: 0,
    skipped: 0,
    items: [],
    applied: opts.apply,
  };
  if (total === 0) return summary;

  const producer = opts.apply ? durableProducer(opts.kafka) : undefined;
  await producer?.connect();
  const consumer = opts.kafka.consumer({ groupId: opts.groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic: opts.dlqTopic, fromBeginning: true });

  const pending = new Set([...start].filter(([p, s]) => s < end.get(p)!).map(([p]) => p));
  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const done = () => pending.size === 0 || summary.examined >= total;

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      try {
        const partition = batch.partition;
        const stop = end.get(partition)!;
        const out: Message[] = [];
        let last: string | undefined;
        for (const msg of batch.messages) {
          if (done() || BigInt(msg.offset) >= stop) break;
          if (BigInt(msg.offset) < start.get(partition)!) continue; // fetched before the seek applied
          const item = examine(opts.dlqTopic, partition, msg);
          summary.items.push(item);
          summary.examined++;
          if (item.action === 'replay') {
            summary.replayed++;
            out.push(replayMessage(opts.dlqTopic, partition, msg));
          } else {
            summary.skipped++;
          }
          opts.onItem?.(item);
          last = msg.offset;
        }
        if (last !== undefined) {
          if (producer && out.length > 0) await producer.send({ topic: opts.topic, acks: -1, messages: out });
          const next = (BigInt(last) + 1n).toString();
          if (opts.apply) {
            // Only after the produce was acknowledged: the next run starts behind these.
            await consumer.commitOffsets([{ topic: opts.dlqTopic, partition, offset: next }]);
          }
          resolveOffset(last);
          if (BigInt(next) >= stop) pending.delete(partition);
        }
        opts.onProgress?.({ ...summary });
        await heartbeat();
        if (done()) finish();
      } catch (err) {
        fail(err);
      }
    },
  });
  for (const [partition, offset] of start) {
    consumer.seek({ topic: opts.dlqTopic, partition, offset: offset.toString() });
  }
  try {
    await finished;
  } finally {
    await consumer.disconnect();
    await producer?.disconnect();
  }
  return summary;
}

function parseArgs(argv: string[]) {
  const args = {
    apply: false,
    dryRun: false,
    limit: undefined as number | undefined,
    fromOffset: undefined as number | undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--apply') args.apply = true;
    else if (a === '--dry-run') args.dryRun = true;
    else if (a === '--limit') args.limit = value();
    else if (a === '--from-offset') args.fromOffset = value();
    else throw new Error(`unknown argument ${a}`);
  }
  if (args.apply === args.dryRun) throw new Error('give exactly one of --dry-run or --apply');
  return args;
}

function describe(item: ReplayItem): string {
  const where = `p${item.partition}@${item.offset}`;
  if (item.action === 'replay') {
    return `replay ${where} key=${item.key ?? '-'} event_id=${item.eventId} type=${item.eventType} (was ${item.dlqReason ?? '?'})`;
  }
  const issues = (item.issues ?? []).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  return `skip   ${where} key=${item.key ?? '-'} ${item.reason}: ${issues}`;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const cfg = loadConfig(stackSchema);
  // An operator's tool: the admin principal (it reads the DLQ and writes the events topic).
  const kafka = stackKafka(cfg, 'audit-dlq-replay');
  const groupId = process.env.DLQ_REPLAY_GROUP || 'audit-dlq-replay';
  const mode = args.apply ? 'apply' : 'dry-run';
  console.error(`[dlq-replay] ${mode}: ${cfg.KAFKA_DLQ_TOPIC} → ${cfg.KAFKA_TOPIC} (group ${groupId})`);
  const tty = process.stderr.isTTY;
  const summary = await replayDlq({
    kafka,
    dlqTopic: cfg.KAFKA_DLQ_TOPIC,
    topic: cfg.KAFKA_TOPIC,
    groupId,
    apply: args.apply,
    limit: args.limit,
    fromOffset: args.fromOffset,
    onItem: (item) => {
      if (!args.apply || item.action === 'skip')
        console.log(`${args.apply ? '' : 'would '}${describe(item)}`);
    },
    onProgress: (p) => {
      const pct = p.total ? Math.floor((p.examined / p.total) * 100) : 100;
      const line = `[dlq-replay] ${p.examined}/${p.total} (${pct}%) replayed ${p.replayed}, skipped ${p.skipped}`;
      if (tty) process.stderr.write(`\r${line}`);
      else console.error(line);
    },
  });
  if (tty) process.stderr.write('\n');
  const verb = args.apply ? 'replayed' : 'would replay';
  console.error(
    `[dlq-replay] done: examined ${summary.examined}, ${verb} ${summary.replayed}, skipped ${summary.skipped}` +
      (args.apply ? '' : ' (dry run: nothing produced, no offsets committed)'),
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`[dlq-replay] ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
