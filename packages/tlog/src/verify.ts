/**
 * The trail verifier: what `pnpm verify` runs and what a browser can run, with only the query
 * API, a token with events:read and the sealer's public key(s). It needs no proof per event:
 * it pages through the tenant's leaves, rebuilds the tree and checks every signed checkpoint's
 * root at its size (which also proves consecutive checkpoints consistent), then holds every
 * exported event against its leaf. Findings name the event ids and tree sizes involved.
 */
import { type Sha256, toBase64, utf8 } from './bytes.ts';
import { type Checkpoint, extension, parseCheckpoint } from './checkpoint.ts';
import { type ApiEventLike, leafHashOfEvent } from './leaf.ts';
import { CompactRange, TreeHasher } from './merkle.ts';
import { openNote, parseVerifierKey, type VerifierKey } from './note.ts';
import { sha256 as jsSha256 } from './sha256.ts';

export type FindingKind =
  | 'bad_signature'
  | 'bad_checkpoint'
  | 'checkpoint_chain'
  | 'root_mismatch'
  | 'leaf_gap'
  | 'modified_event'
  | 'missing_event'
  | 'unsealed_event'
  | 'duplicate_leaf'
  | 'published_missing'
  | 'split_view'
  | 'rollback'
  | 'unpublished_checkpoint';

export interface Finding {
  kind: FindingKind;
  message: string;
  event_ids?: string[];
  tree_sizes?: number[];
}

export interface PublishedCheckpoint {
  tenant_id?: string;
  tree_size: number;
  note: string;
}

export interface VerifyOptions {
  /** Base URL of the query API, e.g. http://127.0.0.1:8081 */
  url: string;
  /** Authorization header value (`Bearer …`). */
  token: string;
  /** Verifier keys (`name+hash+base64`), pinned out of band. */
  keys: string[];
  from?: string;
  to?: string;
  /** Checkpoints from the off-store publication (witness file, Kafka topic). */
  published?: PublishedCheckpoint[];
  fetch?: (url: string, init: { headers: Record<string, string> }) => Promise<Response>;
  /** Defaults to the plain-JS SHA-256; Node passes its native one. */
  sha256?: Sha256;
  /** Events received this recently and not yet sealed are pending, not findings (default 60 s). */
  graceMs?: number;
  now?: () => number;
  pageSize?: number;
}

export interface VerifyReport {
  ok: boolean;
  origin?: string;
  events: number;
  leaves: number;
  checkpoints: number;
  latestSize: number;
  pendingEvents: number;
  findings: Finding[];
}

interface ServedCheckpoint {
  tree_size: number;
  root_hash: string;
  note: string;
}

const MAX_IDS = 20;
const ids = (xs: string[]) =>
  xs.length > MAX_IDS ? `${xs.slice(0, MAX_IDS).join(', ')}, … (${xs.length})` : xs.join(', ');

