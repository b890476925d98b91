/** Every way a Merkle computation or proof can be refused, with a code callers can branch on. */
export type MerkleErrorCode = 'BAD_TREE_SIZE' | 'BAD_LEAF_INDEX' | 'BAD_HASH_LENGTH' | 'BAD_FRONTIER' | 'LEAF_OUT_OF_ORDER';

export class MerkleError extends Error {
  override readonly name = 'MerkleError';
  constructor(
    readonly code: MerkleErrorCode,
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}
