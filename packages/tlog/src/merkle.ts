/**
 * RFC 9162 §2.1 Merkle tree hashing over SHA-256: leaf = H(0x00 ‖ data), node = H(0x01 ‖ l ‖ r),
 * the root of a tree of n leaves per §2.1.1, inclusion proofs (§2.1.3) and consistency proofs
 * (§2.1.4), generated and verified. Sizes and indexes are JavaScript numbers (exact up to 2^53),
 * so the arithmetic below uses division instead of 32-bit shifts.
 *
 * Proof generation works on "perfect" subtrees: node (level k, index i) is the root of leaves
 * [i·2^k, (i+1)·2^k). Every hash a proof needs is a perfect node or a right-edge combination of
 * a few of them, so a store that keeps the perfect nodes answers any proof with O(log² n) reads.
 */
import { concat, equalBytes, type Sha256 } from './bytes.ts';

export type Hash = Uint8Array;

/** A perfect subtree: the root of leaves [index·2^level, (index+1)·2^level). */
export interface NodeId {
  level: number;
  index: number;
}

/** SHA-256 output: every hash in a proof, a root or a leaf has this length. */
export const HASH_SIZE = 32;

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

const isOdd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);

/** Largest power of two strictly less than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPow2 = (n: number) => n > 0 && 2 ** Math.round(Math.log2(n)) === n;

export class TreeHasher {
  constructor(readonly sha256: Sha256) {}

  /** MTH({}) = SHA-256 of the empty string. */
  emptyRoot(): Hash {
    return this.sha256(new Uint8Array(0));
  }

  leafHash(data: Uint8Array): Hash {
    return this.sha256(concat(LEAF, data));
  }

  nodeHash(left: Hash, right: Hash): Hash {
    return this.sha256(concat(NODE, left, right));
  }

  /** MTH of a list of leaf hashes, in one pass with a stack of perfect subtrees. */
  rootOf(leaves: readonly Hash[]): Hash {
    const r = new CompactRange(this);
    for (const l of leaves) r.append(l);
    return r.root();
  }

  /**
   * RFC 9162 §2.1.3.2: verifies that `leafHash` is leaf `index` of the tree of `size` leaves with
   * root `root`.
   */
  verifyInclusion(index: number, size: number, leafHash: Hash, proof: readonly Hash[], root: Hash): boolean {
    return equalOrFalse(this.rootFromInclusion(index, size, leafHash, proof), root);
  }

  /** The root an inclusion proof leads to, or undefined when the proof cannot be valid. */
  rootFromInclusion(index: number, size: number, leafHash: Hash, proof: readonly Hash[]): Hash | undefined {
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
      return undefined;
    }
    if (leafHash.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return undefined;
    let fn = index;
    let sn = size - 1;
    let r = leafHash;
    for (const p of proof) {
      if (sn === 0) return undefined;
      if (isOdd(fn) || fn === sn) {
        r = this.nodeHash(p, r);
        if (!isOdd(fn)) {
          while (!isOdd(fn) && fn !== 0) {
            fn = half(fn);
            sn = half(sn);
          }
        }
      } else {
        r = this.nodeHash(r, p);
      }
      fn = half(fn);
      sn = half(sn);
    }
    return sn === 0 ? r : undefined;
  }

  /**
   * RFC 9162 §2.1.4.2: verifies that the tree (size1, root1) is a prefix of (size2, root2).
   * As in RFC 9162 and transparency-dev/merkle: size1 = 0 is refused (a proof from the empty
   * tree proves nothing), size1 = size2 needs an empty proof and equal roots.
   */
  verifyConsistency(size1: number, size2: number, root1: Hash, root2: Hash, proof: readonly Hash[]): boolean {
    if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2)) return false;
    if (size1 < 1 || size2 < size1) return false;
    if (size1 === size2) return proof.length === 0 && equalBytes(root1, root2);
    if (proof.length === 0 || proof.some((p) => p.length !== HASH_SIZE)) return false;
    const path = isPow2(size1) ? [root1, ...proof] : [...proof];
    let fn = size1 - 1;
    let sn = size2 - 1;
    while (isOdd(fn)) {
      fn = half(fn);
      sn = half(sn);
    }
    let fr = path[0]!;
    let sr = path[0]!;
    for (const c of path.slice(1)) {
      if (sn === 0) return false;
      if (isOdd(fn) || fn === sn) {
        fr = this.nodeHash(c, fr);
        sr = this.nodeHash(c, sr);
        if (!isOdd(fn)) {
          while (!isOdd(fn) && fn !== 0) {
            fn = half(fn);
            sn = half(sn);
          }
        }
      } else {
        sr = this.nodeHash(sr, c);
      }
      fn = half(fn);
      sn = half(sn);
    }
    return sn === 0 && equalBytes(fr, root1) && equalBytes(sr, root2);
  }
}

function equalOrFalse(a: Hash | undefined, b: Hash): boolean {
  return a !== undefined && equalBytes(a, b);
}

/** A range [start, end) of leaves whose MTH a proof needs. */
export interface LeafRange {
  start: number;
  end: number;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) as the leaf ranges of its hashes, in proof order. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (index < 0 || index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const out: LeafRange[] = [];
  let start = 0;
  let end = size;
  let m = index;
  const stack: LeafRange[] = [];
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      stack.push({ start: start + k, end });
      end = start + k;
    } else {
      stack.push({ start, end: start + k });
      start += k;
      m -= k;
    }
  }
  // PATH lists the innermost sibling first.
  for (let i = stack.length - 1; i >= 0; i--) out.push(stack[i]!);
  return out;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) as leaf ranges, in proof order. */
