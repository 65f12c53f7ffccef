import { describe, expect, it } from 'vitest';
import {
  formatCheckpoint,
  inclusionProof,
  leafHashOfEvent,
  type NodeId,
  sha256,
  TreeHasher,
  toBase64,
  verifyEventProof,
} from '../src/index.ts';
import { generateNoteKey, NoteSigner } from '../src/node.ts';

const h = new TreeHasher(sha256);
const key = generateNoteKey('test.example');
const signer = new NoteSigner(key.privateKey);

const event = (i: number, tenant = 'acme') => ({
  event_id: `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`,
  event_type: 'customer.billed',
  timestamp: '2026-11-27T12:00:00.000Z',
  received_at: '2026-11-27T12:00:00.123Z',
  tenant_id: tenant,
  user_id: `cust-${i}`,
  source: 'billing',
  schema_version: 1,
  event_details: { amount: i },
});

/** A log of `n` events, its signed checkpoint, and the served proof for leaf `i`. */
async function served(n: number, i: number, origin = 'audit.test/acme') {
  const events = Array.from({ length: n }, (_, k) => event(k));
  const leaves = events.map((e) => leafHashOfEvent(h, e));
  const read = async (ids: NodeId[]) =>
    ids.map((id) => h.rootOf(leaves.slice(id.index * 2 ** id.level, (id.index + 1) * 2 ** id.level)));
  const proof = await inclusionProof(h, i, n, read);
  const note = signer.sign(formatCheckpoint({ origin, size: n, rootHash: h.rootOf(leaves), extensions: [] }));
  return {
    event: events[i]!,
    proof: {
      event_id: events[i]!.event_id,
      leaf_index: i,
      tree_size: n,
      proof: proof.map(toBase64),
      checkpoint: { tree_size: n, note },
    },
  };
}

describe('verifyEventProof: one event against a signed checkpoint, on the reader side', () => {
  it('accepts an unchanged event with a correct proof and a trusted key', async () => {
    for (const [n, i] of [
      [1, 0],
      [7, 3],
      [16, 15],
    ] as const) {
      const s = await served(n, i);
      const r = await verifyEventProof(s.event, s.proof, [key.verifierKey]);
      expect(r).toEqual({
        ok: true,
        treeSize: n,
        leafIndex: i,
        origin: 'audit.test/acme',
        keyNames: ['test.example'],
      });
    }
  });

  it('refuses a changed event, a wrong proof, an untrusted key and another tenant’s log', async () => {
    const s = await served(9, 4);
    const changed = { ...s.event, event_details: { amount: 999 } };
    expect((await verifyEventProof(changed, s.proof, [key.verifierKey])).ok).toBe(false);
    const wrongPath = { ...s.proof, proof: [...s.proof.proof].reverse() };
    expect((await verifyEventProof(s.event, wrongPath, [key.verifierKey])).ok).toBe(false);
    const wrongIndex = { ...s.proof, leaf_index: 5 };
    expect((await verifyEventProof(s.event, wrongIndex, [key.verifierKey])).ok).toBe(false);
    const other = generateNoteKey('test.example');
    const r = await verifyEventProof(s.event, s.proof, [other.verifierKey]);
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining('signature') });
    const foreign = await served(9, 4, 'audit.test/globex');
    expect(await verifyEventProof(foreign.event, foreign.proof, [key.verifierKey])).toMatchObject({
      ok: false,
      reason: expect.stringContaining('another log'),
    });
    expect((await verifyEventProof(event(1), s.proof, [key.verifierKey])).ok).toBe(false);
    expect((await verifyEventProof(s.event, s.proof, ['not a key'])).ok).toBe(false);
  });
});
