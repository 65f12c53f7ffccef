import path from 'node:path';
import { env, loadConfig, stackSchema } from '@audit/config';
import { z } from 'zod';
import { repoRoot } from './paths.ts';

/** Settings of the local stack only; endpoints and credentials come from the shared stack schema. */
const localSchema = stackSchema.extend({
  /** Where the local stack keeps jars, data, logs and pid files (git-ignored). */
  STACK_DIR: z.string().default(path.join(repoRoot, '.local')),
  /** Cache of resolved Kafka jars, shared by every stack directory (one folder per version). */
  KAFKA_LIBS_DIR: z.string().default(path.join(repoRoot, '.local', 'kafka-libs')),
  /** Apache Kafka version resolved from Maven Central. */
  KAFKA_VERSION: z
    .string()
    .regex(/^4\.\d+\.\d+$/, 'must be a Kafka 4.x version')
    .default('4.1.1'),
  /** KRaft controller port of the single-node broker. */
  KAFKA_CONTROLLER_PORT: env.port(9093),
  /**
   * Password of the broker's own principal (`kafka-broker`: controller and inter-broker
   * connections, a super user like the admin).
   */
  KAFKA_BROKER_PASSWORD: env.str('broker-dev-password'),
  /** Broker heap; the broker is the biggest process of the stack. */
  KAFKA_HEAP: env.str('512m'),
  /** ClickHouse native protocol port (analysts' clients). */
  CLICKHOUSE_TCP_PORT: env.port(9000),
  /** Seconds to wait for each server to become healthy. */
  STACK_TIMEOUT_SECONDS: env.int(120, 5, 3600),
});

export type LocalStackConfig = z.infer<typeof localSchema> & {
  kafkaHost: string;
  kafkaPort: number;
  clickhouseHost: string;
  clickhouseHttpPort: number;
};

export function loadLocalStackConfig(
  source: Record<string, string | undefined> = process.env,
): LocalStackConfig {
  const cfg = loadConfig(localSchema, source);
  const [host = '127.0.0.1', port = '9092'] = (cfg.KAFKA_BROKERS[0] ?? '127.0.0.1:9092').split(':');
  const ch = new URL(cfg.CLICKHOUSE_URL);
  return {
    ...cfg,
    kafkaHost: host,
    kafkaPort: Number(port),
    clickhouseHost: ch.hostname,
    clickhouseHttpPort: Number(ch.port || 8123),
  };
}
