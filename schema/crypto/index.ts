/** The ledger's cryptographic primitives: canonical JSON, strict JSON parsing, base64url and Ed25519. */
export { canonicalize, CanonicalizationError, type CanonicalizationErrorCode } from './jcs';
export { parseStrictJson, StrictJsonError, type StrictJsonErrorCode, type StrictJsonLimits } from './strictJson';
export { encode as base64urlEncode, decode as base64urlDecode, Base64urlError, type Base64urlErrorCode } from './base64url';
export {
  generateKeyPair,
  keyPairFromSeed,
  sign,
  verify,
  checkPublicKey,
  Ed25519Error,
  type Ed25519ErrorCode,
  type KeyPair,
  type PublicKeyProblem,
  PUBLIC_KEY_LENGTH,
  SECRET_KEY_LENGTH,
  SEED_LENGTH,
  SIGNATURE_LENGTH,
} from './ed25519';
