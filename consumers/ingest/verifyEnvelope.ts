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

/**
 * Is this envelope signed by a key registered to the agent it names? `key` is the registry's record for
 * `envelope.keyId` (undefined if none); `agentKnown` says whether the agent itself is registered; `signed` is the
 * envelope's signing bytes when the caller already has them.
 */
export function verifyEnvelope(envelope: Envelope, key: RegisteredKey | undefined, agentKnown: boolean, signed: Uint8Array = signingBytes(envelope)): Verification {
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
  if (!verify(signed, sig, key.publicKey)) {
    return { ok: false, reason: 'SIG_INVALID', detail: 'signature does not verify over the JCS form of the envelope' };
  }
  return { ok: true };
}
