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
