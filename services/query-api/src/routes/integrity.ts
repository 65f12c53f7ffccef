import { tupleArrayParam } from '@audit/clickhouse';
import { invalidParameter, UUID_RE } from '@audit/filters';
import { ApiError } from '@audit/http';
import {
  consistencyProof,
  fromHex,
  type Hash,
  inclusionProof,
  type NodeId,
  sha256,
  TreeHasher,
  toBase64,
} from '@audit/tlog';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { noteRead } from '../access-log.ts';
import type { Reader } from '../reader.ts';
import { searchEntries } from './options.ts';

/**
 * Tamper evidence (docs/integrity.md): the tenant's signed checkpoints, its leaves, inclusion and
 * consistency proofs, and the sealer's public keys. Everything is scoped to the token's tenant;
 * the tables are the sealer's (read here as the reader user). Proofs are computed from the
 * stored perfect-subtree nodes, so none needs more than O(log² n) rows.
 */
export interface IntegrityDeps {
  reader: Reader;
  /** The database holding tlog_* (validated identifier). */
  database: string;
  /** Records the read (access-log.ts): a proof tells that the event exists. */
  recordProof: MiddlewareHandler;
  /** Whether the caller may see this event (a viewer token: within its pins). */
  visible(c: Context, eventId: string): Promise<boolean>;
}

/**
 * Leaves and consistency proofs speak of every event of the tenant (ids, positions), which a
 * viewer token with pins must not learn; checkpoints and its own events' proofs are fine.
 */
const notPinned: MiddlewareHandler = async (c, next) => {
  if ((c.get('pins')?.pairs.length ?? 0) > 0) {
    throw new ApiError(
      403,
      'forbidden',
      'a viewer token with pinned filters cannot read tenant-wide log data',
    );
  }
  await next();
};

const hasher = new TreeHasher(sha256);
const MAX_LEAVES_PAGE = 10_000;
const MAX_CHECKPOINTS_PAGE = 1000;
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

interface CheckpointRow {
  tree_size: string;
  root_hash: string;
  note: string;
  key_id: string;
  created_at: string;
}

const checkpointJson = (r: CheckpointRow) => ({
  tree_size: Number(r.tree_size),
  root_hash: toBase64(fromHex(r.root_hash)),
  key_id: r.key_id,
  created_at: `${r.created_at.replace(' ', 'T')}Z`,
  note: r.note,
});

function only(c: Context, allowed: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of searchEntries(c)) {
    if (!allowed.includes(k)) throw invalidParameter(k, 'unknown parameter');
    if (out.has(k)) throw invalidParameter(k, 'given more than once');
    out.set(k, v);
  }
  return out;
}

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(v) || Number(v) < min || Number(v) > max) {
    throw invalidParameter(name, `must be an integer from ${min} to ${max}`);
  }
  return Number(v);
}

