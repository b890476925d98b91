import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import nacl from 'tweetnacl';
import { decode, encode } from './base64url';
import { checkPublicKey, Ed25519Error, generateKeyPair, keyPairFromSeed, sign, verify } from './ed25519';

const VECTORS = path.join(__dirname, '../../test/fixtures/vectors');
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

interface Rfc8032Test {
  name: string;
  secretKey: string;
  publicKey: string;
  message: string;
  signature: string;
  naclSecretKey64: string;
  publicKeyBase64url: string;
  signatureBase64: string;
  signatureBase64url: string;
}
interface WycheproofTest {
  tcId: number;
  result: 'valid' | 'invalid' | 'acceptable';
  flags: string[];
  comment: string;
  publicKey: string;
  msg: string;
  sig: string;
  observed: Record<string, string>;
}

const rfc8032 = JSON.parse(readFileSync(path.join(VECTORS, 'rfc8032.json'), 'utf8')) as { tests: Rfc8032Test[] };
const wycheproof = JSON.parse(readFileSync(path.join(VECTORS, 'wycheproof-ed25519-subset.json'), 'utf8')) as {
  numberOfTests: number;
  tests: WycheproofTest[];
};

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3] ^= 1 << (bit & 7);
  return out;
}

describe('RFC 8032 §7.1 test vectors', () => {
  it('has the five Ed25519 tests', () => {
    expect(rfc8032.tests.map((t) => t.name)).toEqual(['TEST 1', 'TEST 2', 'TEST 3', 'TEST 1024', 'TEST SHA(abc)']);
  });

  describe.each(rfc8032.tests.map((t) => [t.name, t] as const))('%s', (_name, t) => {
    const message = hex(t.message);
    const signature = hex(t.signature);
    const publicKey = hex(t.publicKey);

    it('derives the public key and the tweetnacl secret key from the seed', () => {
      const kp = keyPairFromSeed(hex(t.secretKey));
      expect(toHex(kp.publicKey)).toBe(t.publicKey);
      expect(toHex(kp.secretKey)).toBe(t.naclSecretKey64);
    });

    it('signs to exactly the expected signature with tweetnacl', () => {
      expect(toHex(sign(message, hex(t.naclSecretKey64)))).toBe(t.signature);
    });

    it('verifies', () => {
      expect(verify(message, signature, publicKey)).toBe(true);
    });

    it('rejects a tampered message, signature or key', () => {
      const longer = new Uint8Array([...message, 0]);
      expect(verify(longer, signature, publicKey)).toBe(false);
      if (message.length > 0) {
        expect(verify(flipBit(message, 0), signature, publicKey)).toBe(false);
        expect(verify(message.subarray(0, message.length - 1), signature, publicKey)).toBe(false);
      }
      for (const bit of [0, 100, 255, 256, 300, 511]) expect(verify(message, flipBit(signature, bit), publicKey)).toBe(false);
      expect(verify(message, signature, flipBit(publicKey, 0))).toBe(false);
    });

    it('has base64url fields that are our encodings, and a base64 field our decoder refuses', () => {
      expect(encode(publicKey)).toBe(t.publicKeyBase64url);
      expect(encode(signature)).toBe(t.signatureBase64url);
      expect(decode(t.signatureBase64url)).toEqual(signature);
      expect(() => decode(t.signatureBase64)).toThrow(); // '=' padding (and sometimes '+' or '/')
    });
  });

  it('TEST SHA(abc) signs SHA-512("abc") itself', () => {
    const t = rfc8032.tests.find((x) => x.name === 'TEST SHA(abc)') as Rfc8032Test;
    expect(t.message).toBe(createHash('sha512').update('abc').digest('hex'));
  });
});

