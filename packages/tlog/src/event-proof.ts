/**
 * One event's inclusion, checked by the reader rather than taken on the server's word: the
 * leaf hash is recomputed from the event as the API returned it, the inclusion proof must lead
 * to the root the checkpoint signs, and the checkpoint's signature must verify with a key the
 * caller trusts. What the viewer runs in a browser (WebCrypto Ed25519) and Node can run too.
 */
import type { Sha256 } from './bytes.ts';
import { fromBase64, toBase64 } from './bytes.ts';
import { parseCheckpoint } from './checkpoint.ts';
import { type ApiEventLike, leafHashOfEvent } from './leaf.ts';
import { TreeHasher } from './merkle.ts';
import { openNote, parseVerifierKey } from './note.ts';
import { sha256 as jsSha256 } from './sha256.ts';

/** `GET /events/{event_id}/proof`, as the query API answers it. */
export interface EventProof {
  event_id: string;
  leaf_index: number;
  tree_size: number;
  proof: string[];
  checkpoint: { tree_size: number; note: string };
}

export type EventProofResult =
  | { ok: true; treeSize: number; leafIndex: number; origin: string; keyNames: string[] }
  | { ok: false; reason: string };

/**
 * Whether `event` is leaf `proof.leaf_index` of the log whose checkpoint `proof.checkpoint` is
 * signed by one of `verifierKeys` (`name+hash+base64`). The checkpoint's origin must end in
 * `/<tenant_id>` of the event: a proof against another tenant's log proves nothing.
 */
export async function verifyEventProof(
  event: ApiEventLike & { tenant_id: string },
  proof: EventProof,
  verifierKeys: readonly string[],
  sha256: Sha256 = jsSha256,
): Promise<EventProofResult> {
  const h = new TreeHasher(sha256);
  if (proof.event_id !== event.event_id) return { ok: false, reason: 'the proof is for another event' };
  let opened: Awaited<ReturnType<typeof openNote>>;
  let keys: ReturnType<typeof parseVerifierKey>[];
  try {
    keys = verifierKeys.map((k) => parseVerifierKey(sha256, k));
  } catch (err) {
    return { ok: false, reason: `bad verifier key: ${(err as Error).message}` };
  }
  try {
    opened = await openNote(proof.checkpoint.note, keys);
  } catch (err) {
    return { ok: false, reason: `checkpoint signature: ${(err as Error).message}` };
  }
  let cp: ReturnType<typeof parseCheckpoint>;
  try {
    cp = parseCheckpoint(opened.text);
  } catch (err) {
    return { ok: false, reason: `checkpoint: ${(err as Error).message}` };
  }
  if (!cp.origin.endsWith(`/${event.tenant_id}`)) {
    return { ok: false, reason: `the checkpoint is of another log (${cp.origin})` };
  }
  if (cp.size !== proof.tree_size) return { ok: false, reason: 'the proof is for another tree size' };
  let path: Uint8Array[];
  try {
    path = proof.proof.map(fromBase64);
  } catch {
    return { ok: false, reason: 'the proof is not base64' };
  }
  const leaf = leafHashOfEvent(h, event);
  const root = h.rootFromInclusion(proof.leaf_index, cp.size, leaf, path);
  if (!root || toBase64(root) !== toBase64(cp.rootHash)) {
    return {
      ok: false,
      reason: 'the event as served does not lead to the signed root (changed, or a wrong proof)',
    };
  }
  return {
    ok: true,
    treeSize: cp.size,
    leafIndex: proof.leaf_index,
    origin: cp.origin,
    keyNames: opened.verified.map((v) => v.key.name),
  };
}
