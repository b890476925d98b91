import { chmodSync, closeSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { checkPublicKey, generateKeyPair, keyPairFromSeed, sign } from '../../schema/crypto/ed25519';
import { decode as b64uDecode, encode as b64uEncode } from '../../schema/crypto/base64url';
import { keyIdFor } from '../sdk';
import { IntegrityError } from './errors';

/** A ledger public key as auditors pin it. */
export interface LedgerPublicKey {
  keyId: string;
  publicKey: Uint8Array;
}

/** The ledger's own signing key. Its secret half never enters the database, so rows cannot be re-signed there. */
export interface LedgerSigningKey extends LedgerPublicKey {
  file: string;
  sign(message: Uint8Array): Uint8Array;
}

const USE = 'intent-ledger tree heads';

interface KeyFile {
  v: 1;
  use: string;
  keyId: string;
  publicKey: string;
  seed: string;
}

/**
 * Loads the ledger key from `file`, creating it on first use: mode 0600 in a 0700 directory, written to a
 * temporary file and linked into place, so two processes starting at once end up with the same key.
 */
export function loadOrCreateLedgerKey(file: string): LedgerSigningKey {
  const existing = tryRead(file);
  if (existing !== null) return fromKeyFile(file, existing);
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const kp = generateKeyPair();
  const body: KeyFile = { v: 1, use: USE, keyId: keyIdFor(kp.publicKey), publicKey: b64uEncode(kp.publicKey), seed: b64uEncode(kp.secretKey.slice(0, 32)) };
  const tmp = path.join(dir, `.ledger-key.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(body, null, 2) + '\n');
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600); // the umask may have narrowed it further, never widened it; make it exact
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(tmp);
  }
  return fromKeyFile(file, tryRead(file)!);
}

/** The public half of the key file, without creating it; null when there is no key file. */
export function readLedgerPublicKey(file: string): LedgerPublicKey | null {
  const text = tryRead(file);
  if (text === null) return null;
  const k = fromKeyFile(file, text);
  return { keyId: k.keyId, publicKey: k.publicKey };
}

/** A pinned public key given as unpadded base64url, refused unless it is a usable Ed25519 key. */
export function ledgerPublicKeyFrom(text: string): LedgerPublicKey {
  let publicKey: Uint8Array;
  try {
    publicKey = b64uDecode(text.trim());
  } catch (e) {
    throw new IntegrityError('PUBLIC_KEY_INVALID', `ledger public key is not unpadded base64url: ${(e as Error).message}`);
  }
  const problem = checkPublicKey(publicKey);
  if (problem) throw new IntegrityError('PUBLIC_KEY_INVALID', `ledger public key refused: ${problem}`);
  return { keyId: keyIdFor(publicKey), publicKey };
}

function tryRead(file: string): string | null {
  try {
    const st = statSync(file);
    // Like ssh with its private keys: a key others can read is not the ledger's alone.
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new IntegrityError('KEY_FILE_PERMISSIONS', `ledger key file ${file} is accessible to group or others (mode ${(st.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\``);
    }
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function fromKeyFile(file: string, text: string): LedgerSigningKey {
  const bad = (why: string) => new IntegrityError('KEY_FILE_INVALID', `ledger key file ${file} ${why}`);
  let parsed: Partial<KeyFile>;
  try {
    parsed = JSON.parse(text) as Partial<KeyFile>;
  } catch {
    throw bad('is not JSON');
  }
  if (parsed.v !== 1 || parsed.use !== USE || typeof parsed.seed !== 'string' || typeof parsed.publicKey !== 'string') {
    throw bad(`is not a version 1 "${USE}" key file`);
  }
  let kp;
  try {
    kp = keyPairFromSeed(b64uDecode(parsed.seed));
  } catch (e) {
    throw bad(`has an unusable seed: ${(e as Error).message}`);
  }
  if (b64uEncode(kp.publicKey) !== parsed.publicKey) throw bad('has a public key that does not match its seed');
  const secretKey = kp.secretKey;
  return { file, keyId: keyIdFor(kp.publicKey), publicKey: kp.publicKey, sign: (m) => sign(m, secretKey) };
}
