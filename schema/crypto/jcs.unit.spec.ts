import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { canonicalize, CanonicalizationError } from './jcs';
import { parseStrictJson, StrictJsonError } from './strictJson';

const VECTORS = path.join(__dirname, '../../test/fixtures/vectors/jcs');
const LIMITS = { maxBytes: 1 << 20, maxDepth: 64 };

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof CanonicalizationError || e instanceof StrictJsonError) return e.code;
    throw e;
  }
  throw new Error('expected an error');
}

function doubleFromHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt('0x' + hex));
  return view.getFloat64(0);
}

describe('RFC 8785 input/output vectors (cyberphone testdata)', () => {
  const names = readdirSync(path.join(VECTORS, 'input')).sort();

  it('has the six expected files', () => {
    expect(names).toEqual(['arrays.json', 'french.json', 'structures.json', 'unicode.json', 'values.json', 'weird.json']);
  });

  describe.each(names)('%s', (name) => {
    const input = readFileSync(path.join(VECTORS, 'input', name), 'utf8');
    const expected = readFileSync(path.join(VECTORS, 'output', name));
    const hex = readFileSync(path.join(VECTORS, 'outhex', name.replace(/\.json$/, '.txt')), 'utf8');

    it('canonicalizes JSON.parse(input) to exactly the bytes of output/', () => {
      expect(Buffer.from(canonicalize(JSON.parse(input)), 'utf8').equals(expected)).toBe(true);
    });

    it('matches outhex/ byte for byte', () => {
      const fromHex = Buffer.from(hex.trim().split(/\s+/).join(''), 'hex');
      expect(fromHex.equals(expected)).toBe(true);
      expect(Buffer.from(canonicalize(JSON.parse(input)), 'utf8').equals(fromHex)).toBe(true);
    });

    it('is a fixed point: canonicalizing the output again gives the same bytes', () => {
      expect(canonicalize(JSON.parse(expected.toString('utf8')))).toBe(expected.toString('utf8'));
    });

    if (name === 'values.json') {
      // 1E30 is beyond ±(2^53-1): our ingress parser refuses it although JCS itself can serialise it.
      it('is refused by parseStrictJson (1E30 is not an exact integer)', () => {
        expect(codeOf(() => parseStrictJson(input, LIMITS))).toBe('NUMBER_NOT_EXACT');
      });
    } else {
      it('gives the same bytes through parseStrictJson', () => {
        expect(Buffer.from(canonicalize(parseStrictJson(Buffer.from(input, 'utf8'), LIMITS)), 'utf8').equals(expected)).toBe(true);
      });
    }
  });
});

