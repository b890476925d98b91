/** Just-in-time, proof-of-possession credentials: formats and the pure checks the broker and gateways apply. */
export { jwkFor, thumbprint, publicKeyFromJwk, type Ed25519Jwk } from './jwk';
export { signJws, decodeJws, verifyJws, type Signer } from './jws';
export { createProof, checkProof, accessTokenHash, normaliseHtu, type ProofRequest, type ProofExpectation, type ProofCheck } from './dpopProof';
export { issueAccessToken, checkAccessToken, TOKEN_ISSUER, type CredentialClaims, type TokenCheck } from './accessToken';
export { checkToolCall, type PresentedCall, type CallContext, type CallDecision } from './checkToolCall';
export { ReplayCache } from './replayCache';
