import { Frontier } from './frontier';

/** MTH(D[n]) of RFC 6962 §2.1 over already-hashed leaves, in linear time and constant stack. */
export function treeHash(leafHashes: Iterable<Uint8Array>): Uint8Array {
  const f = Frontier.empty();
  for (const h of leafHashes) f.append(h);
  return f.root();
}
