import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createKafka, createTopicsReady } from '@audit/kafka';
import type { LocalStackConfig } from './config.ts';
import { deployDir, stateDirs } from './paths.ts';
import { requireFreePort, requireJava17, requireMaven } from './preflight.ts';
import { managed, portOpen, runningPid, startDetached, stopManaged, tail, waitFor } from './procs.ts';

export function kafkaProcess(cfg: LocalStackConfig) {
  return managed(stateDirs(cfg.STACK_DIR).run, 'kafka');
}

function kafkaLibsDir(cfg: LocalStackConfig) {
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
    `listeners=PLAINTEXT://${broker},CONTROLLER://${controller}`,
    `advertised.listeners=PLAINTEXT://${broker}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
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
    if (!fs.existsSync(path.join(dirs.kafkaData, 'meta.properties'))) {
      const format = spawnSync(
        'java',
        // `--cluster-id=`: a random base64url id may start with '-', which the tool's parser takes for an option.
        ['-cp', classpath, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId()}`, '-c', props],
        { encoding: 'utf8' },
      );
      if (format.status !== 0)
        throw new Error(`Kafka storage format failed:\n${format.stdout}${format.stderr}`);
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

/** Creates the events, dead-letter, leaves and checkpoints topics if missing; safe to run any number of times. */
export async function ensureTopics(cfg: LocalStackConfig) {
  const kafka = createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: 'audit-stack', retries: 0 });
  const admin = kafka.admin();
  const deadline = Date.now() + cfg.STACK_TIMEOUT_SECONDS * 1000;
  for (;;) {
    try {
      await admin.connect();
      await createTopicsReady(admin, [
        { topic: cfg.KAFKA_TOPIC, partitions: cfg.KAFKA_TOPIC_PARTITIONS },
        { topic: cfg.KAFKA_DLQ_TOPIC, partitions: 1 },
        // Tamper evidence (docs/integrity.md): one partition = one order; checkpoints are kept forever.
        { topic: cfg.KAFKA_LEAVES_TOPIC, partitions: 1 },
        { topic: cfg.KAFKA_CHECKPOINTS_TOPIC, partitions: 1, configs: { 'retention.ms': '-1' } },
      ]);
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`Kafka is up but topics could not be created: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}

/**
 * The broker's finalized `metadata.version` (e.g. 4.1-IV1), read through the Admin API
 * (DescribeFeatures) by Kafka's own FeatureCommand from the jars the stack already has.
 */
export function kafkaMetadataVersion(cfg: LocalStackConfig): string | undefined {
  const libs = kafkaLibsDir(cfg);
  const out = spawnSync(
    'java',
    [
      `-Dlog4j2.configurationFile=${path.join(deployDir, 'local/kafka/log4j2.properties')}`,
      '-cp',
      `${libs}/*`,
      'org.apache.kafka.tools.FeatureCommand',
      '--bootstrap-server',
      cfg.KAFKA_BROKERS.join(','),
      'describe',
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return /Feature: metadata\.version\t.*FinalizedVersionLevel: (\S+)/.exec(out.stdout)?.[1];
}
