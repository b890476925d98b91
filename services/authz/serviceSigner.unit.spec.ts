import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lockSigner } from './serviceSigner';
import { IntentLedgerError } from '../common/errors';

describe('one signer per key file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'il-signer-'));

  it('refuses a key file another live process signs with, naming it', () => {
    const key = path.join(dir, 'busy.json');
    writeFileSync(`${key}.lock`, String(process.ppid)); // the test runner's parent: alive
    let err: unknown;
    try {
      lockSigner(key);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IntentLedgerError);
    expect((err as IntentLedgerError).code).toBe('SIGNER_IN_USE');
    expect((err as Error).message).toContain(`in use by process ${process.ppid}`);
  });

  it('takes over a lock left by a process that is gone, and lets this process open its signer again', () => {
    const key = path.join(dir, 'stale.json');
    writeFileSync(`${key}.lock`, '2147483646');
    lockSigner(key);
    expect(readFileSync(`${key}.lock`, 'utf8')).toBe(String(process.pid));
    expect(() => lockSigner(key)).not.toThrow();
  });
});