export function consistencyRanges(size1: number, size2: number): LeafRange[] {
  if (size1 < 1 || size2 < size1) throw new RangeError(`no consistency proof from ${size1} to ${size2}`);
  if (size1 === size2) return [];
  const stack: LeafRange[] = [];
  let start = 0;
  let end = size2;
  let m = size1;
  let complete = true;
  for (;;) {
    const n = end - start;
    if (m === n) {
      if (!complete) stack.push({ start, end });
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      stack.push({ start: start + k, end });
      end = start + k;
    } else {
      stack.push({ start, end: start + k });
      start += k;
      m -= k;
      complete = false;
    }
  }
  const out: LeafRange[] = [];
  for (let i = stack.length - 1; i >= 0; i--) out.push(stack[i]!);
  return out;
}

/**
 * The perfect subtrees a range decomposes into, left to right (largest first). A range of a
 * proof always starts at a multiple of its left part's size, so each part is aligned.
 */
export function perfectParts(r: LeafRange): NodeId[] {
  const parts: NodeId[] = [];
  let start = r.start;
  while (start < r.end) {
    const n = r.end - start;
    const size = isPow2(n) ? n : splitPoint(n);
    const level = Math.round(Math.log2(size));
    parts.push({ level, index: start / size });
    start += size;
  }
  return parts;
}

/** Fetches perfect-node hashes by id (level 0 = leaf hashes). */
export type NodeReader = (ids: NodeId[]) => Promise<Hash[]>;

export const nodeKey = (n: NodeId) => `${n.level}/${n.index}`;

/** Computes the hashes of ranges from their perfect parts, reading every needed node once. */
export async function rangeHashes(h: TreeHasher, ranges: LeafRange[], read: NodeReader): Promise<Hash[]> {
  const partsOf = ranges.map(perfectParts);
  const unique = new Map<string, NodeId>();
  for (const parts of partsOf) for (const p of parts) unique.set(nodeKey(p), p);
  const ids = [...unique.values()];
  const hashes = await read(ids);
  const byKey = new Map(ids.map((id, i) => [nodeKey(id), hashes[i]!]));
  return partsOf.map((parts) => {
    let acc = byKey.get(nodeKey(parts[parts.length - 1]!))!;
    for (let i = parts.length - 2; i >= 0; i--) acc = h.nodeHash(byKey.get(nodeKey(parts[i]!))!, acc);
    return acc;
  });
}

export async function inclusionProof(
  h: TreeHasher,
  index: number,
  size: number,
  read: NodeReader,
): Promise<Hash[]> {
  return rangeHashes(h, inclusionRanges(index, size), read);
}

export async function consistencyProof(
  h: TreeHasher,
  size1: number,
  size2: number,
  read: NodeReader,
): Promise<Hash[]> {
  return rangeHashes(h, consistencyRanges(size1, size2), read);
}

/**
 * The right edge of a growing tree: one perfect subtree root per set bit of the size, largest
 * first. Appending is amortised O(1) hashes; each perfect node completed on the way is reported
 * (for stores that keep them for proofs). The root is the right-to-left fold of the edge.
 */
export class CompactRange {
  private readonly edge: { level: number; hash: Hash }[] = [];
  private n = 0;

  constructor(
    private readonly h: TreeHasher,
    start?: { size: number; edge: Hash[] },
  ) {
    if (start) {
      const levels = edgeLevels(start.size);
      if (levels.length !== start.edge.length) throw new Error('edge does not match the tree size');
      for (let i = 0; i < levels.length; i++) this.edge.push({ level: levels[i]!, hash: start.edge[i]! });
      this.n = start.size;
    }
  }

  get size(): number {
    return this.n;
  }

  /** Appends a leaf hash; returns the perfect nodes of level ≥ 1 this completed. */
  append(leafHash: Hash): { id: NodeId; hash: Hash }[] {
    const done: { id: NodeId; hash: Hash }[] = [];
    let cur = { level: 0, hash: leafHash };
    let index = this.n;
    while (this.edge.length > 0 && this.edge[this.edge.length - 1]!.level === cur.level) {
      const left = this.edge.pop()!;
      cur = { level: cur.level + 1, hash: this.h.nodeHash(left.hash, cur.hash) };
      index = half(index);
      done.push({ id: { level: cur.level, index }, hash: cur.hash });
    }
    this.edge.push(cur);
    this.n++;
    return done;
  }

  root(): Hash {
    if (this.edge.length === 0) return this.h.emptyRoot();
    let r = this.edge[this.edge.length - 1]!.hash;
    for (let i = this.edge.length - 2; i >= 0; i--) r = this.h.nodeHash(this.edge[i]!.hash, r);
    return r;
  }

  edgeHashes(): Hash[] {
    return this.edge.map((e) => e.hash);
  }
}

/** The levels of the perfect subtrees on the right edge of a tree of `size` leaves, largest first. */
export function edgeLevels(size: number): number[] {
  const levels: number[] = [];
  let rest = size;
  for (let level = 52; level >= 0; level--) {
    const p = 2 ** level;
    if (rest >= p) {
      levels.push(level);
      rest -= p;
    }
  }
  return levels;
}

/** The node ids of the right edge of a tree of `size` leaves (what `CompactRange` resumes from). */
export function edgeNodes(size: number): NodeId[] {
  let start = 0;
  return edgeLevels(size).map((level) => {
    const id = { level, index: start / 2 ** level };
    start += 2 ** level;
    return id;
  });
}
