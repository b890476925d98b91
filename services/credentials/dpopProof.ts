import { createHash, randomBytes } from 'node:crypto';
import type { ReasonCode } from '../../schema/reasons';
import { decodeJws, signJws, verifyJws, type Signer } from './jws';
import { jwkFor, publicKeyFromJwk, thumbprint } from './jwk';

/**
 * Proof of possession in the manner of OAuth DPoP (RFC 9449): a JWS of type `dpop+jwt`, signed by the agent's key,
 * carrying that key's public JWK in its header, over the request's method (`htm`), target URI (`htu`), time
 * (`iat`), a fresh nonce (`jti`) and, when a credential is presented, the credential's hash (`ath`).
 */
export interface ProofRequest {
  htm: string;
  htu: string;
  /** The access token the proof accompanies (its SHA-256 becomes `ath`); absent at the token endpoint. */
  accessToken?: string;
  /** Seconds since the epoch; defaults to the clock. */
  iat?: number;
  jti?: string;
}

export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

export function createProof(signer: Signer, req: ProofRequest, now: Date = new Date()): string {
  return signJws(
    { typ: 'dpop+jwt', jwk: jwkFor(signer.publicKey) },
    {
      jti: req.jti ?? randomBytes(16).toString('base64url'),
      htm: req.htm,
      htu: req.htu,
      iat: req.iat ?? Math.floor(now.getTime() / 1000),
      ...(req.accessToken !== undefined ? { ath: accessTokenHash(req.accessToken) } : {}),
    },
    signer,
  );
}

export interface ProofExpectation {
  htm: string;
  htu: string;
  /** The access token presented with the proof; the proof must name its hash. */
  accessToken?: string;
  now: Date;
  /** How old a proof may be (from its iat). */
  maxAgeMs: number;
  /** How far ahead of our clock a proof's iat may be. */
  futureSkewMs: number;
}

export type ProofCheck =
  | { ok: true; jkt: string; jti: string; publicKey: Uint8Array; iatMs: number }
  | { ok: false; reason: Extract<ReasonCode, 'PROOF_INVALID' | 'PROOF_BINDING_MISMATCH' | 'PROOF_STALE'>; detail: string };

/**
 * Is this a proof, signed by the key in its own header, made for this request and recently? Pure: whether its
 * nonce was seen before (a replay) is the caller's to check, once everything else holds. Which key it must be (the
 * credential's) is also the caller's: the result names its thumbprint.
 */
export function checkProof(proof: string | undefined, x: ProofExpectation): ProofCheck {
  if (proof === undefined || proof === '') return { ok: false, reason: 'PROOF_INVALID', detail: 'no DPoP proof with the request' };
  const d = decodeJws(proof);
  if (typeof d === 'string') return { ok: false, reason: 'PROOF_INVALID', detail: `DPoP proof: ${d}` };
  if (d.header.typ !== 'dpop+jwt') return { ok: false, reason: 'PROOF_INVALID', detail: `DPoP proof typ must be dpop+jwt; got ${JSON.stringify(d.header.typ)}` };
  const publicKey = publicKeyFromJwk(d.header.jwk);
  if (typeof publicKey === 'string') return { ok: false, reason: 'PROOF_INVALID', detail: `DPoP proof: ${publicKey}` };
  if (!verifyJws(d, publicKey)) return { ok: false, reason: 'PROOF_INVALID', detail: 'DPoP proof signature does not verify with the key in its header' };
  const { jti, htm, htu, iat, ath } = d.claims;
  if (typeof jti !== 'string' || jti.length < 16 || jti.length > 128) return { ok: false, reason: 'PROOF_INVALID', detail: 'DPoP proof jti must be a string of 16-128 characters' };
  if (typeof htm !== 'string' || typeof htu !== 'string') return { ok: false, reason: 'PROOF_INVALID', detail: 'DPoP proof must name htm and htu' };
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat)) return { ok: false, reason: 'PROOF_INVALID', detail: 'DPoP proof iat must be an integer NumericDate' };
  if (htm !== x.htm) return { ok: false, reason: 'PROOF_BINDING_MISMATCH', detail: `DPoP proof is for method ${htm}, not ${x.htm}` };
  if (normaliseHtu(htu) !== normaliseHtu(x.htu)) return { ok: false, reason: 'PROOF_BINDING_MISMATCH', detail: `DPoP proof is for ${htu}, not ${x.htu}` };
  if (x.accessToken !== undefined) {
    if (ath !== accessTokenHash(x.accessToken)) return { ok: false, reason: 'PROOF_BINDING_MISMATCH', detail: 'DPoP proof ath is not the hash of the credential presented with it' };
  } else if (ath !== undefined) {
    return { ok: false, reason: 'PROOF_BINDING_MISMATCH', detail: 'DPoP proof names a credential (ath), but none was presented' };
  }
  const iatMs = iat * 1000;
  const age = x.now.getTime() - iatMs;
  // iat has one-second resolution: a proof made just now may read up to 999 ms old.
  if (age > x.maxAgeMs + 1000) return { ok: false, reason: 'PROOF_STALE', detail: `DPoP proof is ${Math.round(age / 1000)} s old; at most ${x.maxAgeMs / 1000} s accepted` };
  if (-age > x.futureSkewMs) return { ok: false, reason: 'PROOF_STALE', detail: `DPoP proof iat is ${Math.round(-age / 1000)} s in the future` };
  return { ok: true, jkt: thumbprint(publicKey), jti, publicKey, iatMs };
}

/** RFC 9449 §4.3: compare the URI without query and fragment; scheme and host are case-insensitive (URL does both). */
export function normaliseHtu(uri: string): string {
  try {
    const u = new URL(uri);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return `invalid:${uri}`;
  }
}
