import { decideChain } from './decideChain';

const h = (c: string) => c.repeat(64);

describe('decideChain', () => {
  const head = { lastSeq: 3, lastHash: h('c') };

  it('appends the first event of a chain only with a null prevHash', () => {
    expect(decideChain({ lastSeq: 0, lastHash: '' }, { eventId: 'e1', seq: 1, prevHash: null, hash: h('a') })).toEqual({ kind: 'append' });
    const wrong = decideChain({ lastSeq: 0, lastHash: '' }, { eventId: 'e1', seq: 1, prevHash: h('f'), hash: h('a') });
    expect(wrong.kind === 'reject' && wrong.reason).toBe('PREV_HASH_MISMATCH');
  });

  it('appends the next link when prevHash is the head hash, and rejects any other prevHash', () => {
    expect(decideChain(head, { eventId: 'e4', seq: 4, prevHash: h('c'), hash: h('d') })).toEqual({ kind: 'append' });
    const d = decideChain(head, { eventId: 'e4', seq: 4, prevHash: h('b'), hash: h('d') });
    expect(d.kind === 'reject' && d.reason).toBe('PREV_HASH_MISMATCH');
  });

  it('calls the same event id again a duplicate, whatever its seq', () => {
    const d = decideChain(head, { eventId: 'e2', seq: 4, prevHash: h('c'), hash: h('d') }, { eventId: 'e2', hash: h('b') });
    expect(d.kind === 'reject' && d.reason).toBe('DUPLICATE_EVENT');
  });

  it('calls a different event at a ledgered seq a fork, with a critical finding', () => {
    const d = decideChain(head, { eventId: 'e2x', seq: 2, prevHash: h('a'), hash: h('9') }, undefined, { eventId: 'e2', hash: h('b') });
    expect(d.kind).toBe('reject');
    if (d.kind !== 'reject') return;
    expect(d.reason).toBe('FORK');
    expect(d.finding?.severity).toBe('critical');
  });

  it('calls identical content at a ledgered seq a duplicate', () => {
    const same = decideChain(head, { eventId: 'e2', seq: 2, prevHash: h('a'), hash: h('b') }, undefined, { eventId: 'e2', hash: h('b') });
    expect(same.kind === 'reject' && same.reason).toBe('DUPLICATE_EVENT');
  });

  it('appends an unledgered seq behind the head as a late event with a finding, if it links to the seq before', () => {
    const late = decideChain(head, { eventId: 'e2', seq: 2, prevHash: h('a'), hash: h('b') }, undefined, undefined, { eventId: 'e1', hash: h('a') });
    expect(late.kind).toBe('append');
    expect(late.finding).toMatchObject({ reason: 'LATE_EVENT', severity: 'high', expectedSeq: 4 });
    // The seq before is missing too: nothing to link to yet, still appended.
    expect(decideChain(head, { eventId: 'e2', seq: 2, prevHash: h('a'), hash: h('b') }).finding?.reason).toBe('LATE_EVENT');
    const first = decideChain(head, { eventId: 'e1', seq: 1, prevHash: null, hash: h('1') });
    expect(first.finding?.reason).toBe('LATE_EVENT');
    const badLink = decideChain(head, { eventId: 'e2', seq: 2, prevHash: h('f'), hash: h('b') }, undefined, undefined, { eventId: 'e1', hash: h('a') });
    expect(badLink.kind === 'reject' && badLink.reason).toBe('PREV_HASH_MISMATCH');
    const substitute = decideChain(head, { eventId: 'e2x', seq: 2, prevHash: h('a'), hash: h('c') }, undefined, undefined, { eventId: 'e1', hash: h('a') }, { eventId: 'e3', hash: h('d'), prevHash: h('b') });
    expect(substitute.kind === 'reject' && substitute.reason).toBe('FORK');
    expect(substitute.finding?.severity).toBe('critical');
    const genuine = decideChain(head, { eventId: 'e2', seq: 2, prevHash: h('a'), hash: h('b') }, undefined, undefined, { eventId: 'e1', hash: h('a') }, { eventId: 'e3', hash: h('d'), prevHash: h('b') });
    expect(genuine.finding?.reason).toBe('LATE_EVENT');
    const badFirst = decideChain(head, { eventId: 'e1', seq: 1, prevHash: h('f'), hash: h('1') });
    expect(badFirst.kind === 'reject' && badFirst.reason).toBe('PREV_HASH_MISMATCH');
  });

  it('appends past a gap but records a finding naming the missing range', () => {
    const d = decideChain(head, { eventId: 'e7', seq: 7, prevHash: h('6'), hash: h('7') });
    expect(d.kind).toBe('append');
    expect(d.finding).toEqual({ reason: 'SEQ_GAP', severity: 'high', detail: 'seq jumped from 3 to 7: 3 event(s) missing', expectedSeq: 4 });
  });
});