export function integrityRoutes(app: Hono, read: MiddlewareHandler, deps: IntegrityDeps): void {
  const db = deps.database;
  const q = <T>(sql: string, params: Record<string, unknown>, max: number) =>
    deps.reader.rows<T>('integrity', { sql, params }, max);

  const CP_COLS = 'tree_size, root_hash, note, key_id, toString(created_at) AS created_at';
  const latest = async (tenant: string): Promise<CheckpointRow | undefined> =>
    (
      await q<CheckpointRow>(
        `SELECT ${CP_COLS} FROM ${db}.tlog_checkpoints FINAL WHERE tenant_id = {t:String} ORDER BY tree_size DESC LIMIT 1`,
        { t: tenant },
        1,
      )
    )[0];
  const atSize = async (tenant: string, size: number): Promise<CheckpointRow | undefined> =>
    (
      await q<CheckpointRow>(
        `SELECT ${CP_COLS} FROM ${db}.tlog_checkpoints FINAL WHERE tenant_id = {t:String} AND tree_size = {n:UInt64} LIMIT 1`,
        { t: tenant, n: size },
        1,
      )
    )[0];

  const nodeReader =
    (tenant: string) =>
    async (ids: NodeId[]): Promise<Hash[]> => {
      const leaves = ids.filter((i) => i.level === 0).map((i) => i.index);
      const inner = ids.filter((i) => i.level > 0).map((i) => [i.level, i.index]);
      const found = new Map<string, string>();
      if (leaves.length > 0) {
        const rows = await q<{ i: string; h: string }>(
          `SELECT leaf_index AS i, leaf_hash AS h FROM ${db}.tlog_leaves FINAL
           WHERE tenant_id = {t:String} AND leaf_index IN {ids:Array(UInt64)}`,
          { t: tenant, ids: leaves },
          leaves.length,
        );
        for (const r of rows) found.set(`0/${r.i}`, r.h);
      }
      if (inner.length > 0) {
        const rows = await q<{ l: number; i: string; h: string }>(
          `SELECT level AS l, node_index AS i, hash AS h FROM ${db}.tlog_nodes FINAL
           WHERE tenant_id = {t:String} AND (level, node_index) IN {ids:Array(Tuple(UInt8, UInt64))}`,
          { t: tenant, ids: tupleArrayParam(inner) },
          inner.length,
        );
        for (const r of rows) found.set(`${r.l}/${r.i}`, r.h);
      }
      return ids.map((id) => {
        const h = found.get(`${id.level}/${id.index}`);
        // The log is incomplete in the store: the proof cannot be made (and the verifier will say why).
        if (!h)
          throw new ApiError(
            409,
            'log_incomplete',
            `the tenant's log is missing node ${id.level}/${id.index}`,
          );
        return fromHex(h);
      });
    };

  /** The checkpoint a proof is made against: the given size (must be a checkpoint) or the latest. */
  const target = async (tenant: string, size: number | undefined, param: string) => {
    const cp = size === undefined ? await latest(tenant) : await atSize(tenant, size);
    if (!cp) {
      throw size === undefined
        ? new ApiError(404, 'not_found', 'no checkpoint yet for this tenant')
        : invalidParameter(param, 'no checkpoint of this tree size');
    }
    return cp;
  };

  app.get('/checkpoints/latest', read, async (c) => {
    only(c, []);
    const cp = await latest(c.var.principal.tenant);
    if (!cp) throw new ApiError(404, 'not_found', 'no checkpoint yet for this tenant');
    return c.json(checkpointJson(cp));
  });

  app.get('/checkpoints/consistency', read, notPinned, async (c) => {
    const p = only(c, ['from', 'to']);
    const tenant = c.var.principal.tenant;
    const from = int('from', p.get('from'), 1, MAX_SIZE);
    if (from === undefined) throw invalidParameter('from', 'required');
    const to = await target(tenant, int('to', p.get('to'), 1, MAX_SIZE), 'to');
    const toSize = Number(to.tree_size);
    if (from > toSize) throw invalidParameter('from', 'must not be larger than to');
    const proof = await consistencyProof(hasher, from, toSize, nodeReader(tenant));
    return c.json({ from, to: toSize, proof: proof.map(toBase64), checkpoint: checkpointJson(to) });
  });

  app.get('/checkpoints', read, async (c) => {
    const p = only(c, ['from_size', 'limit']);
    const fromSize = int('from_size', p.get('from_size'), 0, MAX_SIZE) ?? 0;
    const limit = int('limit', p.get('limit'), 1, MAX_CHECKPOINTS_PAGE) ?? 100;
    const rows = await q<CheckpointRow>(
      `SELECT ${CP_COLS} FROM ${db}.tlog_checkpoints FINAL
       WHERE tenant_id = {t:String} AND tree_size >= {n:UInt64} ORDER BY tree_size LIMIT {l:UInt32}`,
      { t: c.var.principal.tenant, n: fromSize, l: limit + 1 },
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? Number(rows[limit]!.tree_size) : undefined;
    return c.json({
      checkpoints: page.map(checkpointJson),
      ...(next !== undefined ? { next_from_size: next } : {}),
    });
  });

  app.get('/leaves', read, notPinned, async (c) => {
    const p = only(c, ['start', 'limit']);
    const start = int('start', p.get('start'), 0, MAX_SIZE) ?? 0;
    const limit = int('limit', p.get('limit'), 1, MAX_LEAVES_PAGE) ?? 1000;
    const rows = await q<{ i: string; e: string; h: string }>(
      `SELECT leaf_index AS i, toString(event_id) AS e, leaf_hash AS h FROM ${db}.tlog_leaves FINAL
       WHERE tenant_id = {t:String} AND leaf_index >= {s:UInt64} AND leaf_index < {end:UInt64} ORDER BY leaf_index`,
      { t: c.var.principal.tenant, s: start, end: start + limit },
      limit,
    );
    return c.json({
      leaves: rows.map((r) => ({ index: Number(r.i), event_id: r.e, leaf_hash: toBase64(fromHex(r.h)) })),
    });
  });

  app.get('/events/:event_id/proof', read, deps.recordProof, async (c) => {
    const eventId = (c.req.param('event_id') ?? '').toLowerCase();
    if (!UUID_RE.test(eventId)) throw invalidParameter('event_id', 'must be a UUID');
    const p = only(c, ['tree_size']);
    const tenant = c.var.principal.tenant;
    // Outside a viewer's pins an event is absent, sealed or not.
    if (!(await deps.visible(c, eventId)))
      throw new ApiError(404, 'not_found', 'no sealed event with this id');
    const leaves = await q<{ i: string; h: string }>(
      `SELECT leaf_index AS i, leaf_hash AS h FROM ${db}.tlog_leaves FINAL
       WHERE tenant_id = {t:String} AND event_id = {e:UUID} ORDER BY leaf_index LIMIT 1`,
      { t: tenant, e: eventId },
      1,
    );
    const leaf = leaves[0];
    if (!leaf) throw new ApiError(404, 'not_found', 'no sealed event with this id');
    const cp = await target(tenant, int('tree_size', p.get('tree_size'), 1, MAX_SIZE), 'tree_size');
    const index = Number(leaf.i);
    const size = Number(cp.tree_size);
    if (index >= size)
      throw new ApiError(409, 'not_yet_sealed', 'the event is not covered by this checkpoint yet');
    const proof = await inclusionProof(hasher, index, size, nodeReader(tenant));
    noteRead(c, { rows: 1, resourceId: eventId });
    return c.json({
      event_id: eventId,
      leaf_index: index,
      leaf_hash: toBase64(fromHex(leaf.h)),
      tree_size: size,
      proof: proof.map(toBase64),
      checkpoint: checkpointJson(cp),
    });
  });

  app.get('/keys', read, async (c) => {
    only(c, []);
    const rows = await q<{ verifier_key: string; key_id: string; added_at: string }>(
      `SELECT verifier_key, key_id, toString(added_at) AS added_at FROM ${db}.tlog_keys FINAL ORDER BY added_at`,
      {},
      1000,
    );
    return c.json({ keys: rows.map((r) => ({ verifier_key: r.verifier_key, key_id: r.key_id })) });
  });
}
