import { encode as b64uEncode, decode as b64uDecode } from '../../schema/crypto/base64url';
import { canonicalize } from '../../schema/crypto/jcs';
import { parseStrictJson } from '../../schema/crypto/strictJson';
import { verify, SIGNATURE_LENGTH, signatureScalarIsCanonical } from '../../schema/crypto/ed25519';

/** Anything that can make an Ed25519 signature: a software key, or a key inside a PKCS#11 token. */
export interface Signer {
  publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

const ascii = new TextEncoder();
/** Headers and claims are small; anything bigger is not one of ours. */
const MAX_PART_BYTES = 8 * 1024;

/** Compact JWS (RFC 7515) with alg EdDSA; header and claims serialised as JCS so equal inputs give equal tokens. */
export function signJws(header: Record<string, unknown>, claims: Record<string, unknown>, signer: Signer): string {
  const input = `${b64uEncode(ascii.encode(canonicalize({ ...header, alg: 'EdDSA' })))}.${b64uEncode(ascii.encode(canonicalize(claims)))}`;
  return `${input}.${b64uEncode(signer.sign(ascii.encode(input)))}`;
}

export type DecodedJws = { header: Record<string, unknown>; claims: Record<string, unknown>; signingInput: Uint8Array; signature: Uint8Array };

/** Splits and parses a compact JWS without checking its signature; a string saying what is wrong otherwise. */
export function decodeJws(token: string): DecodedJws | string {
  if (typeof token !== 'string' || token.length > 3 * MAX_PART_BYTES) return 'not a compact JWS of acceptable size';
  const parts = token.split('.');
  if (parts.length !== 3) return 'a compact JWS has three dot-separated parts';
  try {
    const header = parseStrictJson(b64uDecode(parts[0]!), { maxBytes: MAX_PART_BYTES, maxDepth: 4 });
    const claims = parseStrictJson(b64uDecode(parts[1]!), { maxBytes: MAX_PART_BYTES, maxDepth: 4 });
    const signature = b64uDecode(parts[2]!);
    if (!isObject(header) || !isObject(claims)) return 'JWS header and claims must be JSON objects';
    if (header.alg !== 'EdDSA') return `JWS alg must be EdDSA; got ${JSON.stringify(header.alg)}`;
    if (signature.length !== SIGNATURE_LENGTH || !signatureScalarIsCanonical(signature)) return 'JWS signature is not a canonical Ed25519 signature';
    return { header, claims, signingInput: ascii.encode(`${parts[0]}.${parts[1]}`), signature };
  } catch (e) {
    return `JWS is not well formed: ${(e as Error).message}`;
  }
}

export function verifyJws(d: DecodedJws, publicKey: Uint8Array): boolean {
  return verify(d.signingInput, d.signature, publicKey);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
