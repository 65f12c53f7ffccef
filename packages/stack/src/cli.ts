import { clickhouseVersion } from './clickhouse.ts';
import { loadLocalStackConfig } from './config.ts';
import { kafkaMetadataVersion } from './kafka.ts';
import { downPrivateStacks } from './private-stack.ts';
import { stackDown, stackReset, stackStatus, stackUp } from './stack.ts';

const usage = 'usage: stack <up [--reset]|down [--all]|status|reset>';

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
