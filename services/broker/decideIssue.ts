import type { ReasonCode } from '../../schema/reasons';

/** What the ledger says about the intent a credential is asked for, and about the key that asked. */
export interface IssueView {
  intent: { intentId: string; agentId: string; status: 'open' | 'closed' | 'denied'; notBefore: Date; notAfter: Date } | null;
  credential: { credentialId: string; status: 'active' | 'revoked' | 'expired'; expiresAt: Date } | null;
  /** The registered key whose proof came with the request; null when it is not registered. */
  key: { keyId: string; agentId: string; status: 'active' | 'retired' } | null;
}

export type IssueDecision =
  | { ok: true; credentialId: string; agentId: string; keyId: string; expiresAt: Date }
  | { ok: false; reason: ReasonCode; detail: string };

/**
 * May the holder of this key have a credential for this intent, and until when? Only the agent that declared the
 * intent, with an active registered key, while the intent is open, inside its window and its credential is not
 * revoked. The lifetime is the shortest of: what was asked, the intent's window, and the policy's maximum.
 */
export function decideIssue(view: IssueView, intentId: string, requestedSeconds: number | undefined, maxCredentialSeconds: number, now: Date): IssueDecision {
  const { intent, credential, key } = view;
  if (!key) return { ok: false, reason: 'UNKNOWN_KEY', detail: 'the key that signed the proof is not registered' };
  if (key.status !== 'active') return { ok: false, reason: 'KEY_RETIRED', detail: `key ${key.keyId} is retired` };
  if (!intent) return { ok: false, reason: 'INTENT_UNKNOWN', detail: `intent ${intentId} is not in the ledger (yet)` };
  if (intent.agentId !== key.agentId) return { ok: false, reason: 'INTENT_AGENT_MISMATCH', detail: `intent ${intentId} was declared by another agent, not ${key.agentId}` };
  if (intent.status === 'denied') return { ok: false, reason: 'POLICY_DENIED', detail: `intent ${intentId} was refused at declaration` };
  if (intent.status === 'closed') return { ok: false, reason: 'INTENT_CLOSED', detail: `intent ${intentId} is closed` };
  if (!credential) return { ok: false, reason: 'INTENT_UNKNOWN', detail: `intent ${intentId} has no credential` };
  if (credential.status === 'revoked') return { ok: false, reason: 'CREDENTIAL_REVOKED', detail: `the credential of intent ${intentId} was revoked` };
  if (credential.status === 'expired') return { ok: false, reason: 'INTENT_CLOSED', detail: `the credential of intent ${intentId} ended with it` };
  if (now < intent.notBefore || now >= intent.notAfter) return { ok: false, reason: 'OUTSIDE_WINDOW', detail: `intent ${intentId} is valid from ${intent.notBefore.toISOString()} to ${intent.notAfter.toISOString()}` };
  const ends = [intent.notAfter.getTime(), credential.expiresAt.getTime(), now.getTime() + maxCredentialSeconds * 1000];
  if (requestedSeconds !== undefined) ends.push(now.getTime() + requestedSeconds * 1000);
  // Whole seconds (a JWT's exp), never later than any bound.
  const expiresAt = new Date(Math.floor(Math.min(...ends) / 1000) * 1000);
  if (expiresAt <= now) return { ok: false, reason: 'OUTSIDE_WINDOW', detail: `intent ${intentId} ends within the second` };
  return { ok: true, credentialId: credential.credentialId, agentId: key.agentId, keyId: key.keyId, expiresAt };
}
