import { randomBytes } from 'node:crypto';
import { decode, encode, Base64urlError } from './base64url';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof Base64urlError) return e.code;
    throw e;
  }
  throw new Error('expected an error');
}

describe('base64url', () => {
  it('round-trips every length from 0 to 100 and matches RFC 4648 §5 without padding', () => {
    for (let n = 0; n <= 100; n++) {
      const bytes = new Uint8Array(randomBytes(n));
      const text = encode(bytes);
      expect(text).not.toMatch(/[=+/]/);
      expect(text).toBe(Buffer.from(bytes).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'));
      expect(decode(text)).toEqual(bytes);
    }
  });

  it('encodes RFC 4648 §10 test vectors', () => {
    const cases: [string, string][] = [['', ''], ['f', 'Zg'], ['fo', 'Zm8'], ['foo', 'Zm9v'], ['foob', 'Zm9vYg'], ['fooba', 'Zm9vYmE'], ['foobar', 'Zm9vYmFy']];
    for (const [plain, text] of cases) {
      expect(encode(new TextEncoder().encode(plain))).toBe(text);
      expect(Buffer.from(decode(text)).toString('latin1')).toBe(plain);
    }
  });

  it('encodes a view into a larger buffer by its own bytes only', () => {
    const big = new Uint8Array([1, 2, 3, 4, 5]);
    expect(encode(big.subarray(1, 3))).toBe(encode(new Uint8Array([2, 3])));
  });

  it('returns a standalone Uint8Array, not a view into a shared pool', () => {
    const out = decode('AQID');
    expect(out).toBeInstanceOf(Uint8Array);
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(3);
  });

  it.each([
    ['padding', 'Zg=='],
    ['single padding', 'Zm8='],
    ["standard-alphabet '+'", 'a+b_'],
    ["standard-alphabet '/'", 'a/b_'],
    ['a space', 'Zm9v Yg'],
    ['a newline', 'Zm9v\nYg'],
    ['trailing whitespace', 'Zm9v '],
    ['a non-ASCII letter', 'Zm9\u00e9'],
    ['a dot', 'Zm9.'],
  ])('refuses %s with INVALID_CHARACTER', (_name, text) => {
    expect(codeOf(() => decode(text))).toBe('INVALID_CHARACTER');
  });

  it.each(['A', 'AAAAA', 'Zm9vY'])('refuses %s (length 1 mod 4) with INVALID_LENGTH', (text) => {
    expect(codeOf(() => decode(text))).toBe('INVALID_LENGTH');
  });

  it.each([
    ['Zh', 'Zg'], // 'h' sets one of the 4 unused bits of a 1-byte tail
    ['Zm9', 'Zm8'], // 2 unused bits of a 2-byte tail
    ['AB', 'AA'],
    ['AAB', 'AAA'],
  ])('refuses %s (non-zero unused bits; canonical form is %s) with NON_CANONICAL', (text, canonical) => {
    expect(codeOf(() => decode(text))).toBe('NON_CANONICAL');
    // Node decodes both to the same bytes, which is exactly why the re-encoding check exists.
    expect(Buffer.from(text, 'base64url').equals(Buffer.from(canonical, 'base64url'))).toBe(true);
    expect(() => decode(canonical)).not.toThrow();
  });

  it('refuses non-strings with NOT_A_STRING', () => {
    expect(codeOf(() => decode(undefined as unknown as string))).toBe('NOT_A_STRING');
    expect(codeOf(() => decode(12 as unknown as string))).toBe('NOT_A_STRING');
  });

  it('decodes the empty string to no bytes', () => {
    expect(decode('')).toEqual(new Uint8Array(0));
  });

  it('has exactly one accepted text per byte string (exhaustive over 2-character texts)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const seen = new Map<number, string>();
    for (const a of alphabet) {
      for (const b of alphabet) {
        let bytes: Uint8Array;
        try {
          bytes = decode(a + b);
        } catch {
          continue;
        }
        expect(bytes.length).toBe(1);
        expect(seen.has(bytes[0])).toBe(false);
        seen.set(bytes[0], a + b);
      }
    }
    expect(seen.size).toBe(256);
  });
});