describe('number-serialization.json', () => {
  const file = JSON.parse(readFileSync(path.join(VECTORS, 'number-serialization.json'), 'utf8')) as {
    rfc8785AppendixB: { ieeeHex: string; expected: string; comment: string }[];
    cyberphoneReadmeSamples: { ieeeHex: string; expected: string }[];
    derivedFromJsonText: { jsonText: string; parsedDouble: string; expectedCanonical: string }[];
  };
  const ieee = [...file.rfc8785AppendixB, ...file.cyberphoneReadmeSamples];

  it.each(ieee.map((c) => [c.ieeeHex, c.expected] as const))('IEEE %s serialises as %s', (hex, expected) => {
    // One sample writes +0 as just "0"; IEEE hex is left-padded.
    const value = doubleFromHex(hex.padStart(16, '0'));
    if (expected === 'ERROR') expect(codeOf(() => canonicalize(value))).toBe('NON_FINITE_NUMBER');
    else expect(canonicalize(value)).toBe(expected);
  });

  it.each(file.derivedFromJsonText.map((c) => [c.jsonText, c.parsedDouble, c.expectedCanonical] as const))(
    'JSON.parse(%s) = %s canonicalises as %s',
    (text, parsed, expected) => {
      const value = JSON.parse(text) as number;
      expect(Object.is(value, Number(parsed))).toBe(true);
      if (expected === 'ERROR') expect(codeOf(() => canonicalize(value))).toBe('NON_FINITE_NUMBER');
      else expect(canonicalize(value)).toBe(expected);
    },
  );

  // What the ingress parser makes of the same texts: it refuses every case where parsing loses the written value.
  const strictOutcome: Record<string, 'ok' | 'NUMBER_NOT_EXACT'> = {
    '1.0': 'ok',
    '1E30': 'NUMBER_NOT_EXACT',
    '4.50': 'ok',
    '2e-3': 'ok',
    '0.000000000000000000000000001': 'ok',
    '-0': 'ok',
    '-0.0': 'ok',
    '0e10': 'ok',
    '1e400': 'NUMBER_NOT_EXACT',
    '-1e400': 'NUMBER_NOT_EXACT',
    '9007199254740993': 'NUMBER_NOT_EXACT',
    '12345678901234567890': 'NUMBER_NOT_EXACT',
    '0.1': 'ok',
    '1e21': 'NUMBER_NOT_EXACT',
    '1e-7': 'ok',
    '333333333.33333329': 'ok',
  };

  it('covers every derivedFromJsonText case in the strict-parser table', () => {
    expect(file.derivedFromJsonText.map((c) => c.jsonText).sort()).toEqual(Object.keys(strictOutcome).sort());
  });

  it.each(file.derivedFromJsonText.map((c) => [c.jsonText, c.expectedCanonical] as const))('parseStrictJson(%s)', (text, expected) => {
    const outcome = strictOutcome[text];
    if (outcome === 'ok') expect(canonicalize(parseStrictJson(text, LIMITS))).toBe(expected);
    else expect(codeOf(() => parseStrictJson(text, LIMITS))).toBe(outcome);
  });
});

