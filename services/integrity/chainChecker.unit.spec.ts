import { ChainChecker } from './chainChecker';

const h = (c: string) => c.repeat(64);
const link = (seq: number, prevHash: string | null, eventHash: string, agentId = 'a') => ({ agentId, eventId: `e${seq}`, seq, prevHash, eventHash });

describe('ChainChecker', () => {
  it('accepts chains that start at seq 1 with a null prevHash and link each event to the last', () => {
    const c = new ChainChecker(() => false);
    expect(c.next(link(1, null, h('1')))).toEqual({ ok: true });
    expect(c.next(link(1, null, h('a'), 'b'))).toEqual({ ok: true });
    expect(c.next(link(2, h('1'), h('2')))).toEqual({ ok: true });
    expect(c.tipsSeen().get('a')).toEqual({ lastSeq: 2, lastHash: h('2') });
  });

  it('names a broken link, a removed event, and events out of order', () => {
    const c = new ChainChecker(() => false);
    c.next(link(1, null, h('1')));
    expect(c.next(link(2, h('9'), h('2')))).toMatchObject({ ok: false, code: 'PREV_HASH_MISMATCH' });
    expect(c.next(link(4, h('3'), h('4')))).toMatchObject({ ok: false, code: 'SEQ_GAP', detail: expect.stringContaining('seq 3 was removed') });
    expect(c.next(link(3, h('2'), h('3')))).toMatchObject({ ok: false, code: 'SEQ_ORDER' });
    expect(new ChainChecker(() => false).next(link(1, h('0'), h('1')))).toMatchObject({ ok: false, code: 'PREV_HASH_MISMATCH' });
  });

  it('lets a jump through only where ingest recorded a SEQ_GAP finding for that very event', () => {
    const c = new ChainChecker((agentId, seq, eventId) => agentId === 'a' && seq === 5 && eventId === 'e5');
    c.next(link(1, null, h('1')));
    expect(c.next(link(5, h('4'), h('5')))).toEqual({ ok: true });
    expect(c.next(link(9, h('8'), h('9')))).toMatchObject({ ok: false, code: 'SEQ_GAP' });
  });

  it('lets an event behind the tip through only where ingest recorded a LATE_EVENT finding for it, keeping the tip', () => {
    const c = new ChainChecker(
      (agentId, seq) => agentId === 'a' && seq === 4,
      (agentId, seq, eventId) => agentId === 'a' && seq === 2 && eventId === 'e2',
    );
    c.next(link(1, null, h('1')));
    c.next(link(4, h('3'), h('4')));
    expect(c.next(link(2, h('1'), h('2')))).toEqual({ ok: true });
    expect(c.next(link(3, h('2'), h('3')))).toMatchObject({ ok: false, code: 'SEQ_ORDER' });
    expect(c.tipsSeen().get('a')).toEqual({ lastSeq: 4, lastHash: h('4') });
  });

  it('checks a late event against what its successor committed to, however many arrive late and in what order', () => {
    const late = (agentId: string, seq: number) => agentId === 'a' && seq < 5;
    const ok = new ChainChecker((_a, seq) => seq === 5, late);
    ok.next(link(1, null, h('1')));
    ok.next(link(5, h('4'), h('5')));
    expect(ok.next(link(4, h('3'), h('4')))).toEqual({ ok: true });
    expect(ok.next(link(2, h('1'), h('2')))).toEqual({ ok: true });
    expect(ok.next(link(3, h('2'), h('3')))).toEqual({ ok: true });
    const swapped = new ChainChecker((_a, seq) => seq === 5, late);
    swapped.next(link(1, null, h('1')));
    swapped.next(link(5, h('4'), h('5')));
    expect(swapped.next(link(4, h('3'), h('e')))).toMatchObject({ ok: false, code: 'PREV_HASH_MISMATCH', detail: expect.stringContaining('substitute') });
    // A second event at a filled seq is not a late event but a duplicate.
    expect(ok.next({ ...link(3, h('2'), h('3')), eventId: 'e3b' })).toMatchObject({ ok: false, code: 'SEQ_ORDER' });
  });
});
