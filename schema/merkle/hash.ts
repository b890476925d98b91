/**
 * RFC 6962 §2.1 hashing with SHA-256. Leaves and interior nodes get different one-byte prefixes, so no leaf can be
 * passed off as an interior node (a second-preimage attack on the tree).
 */
import { createHash } from 'node:crypto';
import { MerkleError } from './errors';

export const HASH_LENGTH = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}) = SHA-256(): the root of the empty tree. */
export const EMPTY_ROOT: Uint8Array = createHash('sha256').digest();

/** MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  assertHash(left, 'left child');
  assertHash(right, 'right child');
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

export function assertHash(h: unknown, what: string): asserts h is Uint8Array {
  if (!(h instanceof Uint8Array) || h.length !== HASH_LENGTH) {
    throw new MerkleError('BAD_HASH_LENGTH', `${what} must be a ${HASH_LENGTH}-byte hash`);
  }
}

export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}
