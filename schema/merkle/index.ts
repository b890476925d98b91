/** RFC 6962 / RFC 9162 Merkle trees over SHA-256: pure functions, no storage. */
export { leafHash, nodeHash, hashesEqual, EMPTY_ROOT, HASH_LENGTH } from './hash';
export { splitPoint } from './split';
export { Frontier } from './frontier';
export { treeHash } from './treeHash';
export { inclusionPathRanges, InclusionProofBuilder, inclusionProof, type LeafRange } from './inclusionProof';
export { verifyInclusion, type InclusionCheck } from './verifyInclusion';
export { MerkleError, type MerkleErrorCode } from './errors';
