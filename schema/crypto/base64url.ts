/**
 * Strict unpadded base64url (RFC 4648 §5). Keys and signatures travel inside signed JSON, so each byte string must
 * have exactly one accepted text form: otherwise one signature could be written several ways, and two events that
 * differ only in encoding would hash differently while verifying alike.
 */

export type Base64urlErrorCode = 'NOT_A_STRING' | 'INVALID_CHARACTER' | 'INVALID_LENGTH' | 'NON_CANONICAL';

export class Base64urlError extends Error {
  override readonly name = 'Base64urlError';
  constructor(
    readonly code: Base64urlErrorCode,
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Unpadded base64url of `bytes`. */
export function encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Decodes the canonical unpadded base64url form only: no padding, no '+' or '/', no whitespace, and unused trailing
 * bits must be zero. Node's own decoder skips all of those silently, so the result is re-encoded and compared.
 */
export function decode(text: string): Uint8Array {
  if (typeof text !== 'string') throw new Base64urlError('NOT_A_STRING', `expected a string, got ${typeof text}`);
  if (!ALPHABET.test(text)) {
    const at = text.search(/[^A-Za-z0-9_-]/);
    throw new Base64urlError('INVALID_CHARACTER', `character ${JSON.stringify(text[at])} at index ${at} is not unpadded base64url`);
  }
  // A single leftover character carries 6 bits, less than a byte: no encoder produces it.
  if (text.length % 4 === 1) throw new Base64urlError('INVALID_LENGTH', `length ${text.length} is not a possible base64url length`);
  const buf = Buffer.from(text, 'base64url');
  if (buf.toString('base64url') !== text) {
    throw new Base64urlError('NON_CANONICAL', 'unused trailing bits are not zero (another text encodes the same bytes)');
  }
  // Copy out of Buffer's shared pool so callers own an exact, standalone array.
  return new Uint8Array(buf);
}
