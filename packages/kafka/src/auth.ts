import fs from 'node:fs';
import { env } from '@audit/config';
import type { SASLOptions } from 'kafkajs';
import { z } from 'zod';

/**
 * How a service authenticates to Kafka (docs/operations.md, "Kafka authentication"). Every
 * service has its own principal with least-privilege ACLs (acls.ts); the defaults are the local
 * stack's development credentials of that service, production sets its own.
 */
export function kafkaAuthSchema(principal: { username: string; devPassword: string }) {
  return z.object({
    /**
     * SASL mechanism of the broker connection: `scram-sha-512` (the local stack's), `scram-sha-256`,
     * `plain` (only over TLS), or `none` for a broker without authentication.
     */
    KAFKA_SASL_MECHANISM: z.enum(['scram-sha-512', 'scram-sha-256', 'plain', 'none']).default('scram-sha-512'),
    /** Kafka principal of this service (each service has its own, with its own ACLs). */
    KAFKA_SASL_USERNAME: env.str(principal.username),
    /** Password of `KAFKA_SASL_USERNAME`; KAFKA_SASL_PASSWORD_FILE wins when set. */
    KAFKA_SASL_PASSWORD: z.string().default(principal.devPassword),
    /** File holding the Kafka password (a mounted secret); read once at start-up. */
    KAFKA_SASL_PASSWORD_FILE: z.string().default(''),
    /** Connect with TLS (SASL_SSL listeners); the system CAs verify the broker unless KAFKA_SSL_CA_FILE is set. */
    KAFKA_SSL: env.bool(false),
    /** PEM file of the CA that signed the brokers' certificates (with KAFKA_SSL). */
    KAFKA_SSL_CA_FILE: z.string().default(''),
  });
}

export type KafkaAuthConfig = z.infer<ReturnType<typeof kafkaAuthSchema>>;

/** What the client factory needs of it: resolved once (the password file read here). */
export interface KafkaAuth {
  sasl?: SASLOptions;
  ssl?: boolean | { ca: string[] };
}

export function kafkaAuth(cfg: KafkaAuthConfig): KafkaAuth {
  const ssl = cfg.KAFKA_SSL
    ? cfg.KAFKA_SSL_CA_FILE
      ? { ca: [fs.readFileSync(cfg.KAFKA_SSL_CA_FILE, 'utf8')] }
      : true
    : undefined;
  if (cfg.KAFKA_SASL_MECHANISM === 'none') return { ssl };
  const password = cfg.KAFKA_SASL_PASSWORD_FILE
    ? fs.readFileSync(cfg.KAFKA_SASL_PASSWORD_FILE, 'utf8').trim()
    : cfg.KAFKA_SASL_PASSWORD;
  return { sasl: saslOptions(cfg.KAFKA_SASL_MECHANISM, cfg.KAFKA_SASL_USERNAME, password), ssl };
}

export function saslOptions(
  mechanism: 'scram-sha-512' | 'scram-sha-256' | 'plain',
  username: string,
  password: string,
): SASLOptions {
  return { mechanism, username, password } as SASLOptions;
}
