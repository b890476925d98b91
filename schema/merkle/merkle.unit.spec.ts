import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  leafHash, nodeHash, EMPTY_ROOT, Frontier, treeHash, inclusionProof, inclusionPathRanges, InclusionProofBuilder, verifyInclusion, splitPoint, MerkleError,
} from './index';

const VECTORS = JSON.parse(readFileSync(path.join(__dirname, '../../test/fixtures/vectors/rfc6962-merkle.json'), 'utf8')) as {
  leaves: string[];
  emptyRoot: string;
  roots: string[];
  inclusion: Array<{ index: number; size: number; path: string[] }>;
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** RFC 6962 §2.1 written out as recursively as the RFC states it, with no shared code: the reference. */
function naiveTree(leaves: Uint8Array[]) {
  const memo = new Map<string, Uint8Array>();
  const k = (n: number) => {
    let p = 1;
    while (p * 2 < n) p *= 2;
    return p;
  };
  const mth = (a: number, b: number): Uint8Array => {
    const key = `${a}:${b}`;
    let h = memo.get(key);
    if (h) return h;
    if (b - a === 0) h = sha256();
    else if (b - a === 1) h = sha256(new Uint8Array([0]), leaves[a]!);
    else h = sha256(new Uint8Array([1]), mth(a, a + k(b - a)), mth(a + k(b - a), b));
    memo.set(key, h);
    return h;
  };
  const pathOf = (m: number, a: number, b: number): Uint8Array[] => {
    if (b - a <= 1) return [];
    const split = k(b - a);
    return m < split ? [...pathOf(m, a, a + split), mth(a + split, b)] : [...pathOf(m - split, a + split, b), mth(a, a + split)];
  };
  return { root: () => mth(0, leaves.length), path: (m: number) => pathOf(m, 0, leaves.length) };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MerkleError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('RFC 6962 Merkle tree: Certificate Transparency reference vectors', () => {
  const leaves = VECTORS.leaves.map((l) => leafHash(unhex(l)));

  it('has the empty root SHA-256() and the reference root for every size 1..8', () => {
    expect(hex(EMPTY_ROOT)).toBe(VECTORS.emptyRoot);
    expect(hex(treeHash([]))).toBe(VECTORS.emptyRoot);
    for (let n = 1; n <= 8; n++) expect(hex(treeHash(leaves.slice(0, n)))).toBe(VECTORS.roots[n - 1]);
  });

  it.each(VECTORS.inclusion.map((v) => [v.index, v.size, v] as const))('builds and verifies the reference path of leaf %i in a tree of %i', (_i, _n, v) => {
    const tree = leaves.slice(0, v.size);
    expect(inclusionProof(v.index, tree).map(hex)).toEqual(v.path);
    expect(verifyInclusion(v.index, v.size, tree[v.index]!, v.path.map(unhex), unhex(VECTORS.roots[v.size - 1]!))).toEqual({ ok: true });
  });

  it('hashes a leaf as SHA-256(0x00 || d) and a node as SHA-256(0x01 || l || r)', () => {
    const d = new Uint8Array([1, 2, 3]);
    expect(hex(leafHash(d))).toBe(hex(sha256(new Uint8Array([0]), d)));
    const [a, b] = [leafHash(new Uint8Array([1])), leafHash(new Uint8Array([2]))];
    expect(hex(nodeHash(a, b))).toBe(hex(sha256(new Uint8Array([1]), a, b)));
    expect(codeOf(() => nodeHash(a, new Uint8Array(31)))).toBe('BAD_HASH_LENGTH');
  });
});

describe('RFC 6962 Merkle tree: against a naive recursive implementation', () => {
  const data = Array.from({ length: 300 }, () => new Uint8Array(randomBytes(8)));
  const all = data.map(leafHash);

  it('gives the same root at every size 1..300, appended one leaf at a time', () => {
    const f = Frontier.empty();
    for (let n = 1; n <= all.length; n++) {
      f.append(all[n - 1]!);
      expect(hex(f.root())).toBe(hex(naiveTree(data.slice(0, n)).root()));
    }
  });

  it('verifies the naive path of every leaf of every tree of size 1..300, and refuses it under a wrong index, size, leaf or root', () => {
    // Collected rather than asserted one by one: 45,000 paths, and jest's expect is the slow part.
    const wrong: string[] = [];
    for (let n = 1; n <= all.length; n++) {
      const tree = all.slice(0, n);
      const naive = naiveTree(data.slice(0, n));
      const root = naive.root();
      for (let m = 0; m < n; m++) {
        const p = naive.path(m);
        if (!verifyInclusion(m, n, tree[m]!, p, root).ok) wrong.push(`leaf ${m} of ${n} refused`);
        if (n > 100 && m % 7 !== 0) continue; // the refusals below on every leaf of the smaller trees, a sample of the rest
        const refused = (what: string, c: { ok: boolean }) => void (c.ok && wrong.push(`leaf ${m} of ${n} accepted with ${what}`));
        if (n > 1) {
          refused('the next index', verifyInclusion((m + 1) % n, n, tree[m]!, p, root));
          refused('the next leaf', verifyInclusion(m, n, tree[(m + 1) % n]!, p, root));
        }
        // The size is not always pinned by the path alone (leaf 1 of 6 and of 7 have the same path); the signed tree
        // head pins it. Doubling or halving it always changes the path's shape.
        refused('twice the size', verifyInclusion(m, 2 * n, tree[m]!, p, root));
        if (m < Math.floor(n / 2)) refused('half the size', verifyInclusion(m, Math.floor(n / 2), tree[m]!, p, root));
        refused('another root', verifyInclusion(m, n, tree[m]!, p, leafHash(root)));
      }
    }
    expect(wrong).toEqual([]);
  });

  it('builds exactly the naive path, streaming, for every leaf of trees 1..70 and of sizes around powers of two', () => {
    const sizes = [...Array.from({ length: 70 }, (_, i) => i + 1), 127, 128, 129, 255, 256, 257, 300];
    const wrong: string[] = [];
    for (const n of sizes) {
      const tree = all.slice(0, n);
      const naive = naiveTree(data.slice(0, n));
      for (let m = 0; m < n; m++) {
        if (inclusionProof(m, tree).map(hex).join() !== naive.path(m).map(hex).join()) wrong.push(`leaf ${m} of ${n}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('refuses a path that has an entry flipped, removed, added in front or behind, or swapped', () => {
    const n = 37;
    const tree = all.slice(0, n);
    const root = treeHash(tree);
    for (let m = 0; m < n; m++) {
      const p = inclusionProof(m, tree);
      for (let i = 0; i < p.length; i++) {
        const flipped = p.map((h) => Uint8Array.from(h));
        flipped[i]![0]! ^= 8;
        expect(verifyInclusion(m, n, tree[m]!, flipped, root).ok).toBe(false);
      }
      expect(verifyInclusion(m, n, tree[m]!, p.slice(0, -1), root).ok).toBe(false);
      expect(verifyInclusion(m, n, tree[m]!, [...p, root], root).ok).toBe(false);
      expect(verifyInclusion(m, n, tree[m]!, [root, ...p], root).ok).toBe(false);
      if (p.length > 1) expect(verifyInclusion(m, n, tree[m]!, [p[1]!, p[0]!, ...p.slice(2)], root).ok).toBe(false);
    }
  });

  it('refuses impossible indices and sizes without throwing', () => {
    const h = all[0]!;
    expect(verifyInclusion(0, 0, h, [], h).ok).toBe(false);
    expect(verifyInclusion(1, 1, h, [], h).ok).toBe(false);
    expect(verifyInclusion(-1, 4, h, [], h).ok).toBe(false);
    expect(verifyInclusion(0.5, 4, h, [], h).ok).toBe(false);
    expect(verifyInclusion(0, 1, h, [], h).ok).toBe(true);
    expect(verifyInclusion(0, 1, new Uint8Array(31), [], h).ok).toBe(false);
    expect(verifyInclusion(0, 2, h, [new Uint8Array(33)], h).ok).toBe(false);
  });
});

describe('Frontier', () => {
  it('resumes from its stored hashes to the same roots as one built from scratch', () => {
    const leaves = Array.from({ length: 100 }, () => leafHash(randomBytes(4)));
    for (const cut of [0, 1, 2, 3, 31, 32, 33, 64, 99]) {
      const a = Frontier.empty();
      leaves.slice(0, cut).forEach((h) => a.append(h));
      const b = Frontier.fromHashes(a.size, a.hashes());
      leaves.slice(cut).forEach((h) => b.append(h));
      expect(hex(b.root())).toBe(hex(treeHash(leaves)));
    }
  });

  it('refuses a stored frontier with the wrong number of hashes for its size', () => {
    const h = leafHash(new Uint8Array(1));
    expect(codeOf(() => Frontier.fromHashes(3, [h]))).toBe('BAD_FRONTIER');
    expect(codeOf(() => Frontier.fromHashes(4, [h, h]))).toBe('BAD_FRONTIER');
    expect(codeOf(() => Frontier.fromHashes(-1, []))).toBe('BAD_TREE_SIZE');
  });

  it('handles sizes above 2^32 (no 32-bit bit operations)', () => {
    const big = 2 ** 40 + 5; // bits 40, 2, 0
    const h = leafHash(new Uint8Array(1));
    const f = Frontier.fromHashes(big, [h, h, h]);
    f.append(h); // 2^40 + 6: bits 40, 2, 1
    expect(f.size).toBe(big + 1);
    expect(f.hashes()).toHaveLength(3);
    expect(splitPoint(2 ** 40 + 1)).toBe(2 ** 40);
    expect(inclusionPathRanges(2 ** 40, 2 ** 40 + 1)).toEqual([{ start: 0, end: 2 ** 40 }]);
  });
});

describe('InclusionProofBuilder', () => {
  it('insists on leaves in order and on the whole tree before giving a proof', () => {
    const h = leafHash(new Uint8Array(1));
    const b = new InclusionProofBuilder(1, 3);
    expect(codeOf(() => b.add(1, h))).toBe('LEAF_OUT_OF_ORDER');
    b.add(0, h);
    b.add(1, h);
    expect(codeOf(() => b.proof())).toBe('BAD_TREE_SIZE');
    b.add(2, h);
    expect(b.proof()).toHaveLength(2);
    expect(codeOf(() => b.add(3, h))).toBe('BAD_LEAF_INDEX');
    expect(codeOf(() => new InclusionProofBuilder(3, 3))).toBe('BAD_LEAF_INDEX');
  });
});
