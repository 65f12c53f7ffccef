import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  aclTopicsOf,
  createKafka,
  type Kafka,
  type KafkaClientOptions,
  provisionPipeline,
  provisionTenantTopic,
  SERVICE_PRINCIPALS,
  saslOptions,
  stackKafka,
  tenantPrincipal,
} from '@audit/kafka';
import type { LocalStackConfig } from './config.ts';
import { deployDir, stateDirs } from './paths.ts';

/** The broker's own principal: controller (PLAIN) and inter-broker (SCRAM) connections. */
export const BROKER_PRINCIPAL = 'kafka-broker';

/** Tenants of deploy/local/dev-users.json that get a direct-Kafka producer in the local stack. */
export const DEV_TENANTS = ['acme', 'globex'] as const;
export const devTenantPassword = (tenant: string) => `${tenant}-producer-dev-password`;

export interface ScramUser {
  name: string;
  password: string;
}

/** Every SCRAM user the local stack creates when it formats the broker's storage. */
export function bootstrapUsers(cfg: LocalStackConfig): ScramUser[] {
  return [
    { name: BROKER_PRINCIPAL, password: cfg.KAFKA_BROKER_PASSWORD },
    { name: cfg.KAFKA_ADMIN_USERNAME, password: cfg.KAFKA_ADMIN_PASSWORD },
    ...Object.values(SERVICE_PRINCIPALS).map((p) => ({ name: p.username, password: p.devPassword })),
    ...DEV_TENANTS.map((t) => ({ name: tenantPrincipal(t), password: devTenantPassword(t) })),
  ];
}

const jaas = (
  module: 'scram.ScramLoginModule' | 'plain.PlainLoginModule',
  user: string,
  password: string,
  extra = '',
) => `org.apache.kafka.common.security.${module} required username="${user}" password="${password}"${extra};`;

/**
 * SASL on both listeners: SCRAM-SHA-512 for clients and inter-broker traffic on the broker port,
 * PLAIN (a static credential in this file) on the controller port — KRaft keeps SCRAM
 * credentials in the metadata log, which the controller listener cannot depend on. KRaft's
 * StandardAuthorizer denies everything without an ACL; the broker and the admin are super users.
 */
export function authProperties(cfg: LocalStackConfig): string[] {
  const broker = cfg.KAFKA_BROKER_PASSWORD;
  return [
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    'sasl.mechanism.controller.protocol=PLAIN',
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=${jaas('plain.PlainLoginModule', BROKER_PRINCIPAL, broker, ` user_${BROKER_PRINCIPAL}="${broker}"`)}`,
    `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${jaas('scram.ScramLoginModule', BROKER_PRINCIPAL, broker)}`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=false',
    `super.users=User:${BROKER_PRINCIPAL};User:${cfg.KAFKA_ADMIN_USERNAME}`,
  ];
}

/** `kafka-storage format` arguments that create the bootstrap SCRAM credentials. */
export function addScramArgs(users: ScramUser[]): string[] {
  return users.flatMap((u) => ['--add-scram', `SCRAM-SHA-512=[name=${u.name},password=${u.password}]`]);
}

/** A kafkajs client of one SCRAM principal (a tenant's producer, a service). */
export function userKafka(
  cfg: Pick<LocalStackConfig, 'KAFKA_BROKERS'>,
  clientId: string,
  user: ScramUser,
  opts: Partial<KafkaClientOptions> = {},
): Kafka {
  return createKafka({
    brokers: cfg.KAFKA_BROKERS,
    clientId,
    ...opts,
    auth: { sasl: saslOptions('scram-sha-512', user.name, user.password) },
  });
}

/** The services' topics and ACLs and the dev tenants' topics and ACLs; idempotent. */
export async function ensureAccess(cfg: LocalStackConfig, kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await provisionPipeline(admin, aclTopicsOf(cfg), {
      partitions: cfg.KAFKA_TOPIC_PARTITIONS,
      tenants: DEV_TENANTS,
    });
  } finally {
    await admin.disconnect();
  }
}

/** Properties file for Kafka's Java tools (ConfigCommand, FeatureCommand) as the admin. */
export function adminCommandConfig(cfg: LocalStackConfig): string {
  const file = path.join(stateDirs(cfg.STACK_DIR).kafka, 'admin-client.properties');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    [
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=${jaas('scram.ScramLoginModule', cfg.KAFKA_ADMIN_USERNAME, cfg.KAFKA_ADMIN_PASSWORD)}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

/** Runs one of Kafka's Java tools from the stack's jars, as the admin. */
export function kafkaTool(cfg: LocalStackConfig, libs: string, mainClass: string, args: string[]) {
  return spawnSync(
    'java',
    [
      `-Dlog4j2.configurationFile=${path.join(deployDir, 'local/kafka/log4j2.properties')}`,
      '-cp',
      `${libs}/*`,
      mainClass,
      '--bootstrap-server',
      cfg.KAFKA_BROKERS.join(','),
      '--command-config',
      adminCommandConfig(cfg),
      ...args,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
}

/**
 * Creates or replaces a SCRAM-SHA-512 credential through the Admin API (AlterUserScramCredentials,
 * by Kafka's ConfigCommand: kafkajs lacks the call).
 */
export function upsertScramUser(cfg: LocalStackConfig, libs: string, user: ScramUser): void {
  // ConfigCommand's `[key=value,…]` syntax: these characters would cut the password short.
  if (!/^[^\s,[\]=]{8,}$/.test(user.password)) {
    throw new Error(`the password of ${user.name} must be 8+ characters without spaces or any of , [ ] =`);
  }
  const out = kafkaTool(cfg, libs, 'kafka.admin.ConfigCommand', [
    '--alter',
    '--add-config',
    `SCRAM-SHA-512=[iterations=4096,password=${user.password}]`,
    '--entity-type',
    'users',
    '--entity-name',
    user.name,
  ]);
  if (out.status !== 0) {
    throw new Error(
      `could not set the SCRAM credential of ${user.name}:\n${(out.stdout + out.stderr).slice(-2000)}`,
    );
  }
}

/**
 * A tenant's direct producer: its topic (shaped like the events topic), its SCRAM credential and
 * its WRITE ACL on that topic only. Idempotent; a new password replaces the old one (rotation).
 */
export async function provisionTenantProducer(
  cfg: LocalStackConfig,
  libs: string,
  tenant: string,
  password: string,
): Promise<{ username: string; topic: string; partitions: number }> {
  const username = tenantPrincipal(tenant);
  const admin = stackKafka(cfg, 'audit-stack').admin();
  await admin.connect();
  try {
    // Topic and ACL first: a credential never exists without the one topic it may write.
    const { topic, partitions } = await provisionTenantTopic(
      admin,
      { events: cfg.KAFKA_TOPIC, tenantPrefix: cfg.KAFKA_TENANT_TOPIC_PREFIX },
      tenant,
    );
    upsertScramUser(cfg, libs, { name: username, password });
    return { username, topic, partitions };
  } finally {
    await admin.disconnect();
  }
}
