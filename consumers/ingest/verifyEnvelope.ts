import { decode as b64uDecode } from '../../schema/crypto/base64url';
import { verify, SIGNATURE_LENGTH, signatureScalarIsCanonical } from '../../schema/crypto/ed25519';
import { signingBytes } from '../../schema/events/digest';
import type { Envelope } from '../../schema/events';
import type { ReasonCode } from '../../schema/reasons';

export interface RegisteredKey {
  keyId: string;
  agentId: string;
  publicKey: Uint8Array;
  status: 'active' | 'retired';
}

export type Verification = { ok: true } | { ok: false; reason: ReasonCode; detail: string };

/** The rejection of a well-formed signature that does not verify. */
export const SIGNATURE_MISMATCH: Extract<Verification, { ok: false }> = { ok: false, reason: 'SIG_INVALID', detail: 'signature does not verify over the JCS form of the envelope' };

/**
 * Is this envelope signed by a key registered to the agent it names? `key` is the registry's record for
 * `envelope.keyId` (undefined if none); `agentKnown` says whether the agent itself is registered; `signed` is the
 * envelope's signing bytes when the caller already has them.
 */
export function verifyEnvelope(envelope: Envelope, key: RegisteredKey | undefined, agentKnown: boolean, signed: Uint8Array = signingBytes(envelope)): Verification {
  const pre = checkSignatureInputs(envelope, key, agentKnown);
  if (!pre.ok) return pre;
  return verify(signed, pre.signature, key!.publicKey) ? { ok: true } : SIGNATURE_MISMATCH;
}

/**
 * Everything verifyEnvelope checks except the Ed25519 equation itself: the key is registered, the agent's, active;
 * the signature is canonical base64url of 64 bytes with S < L. Returns the decoded signature, for a caller that
 * verifies in bulk elsewhere (a worker thread) and rejects a false result with SIGNATURE_MISMATCH.
 */
export function checkSignatureInputs(envelope: Envelope, key: RegisteredKey | undefined, agentKnown: boolean): { ok: true; signature: Uint8Array } | Extract<Verification, { ok: false }> {
  if (!key) {
    return agentKnown
      ? { ok: false, reason: 'UNKNOWN_KEY', detail: `key ${envelope.keyId} is not registered for agent ${envelope.agentId}` }
      : { ok: false, reason: 'UNKNOWN_AGENT', detail: `agent ${envelope.agentId} is not registered` };
  }
  if (key.agentId !== envelope.agentId) {
    return { ok: false, reason: 'KEY_AGENT_MISMATCH', detail: `key ${key.keyId} belongs to another agent, not ${envelope.agentId}` };
  }
  if (key.status !== 'active') return { ok: false, reason: 'KEY_RETIRED', detail: `key ${key.keyId} is retired` };
  let sig: Uint8Array;
  try {
    sig = b64uDecode(envelope.sig);
  } catch (e) {
    return { ok: false, reason: 'SIG_BAD_ENCODING', detail: `sig is not canonical unpadded base64url: ${(e as Error).message}` };
  }
  if (sig.length !== SIGNATURE_LENGTH) {
    return { ok: false, reason: 'SIG_BAD_ENCODING', detail: `sig decodes to ${sig.length} bytes, not ${SIGNATURE_LENGTH}` };
  }
  if (!signatureScalarIsCanonical(sig)) {
    return { ok: false, reason: 'SIG_INVALID', detail: 'signature S is not below the group order L (non-canonical S: a malleated signature)' };
  }
  return { ok: true, signature: sig };
}