describe('Wycheproof Ed25519 subset', () => {
  it('has all the tests it declares, and only valid/invalid results', () => {
    expect(wycheproof.tests.length).toBe(wycheproof.numberOfTests);
    // Upstream uses "acceptable" for legitimately implementation-defined cases; this subset has none. If one is
    // added, the test below only requires that verify does not throw and treats it as "invalid" (we are strict).
    expect(new Set(wycheproof.tests.map((t) => t.result))).toEqual(new Set(['valid', 'invalid']));
  });

  it.each(wycheproof.tests.map((t) => [t.tcId, t.result, t.comment || t.flags.join(','), t] as const))(
    'tcId %i is %s (%s)',
    (_id, result, _comment, t) => {
      let outcome: boolean | undefined;
      expect(() => {
        outcome = verify(hex(t.msg), hex(t.sig), hex(t.publicKey));
      }).not.toThrow();
      expect(outcome).toBe(result === 'valid');
    },
  );

  it('agrees with what the file records for Node 20 crypto.verify', () => {
    for (const t of wycheproof.tests) {
      const observed = t.observed['node20-crypto.verify(openssl-3.0.19)'];
      expect(observed === 'accept').toBe(verify(hex(t.msg), hex(t.sig), hex(t.publicKey)));
    }
  });

  // Why verification is not done with tweetnacl: it accepts S >= L (malleable signatures) and throws on bad sizes.
  it('reproduces the recorded tweetnacl behaviour, which differs from ours on S + nL and on wrong lengths', () => {
    const differs: number[] = [];
    for (const t of wycheproof.tests) {
      const observed = t.observed['tweetnacl-1.0.3 nacl.sign.detached.verify'];
      let actual: string;
      try {
        actual = nacl.sign.detached.verify(hex(t.msg), hex(t.sig), hex(t.publicKey)) ? 'accept' : 'reject';
      } catch (e) {
        actual = `throws: ${(e as Error).message}`;
      }
      expect(actual).toBe(observed);
      if (actual === 'accept' && t.result !== 'valid') differs.push(t.tcId);
    }
    expect(differs).toEqual([63, 64, 66, 85]);
  });
});

describe('verify', () => {
  const kp = keyPairFromSeed(new Uint8Array(32).fill(7));
  const msg = new TextEncoder().encode('hello ledger');
  const sig = sign(msg, kp.secretKey);

  it('accepts views into larger buffers', () => {
    const buf = new Uint8Array(200);
    buf.set(msg, 3);
    buf.set(sig, 50);
    buf.set(kp.publicKey, 150);
    expect(verify(buf.subarray(3, 3 + msg.length), buf.subarray(50, 114), buf.subarray(150, 182))).toBe(true);
    expect(verify(Buffer.from(msg), Buffer.from(sig), Buffer.from(kp.publicKey))).toBe(true);
  });

  it('never throws, returning false for wrong types and lengths', () => {
    const bad: unknown[] = [undefined, null, 'x', 1, {}, [], new Uint8Array(0), new Uint8Array(31), new Uint8Array(33), new Uint8Array(65)];
    for (const b of bad) {
      expect(verify(msg, b as Uint8Array, kp.publicKey)).toBe(false);
      expect(verify(msg, sig, b as Uint8Array)).toBe(false);
    }
    expect(verify(undefined as unknown as Uint8Array, sig, kp.publicKey)).toBe(false);
    expect(verify('hello ledger' as unknown as Uint8Array, sig, kp.publicKey)).toBe(false);
    expect(verify(msg, new Uint8Array(64), new Uint8Array(32).fill(0xff))).toBe(false);
  });

  it('returns false for random garbage of the right lengths (and never throws)', () => {
    for (let i = 0; i < 200; i++) {
      expect(verify(nacl.randomBytes(i), nacl.randomBytes(64), nacl.randomBytes(32))).toBe(false);
    }
  });

  it('refuses a small-order key even where OpenSSL alone would accept the "signature"', () => {
    // With A = identity, R = identity and S = 0, [S]B = R + [k]A holds for every message.
    const identity = hex('01'.padEnd(64, '0'));
    const forged = new Uint8Array(64);
    forged[0] = 1;
    const spki = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), identity]), format: 'der', type: 'spki' });
    expect(nodeVerify(null, msg, spki, forged)).toBe(true);
    expect(verify(msg, forged, identity)).toBe(false);
  });

  it('gives the same answer on repeated (cached) calls', () => {
    for (let i = 0; i < 3; i++) {
      expect(verify(msg, sig, kp.publicKey)).toBe(true);
      expect(verify(msg, flipBit(sig, 3), kp.publicKey)).toBe(false);
    }
  });
});

describe('generateKeyPair / keyPairFromSeed / sign', () => {
  it('generates distinct, working tweetnacl key pairs', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    expect(a.publicKey.length).toBe(32);
    expect(a.secretKey.length).toBe(64);
    expect(toHex(a.secretKey.subarray(32))).toBe(toHex(a.publicKey));
    expect(toHex(a.publicKey)).not.toBe(toHex(b.publicKey));
    expect(toHex(keyPairFromSeed(a.secretKey.subarray(0, 32)).publicKey)).toBe(toHex(a.publicKey));
    const m = new Uint8Array([1, 2, 3]);
    expect(verify(m, sign(m, a.secretKey), a.publicKey)).toBe(true);
    expect(verify(m, sign(m, a.secretKey), b.publicKey)).toBe(false);
  });

  it('refuses wrong lengths and types with typed errors', () => {
    const code = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        if (e instanceof Ed25519Error) return e.code;
        throw e;
      }
      throw new Error('expected an error');
    };
    expect(code(() => keyPairFromSeed(new Uint8Array(31)))).toBe('BAD_SEED_LENGTH');
    expect(code(() => keyPairFromSeed(new Uint8Array(64)))).toBe('BAD_SEED_LENGTH');
    expect(code(() => keyPairFromSeed('seed' as unknown as Uint8Array))).toBe('NOT_BYTES');
    expect(code(() => sign(new Uint8Array(1), new Uint8Array(32)))).toBe('BAD_SECRET_KEY_LENGTH');
    expect(code(() => sign('m' as unknown as Uint8Array, new Uint8Array(64)))).toBe('NOT_BYTES');
  });
});

