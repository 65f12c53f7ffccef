import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  consistencyProof,
  edgeNodes,
  fromBase64,
  fromHex,
  type Hash,
  inclusionProof,
  type NodeId,
  sha256,
  TreeHasher,
  toBase64,
  toHex,
  utf8,
} from '../src/index.ts';
import { nodeHasher, nodeSha256 } from '../src/node.ts';
import vectors from './vectors/transparency-dev-merkle.json' with { type: 'json' };

const h = new TreeHasher(sha256);

// The RFC 6962 reference tree (transparency-dev/merkle testonly/constants.go).
const LEAF_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const referenceLeaves = LEAF_INPUTS.map((x) => h.leafHash(fromHex(x)));

/** Perfect nodes of a leaf list, computed the slow way (what a store would hold). */
const nodeReader = (leaves: Hash[]) => async (ids: NodeId[]) =>
  ids.map(({ level, index }) => h.rootOf(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level)));

// The JSON files write an absent proof or hash as null.
const b64s = (xs: string[] | null) => (xs ?? []).map((x) => fromBase64(x));
const b64 = (x: string | null) => fromBase64(x ?? '');

describe('SHA-256 (plain JS)', () => {
  it('matches FIPS 180-2 examples and node:crypto on every length around the block boundaries', () => {
    expect(toHex(sha256(utf8('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(toHex(sha256(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    for (let n = 0; n < 200; n++) {
      const b = new Uint8Array(randomBytes(n));
      expect(toHex(sha256(b))).toBe(toHex(nodeSha256(b)));
    }
  });
});

describe('RFC 9162 hashing against published vectors', () => {
  it('Go\'s tlog.RecordHash("hello world") (sumdb/tlog note_test.go)', () => {
    expect(toBase64(h.leafHash(utf8('hello world')))).toBe('TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=');
  });

  it('roots of the reference tree for sizes 0..8', () => {
    for (let n = 0; n <= 8; n++)
      expect(toHex(h.rootOf(referenceLeaves.slice(0, n))), `size ${n}`).toBe(ROOTS[n]);
    expect(toHex(nodeHasher.rootOf(referenceLeaves))).toBe(ROOTS[8]);
  });

  it(`every transparency-dev inclusion vector (${vectors.inclusion.length}) verifies or fails as published`, async () => {
    let happy = 0;
    for (const v of vectors.inclusion) {
      const ok = h.verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), b64s(v.proof), b64(v.root));
      expect(ok, v.file).toBe(!v.wantErr);
      // Our generator produces the published proof for every valid case over the reference tree.
      const root = toHex(b64(v.root));
      if (!v.wantErr && v.treeSize <= 8 && root === ROOTS[v.treeSize]) {
        const mine = await inclusionProof(h, v.leafIdx, v.treeSize, nodeReader(referenceLeaves));
        expect(mine.map(toBase64), v.file).toEqual(v.proof ?? []);
        happy++;
      }
    }
    expect(happy).toBeGreaterThanOrEqual(5);
  });

  it(`every transparency-dev consistency vector (${vectors.consistency.length}) verifies or fails as published`, async () => {
    let happy = 0;
    for (const v of vectors.consistency) {
      const ok = h.verifyConsistency(v.size1, v.size2, b64(v.root1), b64(v.root2), b64s(v.proof));
      expect(ok, v.file).toBe(!v.wantErr);
      if (!v.wantErr && v.size1 > 0 && v.size2 <= 8 && toHex(b64(v.root2)) === ROOTS[v.size2]) {
        const mine = await consistencyProof(h, v.size1, v.size2, nodeReader(referenceLeaves));
        expect(mine.map(toBase64), v.file).toEqual(v.proof ?? []);
        happy++;
      }
    }
    expect(happy).toBeGreaterThanOrEqual(5);
  });
});

describe('proofs over our own trees (every index and size pair up to 70 leaves)', () => {
  const leaves = Array.from({ length: 70 }, (_, i) => h.leafHash(utf8(`leaf ${i}`)));
  const roots = Array.from({ length: 71 }, (_, n) => h.rootOf(leaves.slice(0, n)));
  const read = nodeReader(leaves);

  it('inclusion proofs verify, and fail for the wrong leaf, index or size', async () => {
    for (let n = 1; n <= 70; n += 3) {
      for (let i = 0; i < n; i++) {
        const p = await inclusionProof(h, i, n, read);
        expect(h.verifyInclusion(i, n, leaves[i]!, p, roots[n]!), `${i}/${n}`).toBe(true);
        expect(h.verifyInclusion(i, n, leaves[(i + 1) % 70]!, p, roots[n]!)).toBe(false);
        if (n > 1) expect(h.verifyInclusion((i + 1) % n, n, leaves[i]!, p, roots[n]!)).toBe(false);
        if (n < 70) expect(h.verifyInclusion(i, n + 1, leaves[i]!, p, roots[n + 1]!)).toBe(false);
      }
    }
  });

  it('consistency proofs verify, and fail against another root', async () => {
    for (let n2 = 1; n2 <= 70; n2 += 2) {
      for (let n1 = 1; n1 <= n2; n1++) {
        const p = await consistencyProof(h, n1, n2, read);
        expect(h.verifyConsistency(n1, n2, roots[n1]!, roots[n2]!, p), `${n1}→${n2}`).toBe(true);
        if (n1 < n2) {
          expect(h.verifyConsistency(n1, n2, roots[n1 - 1] ?? roots[n1 + 1]!, roots[n2]!, p)).toBe(false);
          expect(h.verifyConsistency(n1, n2, roots[n1]!, roots[n2 - 1]!, p)).toBe(false);
        }
      }
    }
  }, 60_000);

  it('the compact range reports every perfect node, and resumes from its right edge', async () => {
    const r = new CompactRange(h);
    const stored = new Map<string, Hash>();
    leaves.forEach((l, i) => {
      stored.set(`0/${i}`, l);
      for (const n of r.append(l)) stored.set(`${n.id.level}/${n.id.index}`, n.hash);
      expect(toHex(r.root())).toBe(toHex(roots[i + 1]!));
    });
    const expected = await read(
      [...stored.keys()].map((k) => ({ level: Number(k.split('/')[0]), index: Number(k.split('/')[1]) })),
    );
    expect([...stored.values()].map(toHex)).toEqual(expected.map(toHex));
    for (const size of [1, 2, 3, 37, 64, 70]) {
      const edge = edgeNodes(size).map((id) => stored.get(`${id.level}/${id.index}`)!);
      const resumed = new CompactRange(h, { size, edge });
      for (const l of leaves.slice(size)) resumed.append(l);
      expect(toHex(resumed.root())).toBe(toHex(roots[70]!));
    }
  });
});
