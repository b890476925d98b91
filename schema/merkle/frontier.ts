import { nodeHash, assertHash, EMPTY_ROOT } from './hash';
import { assertTreeSize } from './split';
import { MerkleError } from './errors';

/**
 * The right edge of a growing RFC 6962 tree over leaves [0, size): one hash per perfect subtree, largest first (a
 * "compact range" starting at 0). Appending a leaf costs O(1) amortised and the root O(log n), so a log can sign a
 * new tree head without rehashing its history, and can resume from a stored frontier.
 *
 * The root it gives is MTH: the perfect subtrees s0 > s1 > ... of sizes of the set bits of `size` combine as
 * node(s0, node(s1, ... sk)), which is exactly RFC 6962's split at the largest power of two below n, applied
 * recursively to the right-hand part.
 */
export class Frontier {
  private constructor(
    private n: number,
    private readonly stack: Uint8Array[],
  ) {}

  static empty(): Frontier {
    return new Frontier(0, []);
  }

  /** Rebuilds a frontier from its stored hashes; their number must be the number of set bits of `size`. */
  static fromHashes(size: number, hashes: Uint8Array[]): Frontier {
    assertTreeSize(size);
    if (hashes.length !== popcount(size)) {
      throw new MerkleError('BAD_FRONTIER', `a tree of ${size} leaves has ${popcount(size)} frontier hashes, got ${hashes.length}`);
    }
    hashes.forEach((h, i) => assertHash(h, `frontier hash ${i}`));
    return new Frontier(size, hashes.map((h) => Uint8Array.from(h)));
  }

  get size(): number {
    return this.n;
  }

  /** Copies of the frontier's hashes, largest subtree first. */
  hashes(): Uint8Array[] {
    return this.stack.map((h) => Uint8Array.from(h));
  }

  append(leaf: Uint8Array): void {
    assertHash(leaf, 'leaf hash');
    if (this.n >= Number.MAX_SAFE_INTEGER) throw new MerkleError('BAD_TREE_SIZE', 'the tree is full');
    let h = leaf;
    // Each trailing 1 bit of the old size is a perfect subtree of the same size as the one being carried: merge.
    for (let carry = this.n; carry % 2 === 1; carry = Math.floor(carry / 2)) {
      h = nodeHash(this.stack.pop()!, h);
    }
    this.stack.push(h);
    this.n += 1;
  }

  root(): Uint8Array {
    if (this.stack.length === 0) return Uint8Array.from(EMPTY_ROOT);
    let r = this.stack[this.stack.length - 1]!;
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHash(this.stack[i]!, r);
    return Uint8Array.from(r);
  }
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}