describe('checkPublicKey', () => {
  const P = 2n ** 255n - 19n;
  const encode32 = (y: bigint, sign: 0 | 1): Uint8Array => {
    const out = new Uint8Array(32);
    let v = y | (BigInt(sign) << 255n);
    for (let i = 0; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
    return out;
  };

  // The eight points of order 1, 2, 4 and 8, canonically encoded (libsodium's blocklist plus sign-bit variants).
  const smallOrder = [
    '0100000000000000000000000000000000000000000000000000000000000000', // identity, order 1
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // (0, -1), order 2
    '0000000000000000000000000000000000000000000000000000000000000000', // (±sqrt(-1), 0), order 4
    '0000000000000000000000000000000000000000000000000000000000000080',
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  ];

  // Other spellings of small-order points: sign bit on x = 0, or y >= p.
  const nonCanonicalSmallOrder = [
    '0100000000000000000000000000000000000000000000000000000000000080', // identity with "-0" x
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // (0, -1) with "-0" x
    'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p, i.e. 0
    'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1, i.e. 1
    'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  ];

  it.each(smallOrder)('refuses small-order point %s', (h) => {
    expect(checkPublicKey(hex(h))).toBe('KEY_SMALL_ORDER');
  });

  it.each(nonCanonicalSmallOrder)('refuses non-canonical small-order encoding %s', (h) => {
    expect(checkPublicKey(hex(h))).toBe('KEY_NON_CANONICAL');
  });

  it('refuses every encoding with y >= p, with either sign bit', () => {
    for (let y = P; y < 2n ** 255n; y++) {
      expect(checkPublicKey(encode32(y, 0))).toBe('KEY_NON_CANONICAL');
      expect(checkPublicKey(encode32(y, 1))).toBe('KEY_NON_CANONICAL');
    }
  });

  it('tells on-curve from off-curve y values exactly as Euler’s criterion does', () => {
    const powMod = (b: bigint, e: bigint): bigint => {
      let r = 1n;
      for (b %= P; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P;
      return r;
    };
    const d = (((-121665n * powMod(121666n, P - 2n)) % P) + P) % P;
    let onCurve = 0;
    let offCurve = 0;
    for (let y = 2n; y < 60n; y++) {
      const x2 = (((y * y - 1n) % P) * powMod(d * y * y + 1n, P - 2n)) % P;
      const isSquare = powMod(x2, (P - 1n) / 2n) === 1n;
      for (const s of [0, 1] as const) expect(checkPublicKey(encode32(y, s))).toBe(isSquare ? null : 'KEY_NOT_ON_CURVE');
      if (isSquare) onCurve++;
      else offCurve++;
    }
    expect(onCurve).toBeGreaterThan(5);
    expect(offCurve).toBeGreaterThan(5);
  });

  it('accepts the RFC 8032 and Wycheproof keys and freshly generated ones', () => {
    for (const t of rfc8032.tests) expect(checkPublicKey(hex(t.publicKey))).toBeNull();
    for (const t of wycheproof.tests) expect(checkPublicKey(hex(t.publicKey))).toBeNull();
    for (let i = 0; i < 20; i++) expect(checkPublicKey(generateKeyPair().publicKey)).toBeNull();
  });

  it('refuses wrong lengths and non-bytes', () => {
    expect(checkPublicKey(new Uint8Array(31))).toBe('KEY_BAD_LENGTH');
    expect(checkPublicKey(new Uint8Array(33))).toBe('KEY_BAD_LENGTH');
    expect(checkPublicKey(new Uint8Array(0))).toBe('KEY_BAD_LENGTH');
    expect(checkPublicKey('key' as unknown as Uint8Array)).toBe('KEY_BAD_LENGTH');
  });

  it('makes verify refuse every small-order and non-canonical key', () => {
    for (const h of [...smallOrder, ...nonCanonicalSmallOrder]) {
      const forged = new Uint8Array(64);
      forged.set(hex(h).subarray(0, 32), 0);
      expect(verify(new Uint8Array([1]), forged, hex(h))).toBe(false);
    }
  });
});
