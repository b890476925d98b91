import { MerkleError } from './errors';

/**
 * The RFC 6962 split point of a tree of n >= 2 leaves: the largest power of two smaller than n. Plain arithmetic
 * rather than bit operations, which would wrap above 2^31; tree sizes go up to Number.MAX_SAFE_INTEGER.
 */
export function splitPoint(n: number): number {
  if (!Number.isSafeInteger(n) || n < 2) throw new MerkleError('BAD_TREE_SIZE', `a split needs at least 2 leaves, got ${n}`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function assertTreeSize(n: number, what = 'tree size'): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new MerkleError('BAD_TREE_SIZE', `${what} must be a non-negative safe integer, got ${n}`);
}
