/**
 * What `verify` can find wrong with a ledger. Not rejections (nothing is being admitted), so not in the reason-code
 * enum; where a problem means the same as a reason code it has the same name.
 */
export const PROBLEM_CODES = [
  // The append order.
  'LEAF_MISSING', // a leaf index with no row: deleted, or moved elsewhere
  'LEAF_OUT_OF_ORDER', // leaf order disagrees with insert order: rows reordered
  'TIP_MISMATCH', // ledger_tip disagrees with the rows: leaves cut off the end, or added past it
  // One row against its own signed bytes.
  'RAW_DIGEST_MISMATCH',
  'RAW_INVALID',
  'EVENT_HASH_MISMATCH',
  'COLUMN_MISMATCH',
  'UNKNOWN_KEY',
  'KEY_AGENT_MISMATCH',
  'SIG_BAD_ENCODING',
  'SIG_INVALID',
  // Each agent's hash chain.
  'SEQ_GAP',
  'SEQ_ORDER',
  'PREV_HASH_MISMATCH',
  'CHAIN_HEAD_MISMATCH',
  // Signed tree heads.
  'TREE_HEAD_UNTRUSTED_KEY',
  'TREE_HEAD_SIG_INVALID',
  'TREE_HEAD_ROOT_MISMATCH',
  'TRUNCATED',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

export interface IntegrityProblem {
  code: ProblemCode;
  /** The bad leaf, when the problem is one leaf's (or where missing leaves begin). */
  leafIndex: number | null;
  eventId: string | null;
  /** The tree head concerned, when the problem is a head's. */
  treeSize: number | null;
  agentId: string | null;
  detail: string;
}

/** "leaf 12 (event evt_…)", "tree head of size 40", or "agent a-1". */
export function problemSubject(p: IntegrityProblem): string {
  if (p.leafIndex !== null) return `leaf ${p.leafIndex}${p.eventId ? ` (event ${p.eventId})` : ''}`;
  if (p.treeSize !== null) return `tree head of size ${p.treeSize}`;
  if (p.agentId !== null) return `agent ${p.agentId}`;
  return 'ledger';
}

export function describeProblem(p: IntegrityProblem): string {
  return `${problemSubject(p)}: ${p.code}: ${p.detail}`;
}

/**
 * Where a problem sits in the ledger, for naming the first one: a leaf's at its index; a head's right after the last
 * leaf it covers; problems with neither (an agent's chain head) after everything.
 */
export function problemOrder(p: IntegrityProblem): number {
  if (p.leafIndex !== null) return p.leafIndex;
  if (p.treeSize !== null) return p.treeSize - 0.5;
  return Number.POSITIVE_INFINITY;
}
