import type { ReasonCode } from '../../schema/reasons';
import { decodeJws, signJws, verifyJws, type Signer } from './jws';

export const TOKEN_ISSUER = 'intent-ledger-broker';

/** What a credential says: for one intent of one agent, usable only with the key whose thumbprint it names. */
export interface CredentialClaims {
  iss: string;
  /** The agent. */
  sub: string;
  /** This token's id. */
  jti: string;
  /** The credential (one per intent) the token is for; revoking it ends every token issued for it. */
  cid: string;
  intent_id: string;
  cnf: { jkt: string };
  iat: number;
  exp: number;
}

export function issueAccessToken(claims: Omit<CredentialClaims, 'iss'>, broker: Signer & { keyId: string }): string {
  return signJws({ typ: 'at+jwt', kid: broker.keyId }, { ...claims, iss: TOKEN_ISSUER }, broker);
}

export type TokenCheck =
  | { ok: true; claims: CredentialClaims }
  | { ok: false; reason: Extract<ReasonCode, 'CREDENTIAL_INVALID' | 'CREDENTIAL_EXPIRED'>; detail: string };

/**
 * Was this token issued by the broker whose key we pin, and is it still within its lifetime? Pure. Revocation is
 * not a property of the token: the caller asks its revocation list.
 */
export function checkAccessToken(token: string | undefined, brokerPublicKey: Uint8Array, now: Date): TokenCheck {
  if (token === undefined || token === '') return { ok: false, reason: 'CREDENTIAL_INVALID', detail: 'no credential with the request (Authorization: DPoP <token>)' };
  const d = decodeJws(token);
  if (typeof d === 'string') return { ok: false, reason: 'CREDENTIAL_INVALID', detail: `credential: ${d}` };
  if (d.header.typ !== 'at+jwt') return { ok: false, reason: 'CREDENTIAL_INVALID', detail: 'credential is not an access token (typ at+jwt)' };
  if (!verifyJws(d, brokerPublicKey)) return { ok: false, reason: 'CREDENTIAL_INVALID', detail: 'credential is not signed by the broker' };
  const c = d.claims;
  const str = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 256;
  const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v);
  const cnf = c.cnf as Record<string, unknown> | null;
  if (c.iss !== TOKEN_ISSUER || !str(c.sub) || !str(c.jti) || !str(c.cid) || !str(c.intent_id) || !int(c.iat) || !int(c.exp) || typeof cnf !== 'object' || cnf === null || !str(cnf.jkt)) {
    return { ok: false, reason: 'CREDENTIAL_INVALID', detail: 'credential claims are incomplete (iss, sub, jti, cid, intent_id, cnf.jkt, iat, exp)' };
  }
  const claims = c as unknown as CredentialClaims;
  if (now.getTime() >= claims.exp * 1000) return { ok: false, reason: 'CREDENTIAL_EXPIRED', detail: `credential ${claims.jti} expired at ${new Date(claims.exp * 1000).toISOString()}` };
  return { ok: true, claims };
}
