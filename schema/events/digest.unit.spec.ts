import { createHash } from 'node:crypto';
import { canonicalize } from '../crypto/jcs';
import { envelopeDigests, eventHash, signingBytes } from './digest';

const envelope = {
  v: 1,
  type: 'action.reported',
  eventId: 'evt_01',
  agentId: 'agent-a',
  keyId: 'k1',
  seq: 7,
  prevHash: 'ab'.repeat(32),
  ts: '2026-12-04T10:00:00.123456Z',
  // Keys that sort around the top-level ones, unicode and escapes, to catch a join that is not JCS's.
  payload: { z: [1, 2.5, -0, 1e21], a: 'é\u2028"\\', sig: 'not the envelope sig', 'ts': { b: null, a: true } },
  sig: 'c2ln',
};

describe('envelopeDigests', () => {
  it('gives the same signing bytes and event hash as canonicalizing twice', () => {
    const d = envelopeDigests(envelope);
    expect(Buffer.from(d.signingBytes).toString('utf8')).toBe(Buffer.from(signingBytes(envelope)).toString('utf8'));
    expect(d.eventHash).toBe(eventHash(envelope));
    const { sig: _s, ...unsigned } = envelope;
    expect(Buffer.from(d.signingBytes).toString('utf8')).toBe(canonicalize(unsigned));
    expect(d.eventHash).toBe(createHash('sha256').update(canonicalize(envelope)).digest('hex'));
  });

  it('differs when any member changes', () => {
    const base = envelopeDigests(envelope);
    const other = envelopeDigests({ ...envelope, payload: { ...envelope.payload, a: 'e' } });
    expect(other.eventHash).not.toBe(base.eventHash);
    const resigned = envelopeDigests({ ...envelope, sig: 'c2lo' });
    expect(resigned.eventHash).not.toBe(base.eventHash);
    expect(Buffer.from(resigned.signingBytes).equals(Buffer.from(base.signingBytes))).toBe(true);
  });
});
