import fs from 'node:fs';
import { clickhouseAnswers, clickhouseProcess, startClickHouse, stopClickHouse } from './clickhouse.ts';
import type { LocalStackConfig } from './config.ts';
import { kafkaProcess, startKafka, stopKafka } from './kafka.ts';
import { stateDirs } from './paths.ts';
import { portOpen, runningPid } from './procs.ts';

type Log = (s: string) => void;

export interface UpResult {
  kafka: 'started' | 'running';
  clickhouse: 'started' | 'running';
  seconds: number;
}

/** Starts what is not running and waits until both servers are healthy; reuses what runs. */
export async function stackUp(cfg: LocalStackConfig, log: Log = console.log): Promise<UpResult> {
  const t0 = performance.now();
  fs.mkdirSync(stateDirs(cfg.STACK_DIR).run, { recursive: true });
  const [clickhouse, kafka] = await Promise.all([startClickHouse(cfg, log), startKafka(cfg, log)]);
  return { kafka, clickhouse, seconds: (performance.now() - t0) / 1000 };
}

/** Stops every process the stack started (by pid file, whole process group); keeps the data. */
export async function stackDown(cfg: LocalStackConfig, log: Log = console.log) {
  const [k, c] = await Promise.all([stopKafka(cfg), stopClickHouse(cfg)]);
  log(`kafka: ${k}`);
  log(`clickhouse: ${c}`);
}

export async function stackReset(cfg: LocalStackConfig, log: Log = console.log) {
  await stackDown(cfg, log);
  const dirs = stateDirs(cfg.STACK_DIR);
  // The resolved jars are a cache, not state: keep them.
  fs.rmSync(dirs.kafkaData, { recursive: true, force: true });
  fs.rmSync(dirs.clickhouseData, { recursive: true, force: true });
  fs.rmSync(dirs.logs, { recursive: true, force: true });
  log(`data wiped under ${dirs.root}`);
}

export interface StackStatus {
  kafka: { pid?: number; listening: boolean };
  clickhouse: { pid?: number; healthy: boolean };
}

export async function stackStatus(cfg: LocalStackConfig): Promise<StackStatus> {
  return {
    kafka: { pid: runningPid(kafkaProcess(cfg)), listening: await portOpen(cfg.kafkaHost, cfg.kafkaPort) },
    clickhouse: { pid: runningPid(clickhouseProcess(cfg)), healthy: await clickhouseAnswers(cfg) },
  };
}
