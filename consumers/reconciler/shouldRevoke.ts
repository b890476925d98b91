import { severityRank, type Severity } from '../../schema/reasons';

export interface RevocationPolicy {
  /** The lowest severity that revokes the agent's credential for the intent. */
  revokeAt: Severity;
}

/**
 * Revoke at or above the policy's threshold. Pure, and deliberately nothing more: which findings exist is
 * evaluateAction's business, when to act on them is this line's, so the threshold can be tuned and audited alone.
 */
export function shouldRevoke(finding: { severity: Severity }, policy: RevocationPolicy): boolean {
  const rank = severityRank(finding.severity);
  const threshold = severityRank(policy.revokeAt);
  // An unrecognised severity (a value smuggled past the type system) must not slip under the threshold.
  if (rank < 0 || threshold < 0) return true;
  return rank >= threshold;
}
