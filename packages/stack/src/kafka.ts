import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stackKafka } from '@audit/kafka';
import type { LocalStackConfig } from './config.ts';
import { addScramArgs, authProperties, bootstrapUsers, ensureAccess, kafkaTool } from './kafka-auth.ts';
import { deployDir, stateDirs } from './paths.ts';
import { requireFreePort, requireJava17, requireMaven } from './preflight.ts';
import { managed, portOpen, runningPid, startDetached, stopManaged, tail, waitFor } from './procs.ts';

export function kafkaProcess(cfg: LocalStackConfig) {
  return managed(stateDirs(cfg.STACK_DIR).run, 'kafka');
}

export function kafkaLibsDir(cfg: LocalStackConfig) {
  return path.join(cfg.KAFKA_LIBS_DIR, cfg.KAFKA_VERSION);
}

/** Resolves Apache Kafka's jars through Maven once per version; later runs reuse the folder. */
export function ensureKafkaJars(cfg: LocalStackConfig, log: (s: string) => void): string {
  const libs = kafkaLibsDir(cfg);
  const marker = path.join(libs, '.complete');
  if (fs.existsSync(marker)) return libs;
  requireMaven();
  log(`resolving Apache Kafka ${cfg.KAFKA_VERSION} jars from Maven Central (first run only)…`);
  fs.rmSync(libs, { recursive: true, force: true });
  const out = spawnSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      path.join(deployDir, 'local/kafka/pom.xml'),
      `-Dkafka.version=${cfg.KAFKA_VERSION}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`,
    ],
    { encoding: 'utf8' },
  );
  if (out.status !== 0) {
    throw new Error(
      `Maven could not resolve Kafka ${cfg.KAFKA_VERSION}:\n${(out.stdout + out.stderr).slice(-3000)}`,
    );
  }
  fs.writeFileSync(marker, new Date().toISOString());
  return libs;
}

function serverProperties(cfg: LocalStackConfig, dataDir: string): string {
  const broker = `${cfg.kafkaHost}:${cfg.kafkaPort}`;
  const controller = `${cfg.kafkaHost}:${cfg.KAFKA_CONTROLLER_PORT}`;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${controller}`,
    `listeners=SASL_PLAINTEXT://${broker},CONTROLLER://${controller}`,
    `advertised.listeners=SASL_PLAINTEXT://${broker}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT',
    'inter.broker.listener.name=SASL_PLAINTEXT',
    ...authProperties(cfg),
    `log.dirs=${dataDir}`,
    `num.partitions=${cfg.KAFKA_TOPIC_PARTITIONS}`,
    // A single node: internal topics must fit on one replica or groups never get a coordinator.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

export async function stopKafka(cfg: LocalStackConfig) {
  return stopManaged(kafkaProcess(cfg), 30_000);
}

export async function startKafka(
  cfg: LocalStackConfig,
  log: (s: string) => void,
): Promise<'started' | 'running'> {
  const proc = kafkaProcess(cfg);
  const dirs = stateDirs(cfg.STACK_DIR);
  const logFile = path.join(dirs.logs, 'kafka.log');
  let started = false;
  if (runningPid(proc) === undefined) {
    requireJava17();
    await requireFreePort(cfg.kafkaHost, cfg.kafkaPort, 'Kafka broker');
    await requireFreePort(cfg.kafkaHost, cfg.KAFKA_CONTROLLER_PORT, 'Kafka controller');
    const libs = ensureKafkaJars(cfg, log);
    fs.mkdirSync(dirs.kafkaData, { recursive: true });
    const props = path.join(dirs.kafka, 'server.properties');
    fs.writeFileSync(props, serverProperties(cfg, dirs.kafkaData));
    const classpath = `${libs}/*`;
    // The SCRAM credentials of the bootstrap users live in the metadata log from the start.
    const authMarker = path.join(dirs.kafka, 'scram-bootstrapped');
    if (!fs.existsSync(path.join(dirs.kafkaData, 'meta.properties'))) {
      const format = spawnSync(
        'java',
        // `--cluster-id=`: a random base64url id may start with '-', which the tool's parser takes for an option.
        [
          '-cp',
          classpath,
          'kafka.tools.StorageTool',
          'format',
          `--cluster-id=${clusterId()}`,
          '-c',
          props,
          ...addScramArgs(bootstrapUsers(cfg)),
        ],
        { encoding: 'utf8' },
      );
      if (format.status !== 0)
        throw new Error(`Kafka storage format failed:\n${format.stdout}${format.stderr}`);
      fs.writeFileSync(authMarker, new Date().toISOString());
    } else if (!fs.existsSync(authMarker)) {
      throw new Error(
        `the Kafka data under ${dirs.kafkaData} was created before the broker required authentication ` +
          '(no SCRAM users in it); run `pnpm stack:reset` (deletes the local data) and start again',
      );
    }
    startDetached(
      proc,
      'java',
      [
        `-Xmx${cfg.KAFKA_HEAP}`,
        `-Xms${cfg.KAFKA_HEAP}`,
        '-XX:+UseG1GC',
        `-Dlog4j2.configurationFile=${path.join(deployDir, 'local/kafka/log4j2.properties')}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        props,
      ],
      { cwd: dirs.kafka, env: process.env, logFile },
    );
    started = true;
    log(`kafka: starting on ${cfg.kafkaHost}:${cfg.kafkaPort} (log ${logFile})`);
  }
  await waitFor(
    'Kafka',
    cfg.STACK_TIMEOUT_SECONDS * 1000,
    async () => runningPid(proc) !== undefined && (await portOpen(cfg.kafkaHost, cfg.kafkaPort)),
    () =>
      runningPid(proc) === undefined
        ? `The broker exited; last log lines:\n${tail(logFile)}`
        : `Last log lines:\n${tail(logFile)}`,
  );
  await ensureTopics(cfg);
  return started ? 'started' : 'running';
}

/** A KRaft cluster id: 16 random bytes, base64url without padding. */
function clusterId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url');
}

/**
 * Creates the events, dead-letter, leaves and checkpoints topics and the dev tenants' topics if
 * missing, and the services' and tenants' ACLs; safe to run any number of times.
 */
export async function ensureTopics(cfg: LocalStackConfig) {
  const kafka = stackKafka(cfg, 'audit-stack', { retries: 0 });
  const deadline = Date.now() + cfg.STACK_TIMEOUT_SECONDS * 1000;
  for (;;) {
    try {
      await ensureAccess(cfg, kafka);
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`Kafka is up but topics could not be created: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * The broker's finalized `metadata.version` (e.g. 4.1-IV1), read through the Admin API
 * (DescribeFeatures) by Kafka's own FeatureCommand from the jars the stack already has.
 */
export function kafkaMetadataVersion(cfg: LocalStackConfig): string | undefined {
  const libs = kafkaLibsDir(cfg);
  const out = kafkaTool(cfg, libs, 'org.apache.kafka.tools.FeatureCommand', ['describe']);
  return /Feature: metadata\.version\t.*FinalizedVersionLevel: (\S+)/.exec(out.stdout)?.[1];
}
