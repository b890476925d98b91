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

/**
 * Both of the above from one canonicalization: each top-level member is canonicalized once and the two forms are
 * joined from the same pieces (JCS sorts members, and dropping one member leaves the others' order as it was).
 * The ledger's hot path needs both for every event.
 */
export function envelopeDigests(envelope: Envelope | Record<string, unknown>): { signingBytes: Uint8Array; eventHash: string } {
  const o = envelope as Record<string, unknown>;
  const full: string[] = [];
  const unsigned: string[] = [];
  for (const k of Object.keys(o).sort()) {
    const member = `${canonicalize(k)}:${canonicalize(o[k])}`;
    full.push(member);
    if (k !== 'sig') unsigned.push(member);
  }
  return {
    signingBytes: utf8.encode(`{${unsigned.join(',')}}`),
    eventHash: createHash('sha256').update(`{${full.join(',')}}`).digest('hex'),
  };
}

/** Digest of tool-call arguments, so an action can be ledgered without its (possibly sensitive) arguments. */
export function argsDigest(args: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalize(args)).digest('hex');
}
