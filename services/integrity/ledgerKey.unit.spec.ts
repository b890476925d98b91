import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadOrCreateLedgerKey, readLedgerPublicKey, ledgerPublicKeyFrom } from './ledgerKey';
import { IntegrityError } from './errors';
import { ConfigError } from '../common/config';
import { loadIntegrityConfig } from './integrityConfig';
import { resolveTrustedKey } from './trustedKey';
import { encode } from '../../schema/crypto/base64url';
import { verify } from '../../schema/crypto/ed25519';

const dir = () => mkdtempSync(path.join(tmpdir(), 'il-ledger-key-'));
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof IntegrityError || e instanceof ConfigError) return e.code;
    throw e;
  }
  return 'no error';
};

describe('ledger key file', () => {
  it('is created on first use with mode 0600, and the same key is loaded afterwards', () => {
    const file = path.join(dir(), 'sub', 'ledger-key.json');
    expect(readLedgerPublicKey(file)).toBeNull();
    const a = loadOrCreateLedgerKey(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const b = loadOrCreateLedgerKey(file);
    expect(b.keyId).toBe(a.keyId);
    expect(readLedgerPublicKey(file)!.keyId).toBe(a.keyId);
    const m = new TextEncoder().encode('tree head');
    expect(verify(m, b.sign(m), a.publicKey)).toBe(true);
    expect(a.keyId).toMatch(/^ed25519:/);
  });

  it('is refused when group or others can read it, or when it does not hold together', () => {
    const file = path.join(dir(), 'ledger-key.json');
    loadOrCreateLedgerKey(file);
    chmodSync(file, 0o644);
    expect(codeOf(() => loadOrCreateLedgerKey(file))).toBe('KEY_FILE_PERMISSIONS');
    chmodSync(file, 0o600);
    const body = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...body, publicKey: encode(new Uint8Array(32).fill(9)) }), { mode: 0o600 });
    expect(codeOf(() => loadOrCreateLedgerKey(file))).toBe('KEY_FILE_INVALID');
    writeFileSync(file, 'not json', { mode: 0o600 });
    expect(codeOf(() => loadOrCreateLedgerKey(file))).toBe('KEY_FILE_INVALID');
  });

  it('accepts a pinned public key only as canonical base64url of a usable Ed25519 key', () => {
    const k = loadOrCreateLedgerKey(path.join(dir(), 'k.json'));
    expect(ledgerPublicKeyFrom(encode(k.publicKey)).keyId).toBe(k.keyId);
    expect(codeOf(() => ledgerPublicKeyFrom(encode(k.publicKey) + '='))).toBe('PUBLIC_KEY_INVALID');
    expect(codeOf(() => ledgerPublicKeyFrom(encode(new Uint8Array(32))))).toBe('PUBLIC_KEY_INVALID'); // small order
    expect(codeOf(() => ledgerPublicKeyFrom(encode(new Uint8Array(31))))).toBe('PUBLIC_KEY_INVALID');
  });

  it('is trusted from --public-key, then IL_LEDGER_PUBLIC_KEY, then the key file, and never invented', () => {
    const d = dir();
    const fileKey = loadOrCreateLedgerKey(path.join(d, 'ledger-key.json'));
    const other = loadOrCreateLedgerKey(path.join(dir(), 'other.json'));
    const config = loadIntegrityConfig({ IL_CACHE_DIR: d });
    expect(config.keyFile).toBe(path.join(d, 'ledger-key.json'));
    expect(resolveTrustedKey(undefined, config)).toMatchObject({ key: { keyId: fileKey.keyId }, source: `key file ${config.keyFile}` });
    expect(resolveTrustedKey(encode(other.publicKey), config)).toMatchObject({ key: { keyId: other.keyId }, source: '--public-key' });
    const pinned = loadIntegrityConfig({ IL_CACHE_DIR: d, IL_LEDGER_PUBLIC_KEY: encode(other.publicKey) });
    expect(resolveTrustedKey(undefined, pinned)).toMatchObject({ key: { keyId: other.keyId }, source: 'IL_LEDGER_PUBLIC_KEY' });
    expect(resolveTrustedKey(undefined, loadIntegrityConfig({ IL_LEDGER_KEY_FILE: path.join(dir(), 'none.json') }))).toBeNull();
  });

  it('reads its schedule from the environment, refusing nonsense', () => {
    expect(loadIntegrityConfig({})).toMatchObject({ treeHeadEveryN: 1000, treeHeadEveryMs: 5000, trustedPublicKey: null });
    expect(loadIntegrityConfig({ IL_TREE_HEAD_EVERY_N: '10', IL_TREE_HEAD_EVERY_MS: '250' })).toMatchObject({ treeHeadEveryN: 10, treeHeadEveryMs: 250 });
    expect(codeOf(() => loadIntegrityConfig({ IL_TREE_HEAD_EVERY_N: '0' }))).toBe('CONFIG_INVALID');
    expect(codeOf(() => loadIntegrityConfig({ IL_TREE_HEAD_EVERY_MS: '5s' }))).toBe('CONFIG_INVALID');
  });
});
