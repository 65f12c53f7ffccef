import { loadLocalStackConfig } from './config.ts';
import { stackDown, stackStatus, stackUp } from './stack.ts';

/**
 * Vitest global setup for integration tests. Endpoints come from KAFKA_BROKERS / CLICKHOUSE_URL
 * (defaults: the local stack's). If something already answers there — an external or
 * docker-compose stack, or a local stack started by `pnpm start` — it is used as it is.
 * Otherwise the local stack is started on those ports here and stopped afterwards.
 */
export default async function setup() {
  const cfg = loadLocalStackConfig();
  const before = await stackStatus(cfg);
  if (before.kafka.listening && before.clickhouse.healthy) {
    console.log(
      `[stack] using the running stack at ${cfg.KAFKA_BROKERS.join(',')} and ${cfg.CLICKHOUSE_URL}`,
    );
    return;
  }
  const log = (s: string) => console.log(`[stack] ${s}`);
  const r = await stackUp(cfg, log);
  log(`kafka ${r.kafka}, clickhouse ${r.clickhouse} in ${r.seconds.toFixed(1)} s`);
  return async () => {
    await stackDown(cfg, log);
  };
}
