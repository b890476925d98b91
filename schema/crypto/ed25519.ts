/**
 * Ed25519 for the ledger. Agents sign with tweetnacl (pure JS, the same in every SDK runtime); the ledger verifies
 * with Node's OpenSSL, which is several times faster and, unlike tweetnacl, enforces S < L (RFC 8032 §5.1.7), so a
 * signature cannot be rewritten as S + L and still verify. Keys are vetted once, at registration, by checkPublicKey.
 */
import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';

export type Ed25519ErrorCode = 'NOT_BYTES' | 'BAD_SEED_LENGTH' | 'BAD_SECRET_KEY_LENGTH';

/** Thrown by the signing side for misuse (wrong types or lengths); verify never throws. */
export class Ed25519Error extends Error {
  override readonly name = 'Ed25519Error';
  constructor(
    readonly code: Ed25519ErrorCode,
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

export const PUBLIC_KEY_LENGTH = 32;
/** tweetnacl/libsodium form: the 32-byte RFC 8032 seed followed by the 32-byte public key. */
export const SECRET_KEY_LENGTH = 64;
export const SEED_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** A fresh key pair from the OS CSPRNG (tweetnacl uses crypto.randomBytes under Node). */
export function generateKeyPair(): KeyPair {
  const kp = nacl.sign.keyPair();
  return { publicKey: kp.publicKey, secretKey: kp.secretKey };
}

/** The key pair an RFC 8032 32-byte private key (seed) determines; used to reload a stored agent key. */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  assertBytes(seed, 'seed');
  if (seed.length !== SEED_LENGTH) throw new Ed25519Error('BAD_SEED_LENGTH', `seed must be ${SEED_LENGTH} bytes, got ${seed.length}`);
  const kp = nacl.sign.keyPair.fromSeed(seed);
  return { publicKey: kp.publicKey, secretKey: kp.secretKey };
}

/**
 * Detached Ed25519 signature (64 bytes, R || S) with a 64-byte tweetnacl secret key. The second half of the secret
 * key is trusted to be the matching public key, as tweetnacl does: only build secret keys via this module.
 */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  assertBytes(message, 'message');
  assertBytes(secretKey, 'secretKey');
  if (secretKey.length !== SECRET_KEY_LENGTH) {
    throw new Ed25519Error('BAD_SECRET_KEY_LENGTH', `secretKey must be ${SECRET_KEY_LENGTH} bytes (seed || publicKey), got ${secretKey.length}`);
  }
  return nacl.sign.detached(message, secretKey);
}

/** RFC 8410 SubjectPublicKeyInfo header for an Ed25519 key; the 32 raw key bytes follow it. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const CACHE_LIMIT = 10_000;
/** Imported keys by raw bytes; null marks a key checkPublicKey refused. Map order doubles as LRU order. */
const keyCache = new Map<string, KeyObject | null>();

/**
 * True only for a valid signature by `publicKey` over `message`. Never throws: wrong types or lengths, undecodable
 * points, S >= L, and keys that checkPublicKey refuses (small order, non-canonical) all give false.
 */
export function verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    if (!(message instanceof Uint8Array) || !(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
    if (signature.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
    const key = keyObjectFor(publicKey);
    return key !== null && nodeVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

function keyObjectFor(publicKey: Uint8Array): KeyObject | null {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1');
  const hit = keyCache.get(id);
  if (hit !== undefined) {
    keyCache.delete(id);
    keyCache.set(id, hit);
    return hit;
  }
  // Refusing weak keys here too means a registry bug cannot let a small-order key "sign" arbitrary messages.
  const key = checkPublicKey(publicKey) === null ? createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' }) : null;
  if (keyCache.size >= CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value as string);
  keyCache.set(id, key);
  return key;
}

/** The order L of the Ed25519 base point (RFC 8032 §5.1). */
export const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

/**
 * Whether the S half of a 64-byte signature is reduced (S < L), as RFC 8032 §5.1.7 requires. verify() already
 * refuses S >= L; this only lets a caller say why, since S + L is how a valid signature is malleated.
 */
export function signatureScalarIsCanonical(signature: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
  let s = 0n;
  for (let i = SIGNATURE_LENGTH - 1; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]);
  return s < GROUP_ORDER;
}

export type PublicKeyProblem = 'KEY_BAD_LENGTH' | 'KEY_NOT_ON_CURVE' | 'KEY_NON_CANONICAL' | 'KEY_SMALL_ORDER';

/**
 * Why a public key must be refused at registration, or null if it is acceptable. Verifiers disagree on
 * non-canonical encodings, and a small-order key lets anyone produce signatures that verify for it, so both are
 * refused outright. Mixed-order keys (small-order component plus a prime-order one) are not detected here.
 */
export function checkPublicKey(publicKey: Uint8Array): PublicKeyProblem | null {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return 'KEY_BAD_LENGTH';
  const point = decodePoint(publicKey);
  if (typeof point === 'string') return point;
  // [8]P is the identity exactly when P's order divides the cofactor 8.
  let q: Projective = { X: point.x, Y: point.y, Z: 1n };
  for (let i = 0; i < 3; i++) q = double(q);
  return q.X === 0n && q.Y === q.Z ? 'KEY_SMALL_ORDER' : null;
}

// --- Curve arithmetic (RFC 8032 §5.1) with BigInt: slow, but it runs once per key. ---

const P = 2n ** 255n - 19n;
const D = mod(-121665n * inverse(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

interface Point {
  x: bigint;
  y: bigint;
}

/** RFC 8032 §5.1.3 point decoding, with the encoding problems told apart. */
function decodePoint(bytes: Uint8Array): Point | 'KEY_NOT_ON_CURVE' | 'KEY_NON_CANONICAL' {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(bytes[i]);
  const sign = y >> 255n;
  y &= (1n << 255n) - 1n;
  if (y >= P) return 'KEY_NON_CANONICAL';
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
  const vxx = mod(v * x * x);
  if (vxx === mod(-u)) x = mod(x * SQRT_M1);
  else if (vxx !== u) return 'KEY_NOT_ON_CURVE';
  // x = 0 has no negative: a set sign bit there is a second spelling of (0, y), refused as RFC 8032 refuses it.
  if (x === 0n && sign === 1n) return 'KEY_NON_CANONICAL';
  if ((x & 1n) !== sign) x = P - x;
  return { x, y };
}

/** Projective (X : Y : Z) stands for the affine point (X/Z, Y/Z); it lets doubling skip field inversions. */
interface Projective {
  X: bigint;
  Y: bigint;
  Z: bigint;
}

/** RFC 8032 §5.1.4 point doubling (it does not need the extended coordinate T). */
function double({ X, Y, Z }: Projective): Projective {
  const A = mod(X * X);
  const B = mod(Y * Y);
  const C = mod(2n * Z * Z);
  const H = A + B;
  const E = mod(H - (X + Y) * (X + Y));
  const G = mod(A - B);
  const F = mod(C + G);
  return { X: mod(E * F), Y: mod(G * H), Z: mod(F * G) };
}

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = mod(result * b);
    b = mod(b * b);
  }
  return result;
}

/** Fermat inverse; only used for the curve constant d. */
function inverse(a: bigint): bigint {
  return pow(a, P - 2n);
}

function assertBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new Ed25519Error('NOT_BYTES', `${what} must be a Uint8Array`);
}
