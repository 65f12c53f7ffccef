import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './services.ts';

export interface ProducerPerfResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  classpath: string;
}

/** Kafka's jars as the local stack resolved them (the version directory differs between layouts). */
export function kafkaLibDir(): string | undefined {
  const candidates = [
    ...listDirs(path.join(repoRoot, '.local/kafka-libs')),
    ...listDirs(path.join(repoRoot, '.local/kafka')).filter((d) => path.basename(d).startsWith('libs-')),
  ];
  return candidates.find((d) => fs.readdirSync(d).some((f) => /^kafka-tools-\d.*\.jar$/.test(f)));
}

function listDirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}

/**
 * Kafka's own producer benchmark (`kafka-producer-perf-test`): the Java client with acks=all
 * (idempotent by default since Kafka 3.0) and its default batching, records of `recordSize` bytes.
 */
export async function producerPerfTest(o: {
  topic: string;
  records: number;
  recordSize: number;
  brokers: string;
  /** SCRAM-SHA-512 credential (the broker requires SASL). */
  sasl: { username: string; password: string };
  onLine?: (line: string) => void;
}): Promise<ProducerPerfResult> {
  const dir = kafkaLibDir();
  if (!dir) throw new Error('no Kafka jars with kafka-tools under .local/ (run pnpm stack:up once)');
  const args = [
    '-Xmx512m',
    '-cp',
    `${dir}/*`,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    o.topic,
    '--num-records',
    String(o.records),
    '--record-size',
    String(o.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${o.brokers}`,
    'acks=all',
    'security.protocol=SASL_PLAINTEXT',
    'sasl.mechanism=SCRAM-SHA-512',
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${o.sasl.username}" password="${o.sasl.password}";`,
  ];
  const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    for (const l of String(d).split('\n')) if (l.trim()) o.onLine?.(l.trim());
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d;
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  // The summary line: "N records sent, R records/sec (M MB/sec), … 12 ms 50th, 30 ms 95th, 40 ms 99th, 50 ms 99.9th."
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\).*?(\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/.exec(
      out,
    );
  if (code !== 0 || !m) throw new Error(`ProducerPerformance failed (${code}):\n${out}\n${err.slice(-2000)}`);
  return {
    records: Number(m[1]),
    recordsPerSec: Number(m[2]),
    mbPerSec: Number(m[3]),
    p50_ms: Number(m[4]),
    p99_ms: Number(m[5]),
    p999_ms: Number(m[6]),
    classpath: path.relative(repoRoot, dir),
  };
}
