/**
 * Verifies a tenant's trail with only the query API, a token and the sealer's public key:
 *
 *   pnpm verify --url http://127.0.0.1:8081 --token "$READ" --key 'audit-log+1a2b3c4d+AX…' \
 *     [--key <older key>…] [--from 2026-01-01T00:00:00Z --to …] \
 *     [--published <witness file | http(s) URL of the sealer's GET /witness>] \
 *     [--kafka <brokers> [--topic audit.checkpoints]]
 *
 * Prints a report; exits 1 naming the event ids and checkpoints involved when anything is off,
 * 2 on bad usage. The logic is @audit/tlog's verifyTrail (the same module runs in a browser).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig, stackSchema } from '@audit/config';
import { stackKafka } from '@audit/kafka';
import { formatReport, type PublishedCheckpoint, parsePublished, verifyTrail } from '@audit/tlog';
import { nodeSha256 } from '@audit/tlog/node';

/** Every message of the checkpoints topic, from the beginning to the current end. */
async function readTopic(brokers: string, topic: string): Promise<PublishedCheckpoint[]> {
  // Authenticates like the other tools (KAFKA_SASL_MECHANISM, KAFKA_ADMIN_USERNAME/PASSWORD): any
  // principal with READ on the checkpoints topic and a group will do.
  const kafka = stackKafka(
    loadConfig(stackSchema, { ...process.env, KAFKA_BROKERS: brokers }),
    'audit-verify',
  );
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((e) => Number(e.high) > 0).map((e) => [e.partition, BigInt(e.high)]));
  const out: PublishedCheckpoint[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `audit-verify-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          if (message.value) out.push(JSON.parse(message.value.toString('utf8')) as PublishedCheckpoint);
          if (BigInt(message.offset) + 1n >= (remaining.get(partition) ?? 0n)) remaining.delete(partition);
          if (remaining.size === 0) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      key: { type: 'string', multiple: true },
      from: { type: 'string' },
      to: { type: 'string' },
      published: { type: 'string' },
      kafka: { type: 'string' },
      topic: { type: 'string', default: 'audit.checkpoints' },
    },
  });
  if (!values.url || !values.token || !values.key?.length) {
    console.error(
      'usage: pnpm verify --url <query API> --token <jwt> --key <verifier key> [--from] [--to] [--published <file|url>] [--kafka <brokers>]',
    );
    return 2;
  }
  let published: PublishedCheckpoint[] | undefined;
  if (values.published) {
    const text = /^https?:\/\//.test(values.published)
      ? await (await fetch(values.published)).text()
      : fs.readFileSync(values.published, 'utf8');
    published = parsePublished(text);
  }
  if (values.kafka) published = [...(published ?? []), ...(await readTopic(values.kafka, values.topic!))];
  const token = /^bearer /i.test(values.token) ? values.token : `Bearer ${values.token}`;
  const report = await verifyTrail({
    url: values.url,
    token,
    keys: values.key,
    from: values.from,
    to: values.to,
    published,
    sha256: nodeSha256,
  });
  console.log(formatReport(report));
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`verify: ${(err as Error).message ?? err}`);
    process.exit(2);
  },
);
