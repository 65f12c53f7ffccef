/**
 * What a leaf of a tenant's log commits to. leafData = the RFC 8785 canonical JSON of
 *
 *   { leaf_version: 1, tenant_id, event_id, event_type, timestamp, received_at, user_id, source,
 *     actor_type, resource_type, resource_id, action, outcome, ip, user_agent, schema_version,
 *     event_details_sha256 }
 *
 * i.e. every stored field of the event row, with
 *   - times as ISO 8601 UTC with milliseconds (`2026-01-15T00:00:00.000Z`),
 *   - event_id as lowercase UUID text,
 *   - optional fields that are absent as '' (how they are stored),
 *   - event_details as the lowercase hex SHA-256 of its stored JSON text, so the content can
 *     later be erased (kept elsewhere or dropped) while the leaf, and every proof, stays valid.
 * The leaf hash is RFC 9162's H(0x00 ‖ leafData). The sink computes it from the row it inserts,
 * the verifier from the event the query API returns; both paths end here.
 */
import { type Sha256, toHex, utf8 } from './bytes.ts';
import { canonicalJson } from './jcs.ts';
import type { TreeHasher } from './merkle.ts';

export const LEAF_VERSION = 1;

export const OPTIONAL_FIELDS = [
  'actor_type',
  'resource_type',
  'resource_id',
  'action',
  'outcome',
  'ip',
  'user_agent',
] as const;

export interface LeafFields {
  tenant_id: string;
  event_id: string;
  event_type: string;
  timestamp: string;
  received_at: string;
  user_id: string;
  source: string;
  actor_type: string;
  resource_type: string;
  resource_id: string;
  action: string;
  outcome: string;
  ip: string;
  user_agent: string;
  schema_version: number;
  event_details_sha256: string;
}

/** A stored row (ClickHouse `events`): times as 'YYYY-MM-DD hh:mm:ss.sss', details as JSON text. */
export interface StoredRowLike {
  tenant_id: string;
  event_id: string;
  event_type: string;
  timestamp: string;
  received_at: string;
  user_id: string;
  source: string;
  actor_type: string;
  resource_type: string;
  resource_id: string;
  action: string;
  outcome: string;
  ip: string;
  user_agent: string;
  schema_version: number | string;
  event_details: string;
}

/** An event as the query API returns it: optional fields absent, details parsed. */
export interface ApiEventLike {
  tenant_id: string;
  event_id: string;
  event_type: string;
  timestamp: string;
  received_at: string;
  user_id: string;
  source: string;
  actor_type?: string;
  resource_type?: string;
  resource_id?: string;
  action?: string;
  outcome?: string;
  ip?: string;
  user_agent?: string;
  schema_version: number;
  event_details: unknown;
}

const CH_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,3}))?Z?$/;

/** ClickHouse's DateTime64(3) text or an ISO UTC time → `YYYY-MM-DDThh:mm:ss.sssZ`. */
export function canonicalTime(t: string): string {
  const m = CH_TIME.exec(t);
  if (!m) throw new Error(`not a UTC timestamp: ${t}`);
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(3, '0')}Z`;
}

export function leafData(f: LeafFields): Uint8Array {
  return utf8(canonicalJson({ leaf_version: LEAF_VERSION, ...f }));
}

export function fieldsFromRow(row: StoredRowLike, sha256: Sha256): LeafFields {
  return {
    tenant_id: row.tenant_id,
    event_id: row.event_id.toLowerCase(),
    event_type: row.event_type,
    timestamp: canonicalTime(row.timestamp),
    received_at: canonicalTime(row.received_at),
    user_id: row.user_id,
    source: row.source,
    actor_type: row.actor_type,
    resource_type: row.resource_type,
    resource_id: row.resource_id,
    action: row.action,
    outcome: row.outcome,
    ip: row.ip,
    user_agent: row.user_agent,
    schema_version: Number(row.schema_version),
    event_details_sha256: toHex(sha256(utf8(row.event_details))),
  };
}

/**
 * From the API's event: the stored details text is JSON.stringify of the parsed object (the sink
 * writes it so), and parse→stringify reproduces it byte for byte.
 */
export function fieldsFromEvent(e: ApiEventLike, sha256: Sha256): LeafFields {
  const opt = (k: (typeof OPTIONAL_FIELDS)[number]) => e[k] ?? '';
  return {
    tenant_id: e.tenant_id,
    event_id: e.event_id.toLowerCase(),
    event_type: e.event_type,
    timestamp: canonicalTime(e.timestamp),
    received_at: canonicalTime(e.received_at),
    user_id: e.user_id,
    source: e.source,
    actor_type: opt('actor_type'),
    resource_type: opt('resource_type'),
    resource_id: opt('resource_id'),
    action: opt('action'),
    outcome: opt('outcome'),
    ip: opt('ip'),
    user_agent: opt('user_agent'),
    schema_version: Number(e.schema_version),
    event_details_sha256: toHex(sha256(utf8(JSON.stringify(e.event_details ?? {})))),
  };
}

export const leafHashOfRow = (h: TreeHasher, row: StoredRowLike) =>
  h.leafHash(leafData(fieldsFromRow(row, h.sha256)));

export const leafHashOfEvent = (h: TreeHasher, e: ApiEventLike) =>
  h.leafHash(leafData(fieldsFromEvent(e, h.sha256)));
