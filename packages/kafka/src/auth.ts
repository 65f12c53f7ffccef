import fs from 'node:fs';
import { env, type StackConfig } from '@audit/config';
import type { SASLOptions } from 'kafkajs';
import { z } from 'zod';
import { createKafka, type KafkaClientOptions } from './client.ts';

/**
 * The Kafka principal a service authenticates as (docs/operations.md, "Kafka authentication").
 * Every service has its own, with least-privilege ACLs (acls.ts); the defaults are the local
 * stack's development credentials of that service, production sets its own. The mechanism and
 * TLS are the broker's, in the stack config (KAFKA_SASL_MECHANISM, KAFKA_SSL).
 */
export function kafkaAuthSchema(principal: { username: string; devPassword: string }) {
  return z.object({
    /** Kafka principal of this service (each service has its own, with its own ACLs). */
    KAFKA_SASL_USERNAME: env.str(principal.username),
    /** Password of `KAFKA_SASL_USERNAME`; KAFKA_SASL_PASSWORD_FILE wins when set. */
    KAFKA_SASL_PASSWORD: z.string().default(principal.devPassword),
    /** File holding the Kafka password (a mounted secret); read once at start-up. */
    KAFKA_SASL_PASSWORD_FILE: z.string().default(''),
  });
}

export type KafkaAuthConfig = z.infer<ReturnType<typeof kafkaAuthSchema>>;

/** The broker side of the stack config: how every client connects. */
export type KafkaBrokerConfig = Pick<
  StackConfig,
  'KAFKA_BROKERS' | 'KAFKA_SASL_MECHANISM' | 'KAFKA_SSL' | 'KAFKA_SSL_CA_FILE'
>;

/** What the client factory needs of it: resolved once (the password file read here). */
export interface KafkaAuth {
  sasl?: SASLOptions;
  ssl?: boolean | { ca: string[] };
}

function brokerAuth(cfg: KafkaBrokerConfig, username: string, password: () => string): KafkaAuth {
  const ssl = cfg.KAFKA_SSL
    ? cfg.KAFKA_SSL_CA_FILE
      ? { ca: [fs.readFileSync(cfg.KAFKA_SSL_CA_FILE, 'utf8')] }
      : true
    : undefined;
  if (cfg.KAFKA_SASL_MECHANISM === 'none') return { ssl };
  return { sasl: saslOptions(cfg.KAFKA_SASL_MECHANISM, username, password()), ssl };
}

/** A service's credentials (its principal from kafkaAuthSchema). */
export function kafkaAuth(cfg: KafkaBrokerConfig & KafkaAuthConfig): KafkaAuth {
  return brokerAuth(cfg, cfg.KAFKA_SASL_USERNAME, () =>
    cfg.KAFKA_SASL_PASSWORD_FILE
      ? fs.readFileSync(cfg.KAFKA_SASL_PASSWORD_FILE, 'utf8').trim()
      : cfg.KAFKA_SASL_PASSWORD,
  );
}

/** The administrative principal of the stack config: tooling and tests, never a service. */
export function adminKafkaAuth(
  cfg: KafkaBrokerConfig & Pick<StackConfig, 'KAFKA_ADMIN_USERNAME' | 'KAFKA_ADMIN_PASSWORD'>,
): KafkaAuth {
  return brokerAuth(cfg, cfg.KAFKA_ADMIN_USERNAME, () => cfg.KAFKA_ADMIN_PASSWORD);
}

export function saslOptions(
  mechanism: 'scram-sha-512' | 'scram-sha-256' | 'plain',
  username: string,
  password: string,
): SASLOptions {
  return { mechanism, username, password } as SASLOptions;
}

type ClientExtras = Partial<Omit<KafkaClientOptions, 'brokers' | 'clientId' | 'auth'>>;

/**
 * A service's client: the stack config's brokers, authenticated as the service's principal. One
 * client per process; SCRAM costs a round trip or two per broker connection, never per request.
 */
export function serviceKafka(
  cfg: KafkaBrokerConfig & KafkaAuthConfig,
  clientId: string,
  opts: ClientExtras = {},
): ReturnType<typeof createKafka> {
  return createKafka({ ...opts, brokers: cfg.KAFKA_BROKERS, clientId, auth: kafkaAuth(cfg) });
}

/**
 * A client of the stack config's brokers as its administrative principal: the stack tool, tenant
 * provisioning, DLQ replay, benchmarks and test harnesses (which need to create topics and read
 * everything).
 */
export function stackKafka(
  cfg: Parameters<typeof adminKafkaAuth>[0],
  clientId: string,
  opts: ClientExtras = {},
): ReturnType<typeof createKafka> {
  return createKafka({ ...opts, brokers: cfg.KAFKA_BROKERS, clientId, auth: adminKafkaAuth(cfg) });
}
