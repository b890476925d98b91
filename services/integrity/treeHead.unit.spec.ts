import { ledgerLeafData, ledgerLeafHash } from './ledgerLeaf';
import { checkTreeHeadSignature, signTreeHead, treeHeadStatement } from './treeHead';
import { tempLedgerKey } from './testFixtures';
import { leafHash } from '../../schema/merkle';

describe('ledger leaves', () => {
  const leaf = { leafIndex: 7, eventId: 'evt_1', eventHash: 'ab'.repeat(32), rawSha256: 'cd'.repeat(32) };

  it('are the JCS form of {v, leafIndex, eventId, eventHash, rawSha256}, hashed the RFC 6962 way', () => {
    expect(new TextDecoder().decode(ledgerLeafData(leaf))).toBe(
      `{"eventHash":"${'ab'.repeat(32)}","eventId":"evt_1","leafIndex":7,"rawSha256":"${'cd'.repeat(32)}","v":1}`,
    );
    expect(Buffer.from(ledgerLeafHash(leaf)).equals(Buffer.from(leafHash(ledgerLeafData(leaf))))).toBe(true);
  });

  it('change with every field, the index included', () => {
    const h = Buffer.from(ledgerLeafHash(leaf)).toString('hex');
    for (const changed of [{ leafIndex: 8 }, { eventId: 'evt_2' }, { eventHash: 'ac'.repeat(32) }, { rawSha256: 'ce'.repeat(32) }]) {
      expect(Buffer.from(ledgerLeafHash({ ...leaf, ...changed })).toString('hex')).not.toBe(h);
    }
  });
});

describe('signed tree heads', () => {
  const key = tempLedgerKey();
  const body = { logId: 'il-log:1', treeSize: 10, rootHash: 'ef'.repeat(32), timestamp: '2026-01-02T03:04:05.678Z' };

  it('sign the JCS form of {v, type, logId, treeSize, rootHash, timestamp}', () => {
    expect(new TextDecoder().decode(treeHeadStatement(body))).toBe(
      `{"logId":"il-log:1","rootHash":"${'ef'.repeat(32)}","timestamp":"2026-01-02T03:04:05.678Z","treeSize":10,"type":"intent-ledger/tree-head","v":1}`,
    );
    const head = signTreeHead(body, key);
    expect(head.keyId).toBe(key.keyId);
    expect(checkTreeHeadSignature(head, key)).toEqual({ ok: true });
  });

  it('fail on any change to what was signed, and under any other key', () => {
    const head = signTreeHead(body, key);
    for (const changed of [{ treeSize: 11 }, { rootHash: 'ee'.repeat(32) }, { timestamp: '2026-01-02T03:04:05.679Z' }, { logId: 'il-log:2' }]) {
      expect(checkTreeHeadSignature({ ...head, ...changed }, key)).toMatchObject({ ok: false, problem: 'TREE_HEAD_SIG_INVALID' });
    }
    expect(checkTreeHeadSignature({ ...head, signature: head.signature + '=' }, key)).toMatchObject({ ok: false, problem: 'TREE_HEAD_SIG_INVALID' });
    const other = tempLedgerKey();
    expect(checkTreeHeadSignature(head, other)).toMatchObject({ ok: false, problem: 'TREE_HEAD_UNTRUSTED_KEY' });
    // A head re-signed by another key and relabelled with ours still fails.
    const forged = { ...signTreeHead(body, other), keyId: key.keyId };
    expect(checkTreeHeadSignature(forged, key)).toMatchObject({ ok: false, problem: 'TREE_HEAD_SIG_INVALID' });
  });
});