describe('canonicalize', () => {
  it('serialises scalars', () => {
    expect(canonicalize(null)).toBe('null');
    expect(canonicalize(true)).toBe('true');
    expect(canonicalize(false)).toBe('false');
    expect(canonicalize(-0)).toBe('0');
    expect(canonicalize('')).toBe('""');
    expect(canonicalize([])).toBe('[]');
    expect(canonicalize({})).toBe('{}');
  });

  it('escapes strings as RFC 8785 §3.2.2.2 requires (lowercase \\u00xx, short forms, nothing else)', () => {
    expect(canonicalize('\u0000\u0001\u001f\b\f\n\r\t"\\/\u007f\u0080\u2028\u{1F602}')).toBe(
      '"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\\"\\\\/\u007f\u0080\u2028\u{1F602}"',
    );
  });

  it('sorts keys by UTF-16 code units, not code points or locale', () => {
    // U+1F602 is D83D DE02 in UTF-16, which sorts before U+FB33 although its code point is larger.
    expect(canonicalize({ '\uFB33': 1, '\u{1F602}': 2, a: 3, B: 4, '\u00e9': 5, e: 6 })).toBe(
      '{"B":4,"a":3,"e":6,"\u00e9":5,"\u{1F602}":2,"\uFB33":1}',
    );
  });

  it('sorts integer-like keys as strings', () => {
    expect(canonicalize({ 10: 'a', 9: 'b', 1: 'c', '01': 'd' })).toBe('{"01":"d","1":"c","10":"a","9":"b"}');
  });

  it('accepts null-prototype objects and an own "__proto__" member', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = 1;
    bare.a = 2;
    expect(canonicalize(bare)).toBe('{"a":2,"b":1}');
    expect(canonicalize(JSON.parse('{"__proto__":{"x":1},"a":0}'))).toBe('{"__proto__":{"x":1},"a":0}');
  });

  it('allows the same object twice when it is not its own ancestor', () => {
    const shared = { z: 1 };
    expect(canonicalize({ a: shared, b: [shared, shared] })).toBe('{"a":{"z":1},"b":[{"z":1},{"z":1}]}');
  });

  it('handles 100k levels of nesting without a stack overflow', () => {
    let v: unknown = 0;
    for (let i = 0; i < 100_000; i++) v = [v];
    const out = canonicalize(v);
    expect(out.length).toBe(200_001);
    expect(out.startsWith('[[[') && out.endsWith(']]]')).toBe(true);
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
  ])('refuses %s with NON_FINITE_NUMBER', (_name, n) => {
    expect(codeOf(() => canonicalize(n))).toBe('NON_FINITE_NUMBER');
    expect(codeOf(() => canonicalize({ a: [1, n] }))).toBe('NON_FINITE_NUMBER');
  });

  class Thing {
    a = 1;
  }
  const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['undefined member', { a: undefined }],
    ['undefined element', [undefined]],
    ['function', () => 1],
    ['bigint', 1n],
    ['symbol', Symbol('s')],
    ['Date (no toJSON here)', new Date(0)],
    ['Map', new Map()],
    ['class instance', new Thing()],
    ['boxed string', new String('x')],
    ['Uint8Array', new Uint8Array(2)],
    ['sparse array', sparse],
    ['symbol-keyed member', { [Symbol('k')]: 1 }],
  ])('refuses %s with UNSUPPORTED_TYPE', (_name, value) => {
    expect(codeOf(() => canonicalize(value))).toBe('UNSUPPORTED_TYPE');
  });

  it('refuses cycles with CYCLIC_VALUE', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(codeOf(() => canonicalize(a))).toBe('CYCLIC_VALUE');
    const arr: unknown[] = [];
    arr.push({ back: arr });
    expect(codeOf(() => canonicalize(arr))).toBe('CYCLIC_VALUE');
  });

  it.each([
    ['high surrogate alone', '\uD800'],
    ['low surrogate alone', 'x\uDC00'],
    ['pair in the wrong order', '\uDE02\uD83D'],
    ['high followed by a non-surrogate', '\uD83Da'],
  ])('refuses a %s in strings and keys with LONE_SURROGATE', (_name, s) => {
    expect(codeOf(() => canonicalize(s))).toBe('LONE_SURROGATE');
    expect(codeOf(() => canonicalize({ [s]: 1 }))).toBe('LONE_SURROGATE');
    expect(codeOf(() => canonicalize([{ ok: [s] }]))).toBe('LONE_SURROGATE');
  });

  it('names the offending member with a JSON Pointer', () => {
    expect(() => canonicalize({ a: [0, { 'b/c': NaN }] })).toThrow(expect.objectContaining({ path: '/a/1/b~1c' }));
    expect(() => canonicalize({ a: { '\uD800': 1 } })).toThrow(expect.objectContaining({ path: '/a/\uD800' }));
    expect(() => canonicalize(undefined)).toThrow(expect.objectContaining({ path: '' }));
  });

  it('round-trips random values: JSON.parse(canonicalize(v)) equals v and re-canonicalises identically', () => {
    const rnd = mulberry32(0x5eed);
    for (let i = 0; i < 300; i++) {
      const v = randomJson(rnd, 4);
      const c = canonicalize(v);
      expect(JSON.parse(c)).toEqual(v);
      expect(canonicalize(JSON.parse(c))).toBe(c);
      expect(canonicalize(parseStrictJson(c, LIMITS))).toBe(c);
    }
  });
});

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomJson(rnd: () => number, depth: number): unknown {
  const pick = Math.floor(rnd() * (depth > 0 ? 7 : 5));
  switch (pick) {
    case 0: return null;
    case 1: return rnd() < 0.5;
    case 2: return rnd() < 0.5 ? Math.floor((rnd() - 0.5) * 2 ** 40) : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 30 - 15);
    case 3:
    case 4: return randomString(rnd);
    case 5: return Array.from({ length: Math.floor(rnd() * 5) }, () => randomJson(rnd, depth - 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 5); i > 0; i--) o[randomString(rnd)] = randomJson(rnd, depth - 1);
      return o;
    }
  }
}

function randomString(rnd: () => number): string {
  const pool = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\u0000', '\u001f', '\u007f', '\u00e9', '\u2028', '\uFB33', '\u{1F602}', '\uFFFF'];
  let s = '';
  for (let i = Math.floor(rnd() * 6); i > 0; i--) s += pool[Math.floor(rnd() * pool.length)];
  return s;
}
