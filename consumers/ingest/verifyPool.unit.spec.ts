import { generateKeyPair, sign } from '../../schema/crypto/ed25519';
import { inlineVerifier, VerifyItem, WorkerVerifier } from './verifyPool';

function items(n: number): { items: VerifyItem[]; expected: boolean[] } {
  const kp = generateKeyPair();
  const out: VerifyItem[] = [];
  const expected: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const msg = new TextEncoder().encode(`message ${i}`);
    const sig = sign(msg, kp.secretKey);
    // Every third is tampered, every seventh has a truncated signature (refused, never thrown).
    if (i % 3 === 0) sig[5]! ^= 1;
    out.push([msg, i % 7 === 0 ? sig.slice(0, 10) : sig, kp.publicKey]);
    expected.push(i % 3 !== 0 && i % 7 !== 0);
  }
  return { items: out, expected };
}

describe('WorkerVerifier', () => {
  // Starting a worker compiles the TypeScript it loads: seconds on a loaded machine, hence the longer timeout.
  it('gives the same answers as verifying inline, in the order of the items, across several workers', async () => {
    const { items: all, expected } = items(101);
    const pool = new WorkerVerifier(2);
    try {
      expect(await pool.verifyMany(all)).toEqual(expected);
      expect(await inlineVerifier.verifyMany(all)).toEqual(expected);
      expect(await pool.verifyMany([])).toEqual([]);
      // Concurrent calls do not mix their answers.
      const [a, b] = await Promise.all([pool.verifyMany(all.slice(0, 50)), pool.verifyMany(all.slice(50))]);
      expect([...a, ...b]).toEqual(expected);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('still answers, inline, after it is closed', async () => {
    const { items: all, expected } = items(10);
    const pool = new WorkerVerifier(1);
    await pool.close();
    expect(await pool.verifyMany(all)).toEqual(expected);
  });
});
