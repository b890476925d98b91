import { createHash } from 'node:crypto';
import { checkLedgerRow, type StoredLedgerRow } from './checkLedgerRow';
import { signedEvents } from './testFixtures';
import { eventHash } from '../../schema/events';
import type { RegisteredKey } from '../../consumers/ingest/verifyEnvelope';

describe('checkLedgerRow', () => {
  const { key, events } = signedEvents(2);
  const ev = events[1]!;
  const registered: RegisteredKey = { keyId: key.keyId, agentId: key.agentId, publicKey: key.publicKey, status: 'active' };
  const row: StoredLedgerRow = {
    leafIndex: 0, position: 1n, eventId: ev.envelope.eventId, agentId: ev.envelope.agentId, keyId: ev.envelope.keyId, seq: ev.envelope.seq,
    type: ev.envelope.type, prevHash: ev.envelope.prevHash, eventHash: ev.hash, ts: new Date(ev.envelope.ts), payload: JSON.parse(JSON.stringify(ev.envelope.payload)),
    signature: ev.envelope.sig, raw: ev.bytes, rawSha256: createHash('sha256').update(ev.bytes).digest(),
  };

  it('accepts a row as ingest wrote it, also once its key is retired', () => {
    expect(checkLedgerRow(row, registered)).toEqual({ ok: true });
    expect(checkLedgerRow(row, { ...registered, status: 'retired' })).toEqual({ ok: true });
  });

  it('names each kind of edit', () => {
    const edited = (e: Partial<StoredLedgerRow>) => checkLedgerRow({ ...row, ...e }, registered);
    expect(edited({ payload: { intentId: 'int_1', outcome: 'failed' } })).toMatchObject({ ok: false, code: 'COLUMN_MISMATCH', detail: 'payload differs from the signed raw event' });
    expect(edited({ seq: 7, ts: new Date(0) })).toMatchObject({ ok: false, code: 'COLUMN_MISMATCH', detail: 'seq, ts differ from the signed raw event' });
    const raw = Buffer.from(ev.bytes.toString('utf8').replace('completed', 'abandoned'));
    expect(edited({ raw })).toMatchObject({ ok: false, code: 'RAW_DIGEST_MISMATCH' });
    const rawSha256 = createHash('sha256').update(raw).digest();
    expect(edited({ raw, rawSha256 })).toMatchObject({ ok: false, code: 'EVENT_HASH_MISMATCH' });
    const forged = JSON.parse(raw.toString('utf8'));
    expect(edited({ raw, rawSha256, eventHash: eventHash(forged), payload: forged.payload })).toMatchObject({ ok: false, code: 'SIG_INVALID' });
    const junk = Buffer.from('{"v":1}');
    expect(edited({ raw: junk, rawSha256: createHash('sha256').update(junk).digest() })).toMatchObject({ ok: false, code: 'RAW_INVALID' });
  });

  it('names a missing key or one of another agent', () => {
    expect(checkLedgerRow(row, undefined)).toMatchObject({ ok: false, code: 'UNKNOWN_KEY' });
    expect(checkLedgerRow(row, { ...registered, agentId: 'someone-else' })).toMatchObject({ ok: false, code: 'KEY_AGENT_MISMATCH' });
  });
});
