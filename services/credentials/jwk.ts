import { createHash } from 'node:crypto';
import { encode as b64uEncode, decode as b64uDecode } from '../../schema/crypto/base64url';
import { canonicalize } from '../../schema/crypto/jcs';
import { checkPublicKey, PUBLIC_KEY_LENGTH } from '../../schema/crypto/ed25519';

/** An Ed25519 public key as a JWK (RFC 8037): the only key type our proofs and tokens use. */
export interface Ed25519Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
}

export function jwkFor(publicKey: Uint8Array): Ed25519Jwk {
  return { kty: 'OKP', crv: 'Ed25519', x: b64uEncode(publicKey) };
}

/**
 * RFC 7638 thumbprint (SHA-256, base64url) of an Ed25519 key: the hash of its required members in lexicographic
 * order with no whitespace, which is exactly their JCS form. The credential names its key by this value (`cnf.jkt`).
 */
export function thumbprint(publicKey: Uint8Array): string {
  return createHash('sha256').update(canonicalize(jwkFor(publicKey))).digest('base64url');
}

/**
 * The raw public key of a JWK that is an acceptable Ed25519 public key, or a sentence saying why not. A JWK carrying
 * a private part (`d`) is refused: a proof that ships its private key proves nothing.
 */
export function publicKeyFromJwk(jwk: unknown): Uint8Array | string {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) return 'jwk is not an object';
  const j = jwk as Record<string, unknown>;
  if ('d' in j) return 'jwk contains a private key';
  if (j.kty !== 'OKP' || j.crv !== 'Ed25519') return `jwk must be kty OKP, crv Ed25519; got ${String(j.kty)}/${String(j.crv)}`;
  if (typeof j.x !== 'string') return 'jwk has no x';
  let x: Uint8Array;
  try {
    x = b64uDecode(j.x);
  } catch (e) {
    return `jwk x is not base64url: ${(e as Error).message}`;
  }
  if (x.length !== PUBLIC_KEY_LENGTH) return `jwk x is ${x.length} bytes, not ${PUBLIC_KEY_LENGTH}`;
  const problem = checkPublicKey(x);
  return problem ? `jwk x is not an acceptable Ed25519 key: ${problem}` : x;
}
