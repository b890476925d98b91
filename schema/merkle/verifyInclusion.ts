import { nodeHash, hashesEqual, HASH_LENGTH } from './hash';

export type InclusionCheck = { ok: true } | { ok: false; detail: string };

/**
 * Checks an audit path with the algorithm of RFC 9162 §2.1.3.2, which needs only the leaf's index, the tree size,
 * the leaf hash and the path (no tree): the path must have exactly the right length and lead to `root`. Never throws.
 */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, path: Uint8Array[], root: Uint8Array): InclusionCheck {
  if (!Number.isSafeInteger(size) || size < 1) return { ok: false, detail: `tree size ${size} is not a positive integer` };
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) return { ok: false, detail: `leaf index ${index} is outside a tree of ${size}` };
  if (!isHash(leaf) || !isHash(root)) return { ok: false, detail: `leaf hash and root must be ${HASH_LENGTH} bytes` };
  if (!Array.isArray(path) || !path.every(isHash)) return { ok: false, detail: `every audit path entry must be ${HASH_LENGTH} bytes` };
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return { ok: false, detail: `the audit path is longer than a tree of ${size} needs` };
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return { ok: false, detail: `the audit path is shorter than a tree of ${size} needs` };
  if (!hashesEqual(r, root)) return { ok: false, detail: 'the audit path does not lead to the root' };
  return { ok: true };
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_LENGTH;
}
