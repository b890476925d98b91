/**
 * One enum of reason codes, used alike by the ingest consumer (why an event was rejected), the reconciler (why an
 * action drifted), the database (the `reason_code` Postgres enum) and alerts. test/schema.int.spec.ts checks that
 * this list and the database enum are the same.
 */
export const REASON_CODES = [
  // Bytes that are not an acceptable JSON document.
  'MALFORMED_JSON',
  'INVALID_UTF8',
  'DUPLICATE_KEY',
  'TOO_DEEP',
  'TOO_LARGE',
  'NUMBER_NOT_EXACT',
  'LONE_SURROGATE',
  // JSON that is not a valid envelope or payload.
  'SCHEMA_INVALID',
  'BAD_TIMESTAMP',
  'CLOCK_SKEW',
  // Identity.
  'UNKNOWN_AGENT',
  'UNKNOWN_KEY',
  'KEY_RETIRED',
  'KEY_AGENT_MISMATCH',
  'KAFKA_KEY_MISMATCH',
  // Signature.
  'SIG_BAD_ENCODING',
  'SIG_INVALID',
  // The agent's hash chain.
  'DUPLICATE_EVENT',
  'SEQ_REPLAY',
  'SEQ_GAP',
  'LATE_EVENT',
  'FORK',
  'PREV_HASH_MISMATCH',
  // Scope drift: an action that its declared intent does not cover.
  'NO_INTENT',
  'INTENT_UNKNOWN',
  'INTENT_CLOSED',
  'INTENT_AGENT_MISMATCH',
  'OUTSIDE_WINDOW',
  'TOOL_NOT_ALLOWED',
  'TARGET_NOT_ALLOWED',
  'DATA_CLASS_NOT_ALLOWED',
  'UNKNOWN_TOOL',
  'BUDGET_EXCEEDED',
  'INTENT_AFTER_ACTION',
  // Delegation and policy: an intent that claims more than it may.
  'DELEGATION_ESCALATION',
  'POLICY_DENIED',
  'APPROVAL_REQUIRED',
  'WINDOW_TOO_LONG',
  // What a tool gateway saw against what the agent reported.
  'UNREPORTED_ACTION',
  'UNOBSERVED_ACTION',
  // Credentials and proofs of possession, refused at the broker or the tool gateway.
  'CREDENTIAL_INVALID',
  'CREDENTIAL_EXPIRED',
  'CREDENTIAL_REVOKED',
  'PROOF_INVALID',
  'PROOF_KEY_MISMATCH',
  'PROOF_BINDING_MISMATCH',
  'PROOF_STALE',
  'PROOF_REPLAYED',
  // An action.observed signed by a party that is not a registered gateway.
  'NOT_A_GATEWAY',
  // Enrolment of an agent key without valid evidence from a trusted attestor.
  'ATTESTATION_INVALID',
  // A person's decision, not the evaluator's.
  'ANALYST_REVOKED',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function parseSeverity(value: string): Severity {
  if ((SEVERITIES as readonly string[]).includes(value)) return value as Severity;
  throw new Error(`severity must be one of ${SEVERITIES.join(', ')}; got "${value}"`);
}
