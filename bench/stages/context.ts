import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createAuth } from '@audit/auth';
import type { Kafka } from '@audit/kafka';
import { type Row, resultsDir } from '../lib/report.ts';
import { BENCH_JWT_SECRET } from '../lib/services.ts';

/** What `run.ts` hands every stage: the parsed flags and the bench's own clients. */
export interface StageContext {
  quick: boolean;
  /** --events: events per case (each stage has its own default). */
  events?: number;
  /** --concurrency: closed-loop concurrency levels. */
  concurrency?: number[];
  /** --seconds: time cap per case. */
  seconds?: number;
  /** --shapes: ingest request shapes to run (json1, json100, json1000, ndjson1000); all by default. */
  shapes?: string[];
  /** --profile: run the ingest child (ingest stage) or the streamer (streams stage) with --cpu-prof and summarize it. */
  profile: boolean;
  brokers: string[];
  /** The admin's SCRAM-SHA-512 credential, for the clients that are not kafkajs (ceilings). */
  sasl: { username: string; password: string };
  kafka: Kafka;
  logDir: string;
}

export interface StageResult {
  rows: Row[];
  params: Record<string, unknown>;
  notes?: string[];
}

export type Stage = (ctx: StageContext) => Promise<StageResult>;

export const logDirFor = (runId: string) => path.join(resultsDir, 'logs', runId);
export const benchTenant = (label: string) => `bench_${label}_${randomBytes(4).toString('hex')}`;

export async function bearer(tenant: string, scope: 'events:write' | 'events:read'): Promise<string> {
  const auth = await createAuth({ AUTH_JWT_SECRET: BENCH_JWT_SECRET, AUTH_TOKEN_TTL_SECONDS: 3600 });
  return `Bearer ${await auth.issueToken({ subject: 'bench', tenant, scopes: [scope] })}`;
}
