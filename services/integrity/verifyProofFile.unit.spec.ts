import { verifyProofFile } from './verifyProofFile';
import { proofFor, signedEvents, tempLedgerKey } from './testFixtures';
import type { InclusionProofFile } from './proofFile';

const bytes = (p: unknown) => Buffer.from(JSON.stringify(p));

describe('verifyProofFile (no database)', () => {
  const ledgerKey = tempLedgerKey();
  const trusted = { key: { keyId: ledgerKey.keyId, publicKey: ledgerKey.publicKey }, source: '--public-key' };
  const { events } = signedEvents(13);

  it('accepts the proof of every leaf of a 13-leaf ledger against the pinned key', () => {
    for (let i = 0; i < events.length; i++) {
      expect(verifyProofFile(bytes(proofFor(events, i, ledgerKey)), trusted)).toMatchObject({ ok: true, leafIndex: i, treeSize: 13, trust: '--public-key' });
    }
  });

  it('says when it had only the key inside the file to go on', () => {
    const check = verifyProofFile(bytes(proofFor(events, 3, ledgerKey)), null);
    expect(check).toMatchObject({ ok: true });
    expect(check.trust).toMatch(/inside the proof file \(not pinned/);
  });

  const tampered: Array<[string, (p: InclusionProofFile) => unknown, string]> = [
    ['a flipped audit path entry', (p) => ({ ...p, auditPath: p.auditPath.map((h, i) => (i === 1 ? (h[0] === '0' ? '1' : '0') + h.slice(1) : h)) }), 'INCLUSION_INVALID'],
    ['a dropped audit path entry', (p) => ({ ...p, auditPath: p.auditPath.slice(1) }), 'INCLUSION_INVALID'],
    ['another leaf index', (p) => ({ ...p, leaf: { ...p.leaf, leafIndex: 4 }, leafHash: undefined }), 'PROOF_MALFORMED'],
    ['another leaf index, rehashed', (p) => ({ ...p, leaf: { ...p.leaf, leafIndex: 4 } }), 'LEAF_HASH_MISMATCH'],
    ['a larger tree size', (p) => ({ ...p, treeHead: { ...p.treeHead, treeSize: 14 } }), 'TREE_HEAD_SIG_INVALID'],
    ['another root', (p) => ({ ...p, treeHead: { ...p.treeHead, rootHash: 'ab'.repeat(32) } }), 'TREE_HEAD_SIG_INVALID'],
    ['other event bytes', (p) => ({ ...p, event: { raw: Buffer.from(events[5]!.bytes).toString('base64url') } }), 'EVENT_MISMATCH'],
    ['an unknown field', (p) => ({ ...p, extra: 1 }), 'PROOF_MALFORMED'],
  ];
  it.each(tampered)('refuses %s', (_what, edit, problem) => {
    expect(verifyProofFile(bytes(edit(proofFor(events, 2, ledgerKey))), trusted)).toMatchObject({ ok: false, problem });
  });

  it('refuses a proof whose head another key signed, even one that carries that key', () => {
    const impostor = tempLedgerKey();
    expect(verifyProofFile(bytes(proofFor(events, 2, impostor)), trusted)).toMatchObject({ ok: false, problem: 'TREE_HEAD_UNTRUSTED_KEY' });
    const p = proofFor(events, 2, impostor);
    expect(verifyProofFile(bytes({ ...p, treeHead: { ...p.treeHead, keyId: ledgerKey.keyId } }), trusted)).toMatchObject({ ok: false, problem: 'PROOF_KEY_MISMATCH' });
  });

  it('refuses bytes that are not a proof file', () => {
    expect(verifyProofFile(Buffer.from('nope'), trusted)).toMatchObject({ ok: false, problem: 'PROOF_MALFORMED' });
    expect(verifyProofFile(Buffer.from('{"a":1,"a":2}'), trusted)).toMatchObject({ ok: false, problem: 'PROOF_MALFORMED' });
  });
});
