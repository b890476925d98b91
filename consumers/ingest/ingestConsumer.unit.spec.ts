import { integrityMessages, noticeMessages, NOTICE_MAX_EVENTS } from './ingestConsumer';
import { noticeEventIds, parseLedgerMessage } from '../reconciler/reconcileNotice';
import { splitSends } from './ingestConsumer';

describe('splitSends', () => {
  const msg = (n: number, tag: string) => ({ key: tag, value: Buffer.alloc(n - tag.length) });

  it('keeps every message, in order per topic, in requests no bigger than the budget unless one message alone is', () => {
    const sends = [
      { topic: 'ledger', messages: [msg(300, 'a'), msg(300, 'b'), msg(300, 'c'), msg(900, 'd')] },
      { topic: 'dlq', messages: [msg(100, 'e'), msg(50, 'f')] },
    ];
    const requests = splitSends(sends, 700);
    expect(requests.map((r) => r.map((t) => `${t.topic}:${t.messages.map((m) => m.key).join('')}`))).toEqual([['ledger:ab'], ['ledger:c'], ['ledger:d'], ['dlq:ef']]);
    expect(requests.flat().flatMap((t) => t.messages.map((m) => m.key))).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('sends everything in one request when it fits, and nothing when there is nothing', () => {
    expect(splitSends([{ topic: 't', messages: [msg(10, 'a')] }, { topic: 'u', messages: [msg(10, 'b')] }], 100)).toHaveLength(1);
    expect(splitSends([], 100)).toEqual([]);
  });
});

describe('noticeMessages', () => {
  const n = (agentId: string, leaf: number) => ({ leafIndex: String(leaf), eventId: `evt_${leaf}`, agentId, keyId: 'k', seq: leaf, type: 'action.reported', ts: '2026-01-01T00:00:00.000Z', producedAt: '2026-01-01T00:00:00.000Z' });

  it('sends one message per agent, keyed by the agent, with its events in ledger order, which the reconciler reads back', () => {
    const msgs = noticeMessages([n('a', 1), n('b', 2), n('a', 3), n('c', 4), n('b', 5)]);
    expect(msgs.map((m) => m.key)).toEqual(['a', 'b', 'c']);
    expect(msgs.map((m) => noticeEventIds(Buffer.from(m.value as string)))).toEqual([['evt_1', 'evt_3'], ['evt_2', 'evt_5'], ['evt_4']]);
  });

  it('reads anything else on the ledger topic as no notice', () => {
    for (const v of ['not json', '{}', '{"events":[]}', '{"events":[{"eventId":7}]}', '{"events":[null]}', '{"eventId":"evt_1"}', `{"events":[{"eventId":"${'x'.repeat(129)}"}]}`]) {
      expect(noticeEventIds(Buffer.from(v))).toBeNull();
    }
    expect(noticeEventIds(null)).toBeNull();
  });
});

describe('noticeMessages for a busy agent', () => {
  it('splits one agent\'s events into notices of at most NOTICE_MAX_EVENTS, in order', () => {
    const events = Array.from({ length: NOTICE_MAX_EVENTS * 2 + 3 }, (_, i) => ({ leafIndex: String(i), eventId: `evt_${i}`, agentId: 'a', keyId: 'k', seq: i + 1, type: 'action.reported', ts: 't', producedAt: 'p' }));
    const msgs = noticeMessages(events);
    expect(msgs.map((m) => noticeEventIds(Buffer.from(m.value as string))!.length)).toEqual([NOTICE_MAX_EVENTS, NOTICE_MAX_EVENTS, 3]);
    expect(msgs.flatMap((m) => noticeEventIds(Buffer.from(m.value as string))!)).toEqual(events.map((e) => e.eventId));
    expect(Math.max(...msgs.map((m) => Buffer.byteLength(m.value as string)))).toBeLessThan(128 * 1024);
  });
});

describe('integrityMessages', () => {
  it('sends one message per agent with the ids of its new findings, which the reconciler reads back (and nothing else)', () => {
    const msgs = integrityMessages([{ id: '7', agentId: 'a' }, { id: '8', agentId: 'b' }, { id: '9', agentId: 'a' }]);
    expect(msgs.map((m) => [m.key, parseLedgerMessage(Buffer.from(m.value as string))])).toEqual([
      ['a', { eventIds: [], integrityIds: ['7', '9'] }],
      ['b', { eventIds: [], integrityIds: ['8'] }],
    ]);
    expect(noticeEventIds(Buffer.from(msgs[0]!.value as string))).toBeNull();
  });

  it('refuses an integrity message whose ids are not finding ids', () => {
    expect(parseLedgerMessage(Buffer.from(JSON.stringify({ v: 1, integrity: ['1; DROP TABLE'] })))).toBeNull();
    expect(parseLedgerMessage(Buffer.from(JSON.stringify({ v: 1, integrity: [] })))).toBeNull();
    expect(parseLedgerMessage(Buffer.from(JSON.stringify({ v: 1, integrity: [7] })))).toBeNull();
  });
});
