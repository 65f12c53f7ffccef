import { randomBytes, randomUUID } from 'node:crypto';
import { type PrivateStack, startPrivateStack } from '@audit/stack';
import {
  type ApiEventLike,
  fromBase64,
  leafHashOfEvent,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  sha256,
  toBase64,
} from '@audit/tlog';
import { nodeHasher } from '@audit/tlog/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvents, sealedSize, startTrail, type Trail, waitFor } from './trail.ts';

interface ProofBody {
  event_id: string;
  leaf_index: number;
  leaf_hash: string;
  tree_size: number;
  proof: string[];
  checkpoint: { tree_size: number; root_hash: string; note: string };
}

/**
 * GET /events/{id}/proof and GET /checkpoints/consistency through the query API (reader user)
 * on a private stack with the real sink and sealer; every proof is checked with @audit/tlog's
 * verifier against the checkpoint whose signature it checked first.
 */
describe('proofs API: inclusion and consistency proofs against signed checkpoints', () => {
  let stack: PrivateStack;
  let trail: Trail;
  const tenant = `t_${randomBytes(5).toString('hex')}`;
  const other = `t_${randomBytes(5).toString('hex')}`;
  const first = makeEvents(tenant, 21);
  const second = makeEvents(tenant, 34, 21);
  const others = makeEvents(other, 3);

  beforeAll(async () => {
    stack = await startPrivateStack('proofs');
    trail = await startTrail(stack);
    await trail.produce(first);
    expect(
      await waitFor(
        () => sealedSize(trail.admin, tenant),
        (n) => n === 21,
      ),
    ).toBe(21);
    await trail.produce([...second, ...others]);
    expect(
      await waitFor(
        () => sealedSize(trail.admin, tenant),
        (n) => n === 55,
      ),
    ).toBe(55);
    expect(
      await waitFor(
        () => sealedSize(trail.admin, other),
        (n) => n === 3,
      ),
    ).toBe(3);
  }, 240_000);
  afterAll(async () => {
    await trail?.stop();
    await stack?.destroy();
  });

  const json = async <T>(t: string, path: string, status = 200): Promise<T> => {
    const res = await trail.get(t, path);
    const body = (await res.json()) as T;
    expect({ path, status: res.status, body }).toMatchObject({ path, status });
    return body;
  };

  /** The checkpoint's signature verifies with the sealer's key; its size and root as signed. */
  async function signed(cp: ProofBody['checkpoint']) {
    const opened = await openNote(cp.note, [parseVerifierKey(sha256, trail.key.verifierKey)]);
    const c = parseCheckpoint(opened.text);
    expect(c.origin).toBe(`audit-log/${tenant}`);
    expect(c.size).toBe(cp.tree_size);
    expect(toBase64(c.rootHash)).toBe(cp.root_hash);
    return c;
  }

  it('every event has an inclusion proof of its own leaf under the latest and an older checkpoint', async () => {
    const indexes = new Set<number>();
    for (const e of [...first, ...second]) {
      const p = await json<ProofBody>(tenant, `/events/${e.event_id}/proof`);
      const cp = await signed(p.checkpoint);
      expect(cp.size).toBe(55);
      expect(p.tree_size).toBe(55);
      // The leaf is the hash of the event as the API returns it, not just what the proof claims.
      const event = await json<ApiEventLike>(tenant, `/events/${e.event_id}`);
      const leaf = leafHashOfEvent(nodeHasher, event);
      expect(p.leaf_hash).toBe(toBase64(leaf));
      const proof = p.proof.map(fromBase64);
      expect(nodeHasher.verifyInclusion(p.leaf_index, cp.size, leaf, proof, cp.rootHash)).toBe(true);
      expect(nodeHasher.verifyInclusion(p.leaf_index, cp.size, leaf, proof.slice(1), cp.rootHash)).toBe(
        false,
      );
      indexes.add(p.leaf_index);
    }
    expect([...indexes].sort((a, b) => a - b)).toEqual(Array.from({ length: 55 }, (_, i) => i));

    const e = first[7]!;
    const old = await json<ProofBody>(tenant, `/events/${e.event_id}/proof?tree_size=21`);
    const cp = await signed(old.checkpoint);
    expect(cp.size).toBe(21);
    const leaf = fromBase64(old.leaf_hash);
    expect(nodeHasher.verifyInclusion(old.leaf_index, 21, leaf, old.proof.map(fromBase64), cp.rootHash)).toBe(
      true,
    );
    const late = await json<{ error: { code: string } }>(
      tenant,
      `/events/${second[0]!.event_id}/proof?tree_size=21`,
      409,
    );
    expect(late.error.code).toBe('not_yet_sealed');
  });

  it('consistency proofs link the older checkpoint to the latest', async () => {
    const older = await signed(
      (await json<ProofBody>(tenant, `/events/${first[0]!.event_id}/proof?tree_size=21`)).checkpoint,
    );
    for (const from of [1, 13, 21, 54, 55]) {
      const c = await json<{
        from: number;
        to: number;
        proof: string[];
        checkpoint: ProofBody['checkpoint'];
      }>(tenant, `/checkpoints/consistency?from=${from}`);
      expect([c.from, c.to]).toEqual([from, 55]);
      const latest = await signed(c.checkpoint);
      if (from !== 21) continue;
      const proof = c.proof.map(fromBase64);
      expect(nodeHasher.verifyConsistency(21, 55, older.rootHash, latest.rootHash, proof)).toBe(true);
      expect(nodeHasher.verifyConsistency(21, 55, latest.rootHash, latest.rootHash, proof)).toBe(false);
    }
    const pinned = await json<{ from: number; to: number; proof: string[] }>(
      tenant,
      '/checkpoints/consistency?from=21&to=21',
    );
    expect(pinned).toMatchObject({ from: 21, to: 21, proof: [] });
    const bad = await json<{ error: { code: string; details: { parameter: string } } }>(
      tenant,
      '/checkpoints/consistency?from=56',
      400,
    );
    expect(bad.error).toMatchObject({ code: 'invalid_parameter', details: { parameter: 'from' } });
  });

  it('an unknown id and another tenant’s event are both 404 JSON; a malformed id is 400', async () => {
    const notFound = { error: { code: 'not_found', message: 'no sealed event with this id' } };
    expect(await json(tenant, `/events/${randomUUID()}/proof`, 404)).toEqual(notFound);
    const theirs = others[0]!.event_id;
    expect(await json(tenant, `/events/${theirs}/proof`, 404)).toEqual(notFound);
    expect((await json<ProofBody>(other, `/events/${theirs}/proof`)).tree_size).toBe(3);
    const malformed = await json<{ error: { code: string } }>(tenant, '/events/not-a-uuid/proof', 400);
    expect(malformed.error.code).toBe('invalid_parameter');
    const none = await json<{ error: { code: string } }>(
      `t_${randomBytes(5).toString('hex')}`,
      '/checkpoints/consistency?from=1',
      404,
    );
    expect(none.error.code).toBe('not_found');
  });
  it('a viewer token pinned to one resource gets proofs of its events only, and no tenant-wide log data', async () => {
    const minted = await trail.app.request('/viewer/tokens', {
      method: 'POST',
      headers: { authorization: await trail.readToken(tenant), 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'end-user', filters: { resource_id: first[3]!.resource_id } }),
    });
    expect(minted.status).toBe(201);
    const viewer = `Bearer ${((await minted.json()) as { token: string }).token}`;
    const as = (path: string) => trail.app.request(path, { headers: { authorization: viewer } });

    const own = await as(`/events/${first[3]!.event_id}/proof`);
    expect(own.status).toBe(200);
    const p = (await own.json()) as ProofBody;
    const cp = await signed(p.checkpoint);
    const leaf = fromBase64(p.leaf_hash);
    expect(
      nodeHasher.verifyInclusion(p.leaf_index, cp.size, leaf, p.proof.map(fromBase64), cp.rootHash),
    ).toBe(true);
    // Sealed and in the tenant, but outside the pins: as absent as another tenant's event.
    const outside = await as(`/events/${first[4]!.event_id}/proof`);
    expect(outside.status).toBe(404);
    expect(await outside.json()).toEqual({
      error: { code: 'not_found', message: 'no sealed event with this id' },
    });
    for (const path of ['/leaves', '/checkpoints/consistency?from=21']) {
      const res = await as(path);
      expect(res.status, path).toBe(403);
    }
    // Checkpoints and the sealer's keys are not pinned data.
    expect((await as('/checkpoints/latest')).status).toBe(200);
    expect((await as('/keys')).status).toBe(200);
  });
});
