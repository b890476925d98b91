import { createHash } from 'node:crypto';
import { canonicalize } from '../crypto/jcs';
import type { Envelope, UnsignedEnvelope } from './envelope';

const utf8 = new TextEncoder();

/** The bytes an agent signs: the JCS form of the envelope without `sig`. */
export function signingBytes(unsigned: UnsignedEnvelope | Omit<Record<string, unknown>, 'sig'>): Uint8Array {
  const { sig: _ignored, ...rest } = unsigned as Record<string, unknown>;
  return utf8.encode(canonicalize(rest));
}

/** The link in the agent's hash chain: SHA-256 of the whole envelope's JCS form, signature included. */
export function eventHash(envelope: Envelope | Record<string, unknown>): string {
  return createHash('sha256').update(canonicalize(envelope)).digest('hex');
}

/** Digest of tool-call arguments, so an action can be ledgered without its (possibly sensitive) arguments. */
export function argsDigest(args: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalize(args)).digest('hex');
}
