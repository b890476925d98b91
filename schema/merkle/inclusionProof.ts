import { Frontier } from './frontier';
import { assertHash } from './hash';
import { assertTreeSize, splitPoint } from './split';
import { MerkleError } from './errors';

export interface LeafRange {
  start: number; // first leaf, inclusive
  end: number; // last leaf, exclusive
}

/**
 * The subtrees whose hashes make up PATH(m, D[n]) (RFC 6962 §2.1.1), nearest the leaf first: at each level of the
 * recursion the sibling of the side that holds leaf m.
 */
export function inclusionPathRanges(index: number, size: number): LeafRange[] {
  assertIndex(index, size);
  const out: LeafRange[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index - start < k) {
      out.push({ start: start + k, end });
      end = start + k;
    } else {
      out.push({ start, end: start + k });
      start += k;
    }
  }
  return out.reverse();
}

/**
 * Builds the audit path of one leaf while the tree's leaves stream past in order, keeping only one frontier per
 * path entry: O(n) hashing, O(log^2 n) memory, so a proof never needs the whole ledger in memory.
 */
export class InclusionProofBuilder {
  private readonly ranges: LeafRange[];
  private readonly frontiers: Frontier[];
  /** Path positions sorted by where their range starts, and how far along that list the stream is. */
  private readonly byStart: number[];
  private cursor = 0;
  private next = 0;

  constructor(
    readonly index: number,
    readonly size: number,
  ) {
    this.ranges = inclusionPathRanges(index, size);
    this.frontiers = this.ranges.map(() => Frontier.empty());
    this.byStart = this.ranges.map((_, i) => i).sort((a, b) => this.ranges[a]!.start - this.ranges[b]!.start);
  }

  /** Feeds leaf `leafIndex`; leaves must come in order 0, 1, 2, ... size-1. */
  add(leafIndex: number, leaf: Uint8Array): void {
    if (leafIndex !== this.next) throw new MerkleError('LEAF_OUT_OF_ORDER', `expected leaf ${this.next}, got ${leafIndex}`);
    if (leafIndex >= this.size) throw new MerkleError('BAD_LEAF_INDEX', `leaf ${leafIndex} is outside a tree of ${this.size}`);
    assertHash(leaf, `leaf hash ${leafIndex}`);
    this.next += 1;
    while (this.cursor < this.byStart.length && this.ranges[this.byStart[this.cursor]!]!.end <= leafIndex) this.cursor += 1;
    const at = this.byStart[this.cursor];
    if (at !== undefined && this.ranges[at]!.start <= leafIndex) this.frontiers[at]!.append(leaf);
  }

  get complete(): boolean {
    return this.next === this.size;
  }

  proof(): Uint8Array[] {
    if (!this.complete) throw new MerkleError('BAD_TREE_SIZE', `only ${this.next} of ${this.size} leaves were fed`);
    return this.frontiers.map((f) => f.root());
  }
}

/** PATH(index, D[n]) over a list of leaf hashes; for tests and small trees. */
export function inclusionProof(index: number, leafHashes: Uint8Array[]): Uint8Array[] {
  const b = new InclusionProofBuilder(index, leafHashes.length);
  leafHashes.forEach((h, i) => b.add(i, h));
  return b.proof();
}

function assertIndex(index: number, size: number): void {
  assertTreeSize(size);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new MerkleError('BAD_LEAF_INDEX', `leaf index ${index} is outside a tree of ${size} leaves`);
  }
}