export async function verifyTrail(o: VerifyOptions): Promise<VerifyReport> {
  const h = new TreeHasher(o.sha256 ?? jsSha256);
  const doFetch = o.fetch ?? ((u, i) => globalThis.fetch(u, i));
  const base = o.url.replace(/\/+$/, '');
  const page = o.pageSize ?? 10_000;
  const findings: Finding[] = [];
  let events = 0;
  let pendingEvents = 0;
  const add = (f: Finding) => findings.push(f);
  const keys: VerifierKey[] = o.keys.map((k) => parseVerifierKey(h.sha256, k));

  const get = async <T>(path: string): Promise<T> => {
    const res = await doFetch(`${base}${path}`, { headers: { Authorization: o.token } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  // 1. Checkpoints: signatures, self-consistency, the prev chain.
  const served: ServedCheckpoint[] = [];
  for (let from = 0; ; ) {
    const r = await get<{ checkpoints: ServedCheckpoint[]; next_from_size?: number }>(
      `/checkpoints?from_size=${from}&limit=1000`,
    );
    served.push(...r.checkpoints);
    if (r.next_from_size === undefined) break;
    from = r.next_from_size;
  }
  const valid: { cp: Checkpoint; note: string }[] = [];
  let origin: string | undefined;
  for (const s of served) {
    let cp: Checkpoint;
    try {
      const opened = await openNote(s.note, keys);
      cp = parseCheckpoint(opened.text);
    } catch (err) {
      add({
        kind: 'bad_signature',
        message: `checkpoint ${s.tree_size}: ${(err as Error).message}`,
        tree_sizes: [s.tree_size],
      });
      continue;
    }
    if (cp.size !== s.tree_size || toBase64(cp.rootHash) !== s.root_hash) {
      add({
        kind: 'bad_checkpoint',
        message: `checkpoint ${s.tree_size}: the listed size/root differ from the signed ones`,
        tree_sizes: [s.tree_size],
      });
    }
    if (origin !== undefined && cp.origin !== origin) {
      add({
        kind: 'bad_checkpoint',
        message: `checkpoint ${cp.size} is of another log (${cp.origin})`,
        tree_sizes: [cp.size],
      });
      continue;
    }
    origin = cp.origin;
    valid.push({ cp, note: s.note });
  }
  for (let i = 0; i < valid.length; i++) {
    const prev = extension(valid[i]!.cp, 'prev');
    const before = valid[i - 1];
    const want = before ? `${before.cp.size} ${toBase64(h.sha256(utf8(before.note)))}` : undefined;
    if (prev !== want) {
      const size = valid[i]!.cp.size;
      add({
        kind: 'checkpoint_chain',
        message: before
          ? `checkpoint ${size} follows ${prev ?? 'nothing'}, but the checkpoint before it is ${before.cp.size}: checkpoints were removed or rewritten`
          : `checkpoint ${size} follows ${prev}, which is not served: earlier checkpoints were removed`,
        tree_sizes: before ? [before.cp.size, size] : [size],
      });
    }
  }
  const latestSize = valid.at(-1)?.cp.size ?? 0;

  // 2. Leaves: rebuild the tree, check each checkpoint's root at its size.
  const bySize = new Map(valid.map((v) => [v.cp.size, v]));
  const publishedSizes = new Map<number, PublishedCheckpoint[]>();
  for (const p of o.published ?? []) {
    const l = publishedSizes.get(p.tree_size) ?? [];
    l.push(p);
    publishedSizes.set(p.tree_size, l);
  }
  const range = new CompactRange(h);
  const leafOf = new Map<string, { index: number; hash: string }>();
  const duplicates: string[] = [];
  const rootAt = new Map<number, string>();
  for (let start = 0; ; start += page) {
    const r = await get<{ leaves: { index: number; event_id: string; leaf_hash: string }[] }>(
      `/leaves?start=${start}&limit=${page}`,
    );
    for (const l of r.leaves) {
      if (l.index !== range.size) {
        add({
          kind: 'leaf_gap',
          message: `leaves ${range.size}..${l.index - 1} are missing from the log`,
          tree_sizes: [range.size],
        });
        return report();
      }
      const hash = Uint8Array.from(atob(l.leaf_hash), (c) => c.charCodeAt(0));
      range.append(hash);
      if (leafOf.has(l.event_id)) duplicates.push(l.event_id);
      else leafOf.set(l.event_id, { index: l.index, hash: l.leaf_hash });
      if (bySize.has(range.size) || publishedSizes.has(range.size))
        rootAt.set(range.size, toBase64(range.root()));
    }
    if (r.leaves.length < page) break;
  }
  if (duplicates.length > 0) {
    add({
      kind: 'duplicate_leaf',
      message: `events sealed more than once: ${ids(duplicates)}`,
      event_ids: duplicates,
    });
  }
  for (const v of valid) {
    const root = rootAt.get(v.cp.size);
    if (root === undefined) {
      add({
        kind: 'rollback',
        message: `checkpoint ${v.cp.size} covers more leaves than the log holds (${range.size}): leaves were removed`,
        tree_sizes: [v.cp.size],
      });
    } else if (root !== toBase64(v.cp.rootHash)) {
      add({
        kind: 'root_mismatch',
        message: `checkpoint ${v.cp.size}: the stored leaves give another root: leaves were changed, removed or reordered`,
        tree_sizes: [v.cp.size],
      });
    }
  }

  // 3. Off-store publication: every published checkpoint must be served, identical, and hold.
  if (o.published) {
    const servedNotes = new Set(valid.map((v) => v.note));
    const mine = (o.published ?? []).filter((p) => {
      try {
        return (
          origin === undefined ||
          parseCheckpoint(p.note.slice(0, p.note.lastIndexOf('\n\n') + 1)).origin === origin
        );
      } catch {
        return false;
      }
    });
    const publishedNotes = new Set(mine.map((p) => p.note));
    const newestPublished = Math.max(0, ...mine.map((p) => p.tree_size));
    for (const p of mine) {
      if (servedNotes.has(p.note)) continue;
      const same = bySize.get(p.tree_size);
      let signedOk = true;
      try {
        await openNote(p.note, keys);
      } catch {
        signedOk = false;
      }
      if (!signedOk) continue;
      if (same) {
        add({
          kind: 'split_view',
          message: `checkpoint ${p.tree_size} differs from the published one`,
          tree_sizes: [p.tree_size],
        });
      } else if (p.tree_size > range.size) {
        add({
          kind: 'rollback',
          message: `published checkpoint ${p.tree_size} is beyond the served log (${range.size} leaves, latest checkpoint ${latestSize}): the log was rolled back`,
          tree_sizes: [p.tree_size],
        });
      } else {
        add({
          kind: 'published_missing',
          message: `published checkpoint ${p.tree_size} is not served: it was removed from the store`,
          tree_sizes: [p.tree_size],
        });
      }
      const root = rootAt.get(p.tree_size);
      const body = parseCheckpoint(p.note.slice(0, p.note.lastIndexOf('\n\n') + 1));
      if (root !== undefined && root !== toBase64(body.rootHash)) {
        add({
          kind: 'root_mismatch',
          message: `published checkpoint ${p.tree_size}: the stored leaves give another root`,
          tree_sizes: [p.tree_size],
        });
      }
    }
    for (const v of valid) {
      if (!publishedNotes.has(v.note) && v.cp.size <= newestPublished) {
        add({
          kind: 'unpublished_checkpoint',
          message: `checkpoint ${v.cp.size} was never published`,
          tree_sizes: [v.cp.size],
        });
      }
    }
  }

  // 4. Events against leaves.
  // Every stored event has a leaf, the service's own access records (audit.*) too.
  const qs = new URLSearchParams({ format: 'ndjson', order: 'asc', access_records: 'include' });
  if (o.from) qs.set('from', o.from);
  if (o.to) qs.set('to', o.to);
  const res = await doFetch(`${base}/events/export?${qs}`, { headers: { Authorization: o.token } });
  if (!res.ok || !res.body) throw new Error(`GET /events/export: ${res.status} ${await res.text()}`);
  const now = (o.now ?? Date.now)();
  const grace = o.graceMs ?? 60_000;
  const modified: string[] = [];
  const unsealed: string[] = [];
  const seen = new Set<string>();
  const onEvent = (e: ApiEventLike) => {
    events++;
    const id = e.event_id.toLowerCase();
    seen.add(id);
    const leaf = leafOf.get(id);
    if (!leaf || leaf.index >= latestSize) {
      if (now - Date.parse(e.received_at) < grace) pendingEvents++;
      else if (!leaf) unsealed.push(id);
      else pendingEvents++;
      if (!leaf) return;
    }
    if (toBase64(leafHashOfEvent(h, e)) !== leaf.hash) modified.push(id);
  };
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (value) buf += dec.decode(value, { stream: true });
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() !== '') onEvent(JSON.parse(line) as ApiEventLike);
      nl = buf.indexOf('\n');
    }
    if (done) break;
  }
  if (buf.trim() !== '') onEvent(JSON.parse(buf) as ApiEventLike);
  if (modified.length > 0) {
    add({
      kind: 'modified_event',
      message: `events changed after they were sealed: ${ids(modified)}`,
      event_ids: modified,
    });
  }
  if (unsealed.length > 0) {
    add({
      kind: 'unsealed_event',
      message: `events in the store that no checkpoint covers (inserted outside the pipeline?): ${ids(unsealed)}`,
      event_ids: unsealed,
    });
  }
  // A full verification (no time range) holds every leaf to an event.
  if (!o.from && !o.to) {
    const missing = [...leafOf.entries()]
      .filter(([id, l]) => l.index < latestSize && !seen.has(id))
      .map(([id]) => id);
    if (missing.length > 0) {
      add({
        kind: 'missing_event',
        message: `sealed events no longer in the store: ${ids(missing)}`,
        event_ids: missing,
      });
    }
  }
  return report();

  function report(): VerifyReport {
    return {
      ok: findings.length === 0,
      origin,
      events,
      leaves: range.size,
      checkpoints: valid.length,
      latestSize,
      pendingEvents,
      findings,
    };
  }
}

/** A witness file / checkpoints topic: NDJSON lines `{tenant_id, tree_size, note}`. */
export function parsePublished(ndjson: string): PublishedCheckpoint[] {
  return ndjson
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as PublishedCheckpoint);
}

export function formatReport(r: VerifyReport): string {
  const lines = [
    `log ${r.origin ?? '(no checkpoint)'}: ${r.checkpoints} checkpoints (latest size ${r.latestSize}), ${r.leaves} leaves, ${r.events} events checked${r.pendingEvents ? `, ${r.pendingEvents} not sealed yet (recent)` : ''}`,
  ];
  for (const f of r.findings) lines.push(`FAIL ${f.kind}: ${f.message}`);
  lines.push(r.ok ? 'OK: the trail verifies' : `FAILED: ${r.findings.length} finding(s)`);
  return lines.join('\n');
}
