import type { ReasonCode } from '../../schema/reasons';
import { checkAccessToken, type CredentialClaims } from './accessToken';
import { checkProof } from './dpopProof';

/** A call as the gateway receives it. */
export interface PresentedCall {
  method: string;
  /** The absolute URI the call was made to, as the gateway's public address spells it. */
  uri: string;
  /** The Authorization header. */
  authorization: string | undefined;
  /** The DPoP header. */
  dpop: string | undefined;
}

export interface CallContext {
  brokerPublicKey: Uint8Array;
  now: Date;
  maxProofAgeMs: number;
  futureSkewMs: number;
  /** Has the credential, or this token, been revoked (or ended with its intent)? */
  isRevoked(credentialId: string, tokenId: string): boolean;
  /** Has this key already used this proof nonce? */
  isReplay(jkt: string, jti: string): boolean;
}

export type CallDecision =
  | { allow: true; claims: CredentialClaims; jti: string; iatMs: number }
  | { allow: false; reason: ReasonCode; detail: string; claims?: CredentialClaims };

/**
 * May this call go through? A credential from our broker, in date and not revoked, presented with a fresh proof made
 * for this very method and target, signed by the key the credential names, whose nonce is new. The first failure
 * decides. Pure; the caller remembers the nonce of an allowed call.
 */
export function checkToolCall(call: PresentedCall, ctx: CallContext): CallDecision {
  const m = /^DPoP ([A-Za-z0-9_.-]+)$/.exec(call.authorization ?? '');
  const token = checkAccessToken(m?.[1], ctx.brokerPublicKey, ctx.now);
  if (!token.ok) return { allow: false, reason: token.reason, detail: call.authorization && !m ? 'Authorization must be "DPoP <credential>"' : token.detail };
  const claims = token.claims;
  if (ctx.isRevoked(claims.cid, claims.jti)) return { allow: false, reason: 'CREDENTIAL_REVOKED', detail: `credential ${claims.cid} has been revoked`, claims };
  const proof = checkProof(call.dpop, { htm: call.method, htu: call.uri, accessToken: m![1], now: ctx.now, maxAgeMs: ctx.maxProofAgeMs, futureSkewMs: ctx.futureSkewMs });
  if (!proof.ok) return { allow: false, reason: proof.reason, detail: proof.detail, claims };
  if (proof.jkt !== claims.cnf.jkt) {
    return { allow: false, reason: 'PROOF_KEY_MISMATCH', detail: `credential is bound to key ${claims.cnf.jkt}; the proof is signed by ${proof.jkt}`, claims };
  }
  if (ctx.isReplay(proof.jkt, proof.jti)) return { allow: false, reason: 'PROOF_REPLAYED', detail: `DPoP proof ${proof.jti} was already used`, claims };
  return { allow: true, claims, jti: proof.jti, iatMs: proof.iatMs };
}
