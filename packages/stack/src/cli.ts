import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { TENANT_TOPIC_ID } from '@audit/kafka';
import { clickhouseVersion } from './clickhouse.ts';
import { loadLocalStackConfig } from './config.ts';
import { ensureKafkaJars, kafkaMetadataVersion } from './kafka.ts';
import { provisionTenantProducer } from './kafka-auth.ts';
import { downPrivateStacks } from './private-stack.ts';
import { stackDown, stackReset, stackStatus, stackUp } from './stack.ts';

const usage =
  'usage: stack <up [--reset]|down [--all]|status|reset|tenant <tenant_id> [--password-file <file>]>';

async function main(argv: string[]) {
  const [command, ...flags] = argv;
  const cfg = loadLocalStackConfig();
  switch (command) {
    case 'up': {
      if (flags.includes('--reset')) await stackReset(cfg);
      const r = await stackUp(cfg);
      console.log(`kafka ${r.kafka} at ${cfg.KAFKA_BROKERS.join(',')}`);
      console.log(
        `clickhouse ${r.clickhouse} at ${cfg.CLICKHOUSE_URL} (version ${await clickhouseVersion(cfg)})`,
      );
      console.log(`stack ready in ${r.seconds.toFixed(1)} s`);
      return 0;
    }
    case 'down':
      await stackDown(cfg);
      // `--all` also stops private stacks that an interrupted test run left behind.
      if (flags.includes('--all')) await downPrivateStacks();
      return 0;
    case 'reset':
      await stackReset(cfg);
      return 0;
    case 'status': {
      const s = await stackStatus(cfg);
      const kafkaUp = s.kafka.pid !== undefined && s.kafka.listening;
      const chUp = s.clickhouse.pid !== undefined && s.clickhouse.healthy;
      const kafkaVersion = kafkaUp ? `metadata.version ${kafkaMetadataVersion(cfg) ?? '?'}` : '';
      const chVersion = chUp ? `version ${await clickhouseVersion(cfg)}` : '';
      console.log(
        `kafka      ${kafkaUp ? 'up' : 'down'}  pid=${s.kafka.pid ?? '-'}  ${cfg.KAFKA_BROKERS}  ${kafkaVersion}`,
      );
      console.log(
        `clickhouse ${chUp ? 'up' : 'down'}  pid=${s.clickhouse.pid ?? '-'}  ${cfg.CLICKHOUSE_URL}  ${chVersion}`,
      );
      return kafkaUp && chUp ? 0 : 3;
    }
    case 'tenant': {
      // A direct producer for one tenant (docs/operations.md, "Kafka authentication"): its topic,
      // SCRAM credential and ACL, on whatever broker KAFKA_BROKERS names, as the admin.
      const [tenant, ...rest] = flags;
      if (!tenant || !TENANT_TOPIC_ID.test(tenant)) {
        console.error(`${usage}\n(tenant ids for Kafka: [a-zA-Z0-9._-], 1-200 characters)`);
        return 2;
      }
      const fileAt = rest.indexOf('--password-file');
      const given =
        fileAt >= 0 && rest[fileAt + 1]
          ? fs.readFileSync(rest[fileAt + 1]!, 'utf8').trim()
          : process.env.KAFKA_TENANT_PASSWORD;
      const password = given || randomBytes(24).toString('base64url');
      const libs = ensureKafkaJars(cfg, console.log);
      const p = await provisionTenantProducer(cfg, libs, tenant, password);
      console.log(`tenant ${tenant}: topic ${p.topic} (${p.partitions} partitions), principal ${p.username}`);
      console.log(
        `  KAFKA_BROKERS=${cfg.KAFKA_BROKERS.join(',')} SASL ${cfg.KAFKA_SASL_MECHANISM.toUpperCase()}`,
      );
      if (!given) console.log(`  password (shown once, store it now): ${password}`);
      return 0;
    }
    default:
      console.error(usage);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`stack: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
