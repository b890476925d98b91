import { parseStrictJson, StrictJsonError } from './strictJson';

const LIMITS = { maxBytes: 1 << 20, maxDepth: 64 };
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

function errorOf(input: Uint8Array | string, limits = LIMITS): StrictJsonError {
  try {
    parseStrictJson(input, limits);
  } catch (e) {
    if (e instanceof StrictJsonError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(typeof input === 'string' ? input : Buffer.from(input).toString('latin1'))} to be refused`);
}
const codeOf = (input: Uint8Array | string, limits = LIMITS): string => errorOf(input, limits).code;

describe('parseStrictJson: accepted input', () => {
  it.each([
    ['null', null],
    ['true', true],
    ['false', false],
    ['0', 0],
    ['-0', -0],
    ['-12.5e-3', -0.0125],
    ['1E2', 100],
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    ['5e-324', 5e-324],
    ['""', ''],
    ['"a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE02"', 'a"\\/\b\f\n\r\t\u00e9\u{1F602}'],
    [' \t\r\n[ 1 , {"a" : [ ] } ] \n', [1, { a: [] }]],
    ['{}', {}],
    ['[]', []],
    ['{"a":{"b":{"c":[null]}}}', { a: { b: { c: [null] } } }],
  ])('%s', (text, expected) => {
    expect(parseStrictJson(text, LIMITS)).toEqual(expected);
    expect(parseStrictJson(bytes(text), LIMITS)).toEqual(expected);
  });

  it('keeps -0 as JSON.parse does (JCS then writes it as 0)', () => {
    expect(Object.is(parseStrictJson('-0', LIMITS), -0)).toBe(true);
  });

  it('reads raw UTF-8 including astral characters and U+2028', () => {
    expect(parseStrictJson(bytes('"\u00e9\u{1F602}\u2028\u{10FFFF}"'), LIMITS)).toBe('\u00e9\u{1F602}\u2028\u{10FFFF}');
  });

  it('makes "__proto__" an ordinary member, as JSON.parse does, without touching the prototype', () => {
    const v = parseStrictJson('{"__proto__":{"polluted":true},"a":1}', LIMITS) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'a']);
    expect((v as { polluted?: unknown }).polluted).toBeUndefined();
    expect(v).toEqual(JSON.parse('{"__proto__":{"polluted":true},"a":1}'));
  });

  it('accepts members named like Object.prototype properties', () => {
    expect(parseStrictJson('{"toString":1,"hasOwnProperty":2,"constructor":3}', LIMITS)).toEqual({ toString: 1, hasOwnProperty: 2, constructor: 3 });
  });
});

describe('parseStrictJson: TOO_LARGE', () => {
  it('is checked before decoding or parsing', () => {
    expect(codeOf(new Uint8Array([0xff, 0xff, 0xff]), { maxBytes: 2, maxDepth: 5 })).toBe('TOO_LARGE');
    expect(codeOf('[[[[[[', { maxBytes: 5, maxDepth: 1 })).toBe('TOO_LARGE');
  });

  it('counts UTF-8 bytes, not UTF-16 units, for string input', () => {
    expect(codeOf('"\u00e9\u00e9"', { maxBytes: 5, maxDepth: 1 })).toBe('TOO_LARGE'); // 6 bytes, 4 units
    expect(parseStrictJson('"\u00e9\u00e9"', { maxBytes: 6, maxDepth: 1 })).toBe('\u00e9\u00e9');
  });

  it('accepts input of exactly maxBytes', () => {
    expect(parseStrictJson(bytes('[1]'), { maxBytes: 3, maxDepth: 1 })).toEqual([1]);
  });
});

describe('parseStrictJson: INVALID_UTF8', () => {
  it.each([
    ['lone continuation byte', [0x22, 0x80, 0x22], 1],
    ['overlong "/"', [0x22, 0xc0, 0xaf, 0x22], 1],
    ['overlong 3-byte', [0x22, 0xe0, 0x80, 0xaf, 0x22], 1],
    ['encoded surrogate U+D800', [0x22, 0x61, 0xed, 0xa0, 0x80, 0x22], 2],
    ['beyond U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], 1],
    ['0xFF', [0x22, 0xff, 0x22], 1],
    ['truncated sequence', [0x22, 0xe2, 0x82], 1],
    ['truncated then ASCII', [0x22, 0xe2, 0x82, 0x22], 1],
  ])('refuses %s and names the byte', (_name, raw, position) => {
    const e = errorOf(new Uint8Array(raw));
    expect(e.code).toBe('INVALID_UTF8');
    expect(e.position).toBe(position);
    expect(e.message).toContain(`at byte ${position}`);
  });
});

describe('parseStrictJson: MALFORMED_JSON', () => {
  it.each([
    ['empty input', '', 0],
    ['only whitespace', '  \n', 3],
    ['byte order mark', '\uFEFF{}', 0],
    ['trailing garbage', '{} x', 3],
    ['two values', '1 2', 2],
    ['trailing comma in array', '[1,]', 3],
    ['trailing comma in object', '{"a":1,}', 7],
    ['missing comma', '[1 2]', 3],
    ['missing colon', '{"a" 1}', 5],
    ['unquoted key', '{a:1}', 1],
    ['number key', '{1:2}', 1],
    ['single quotes', "'a'", 0],
    ['leading zero', '01', 0],
    ['negative leading zero', '-01', 0],
    ['leading plus', '+1', 0],
    ['bare minus', '-', 1],
    ['bare fraction', '.5', 0],
    ['dot without digits', '1.', 2],
    ['exponent without digits', '1e', 2],
    ['exponent sign without digits', '1e+', 3],
    ['hex number', '0x10', 1],
    ['NaN', 'NaN', 0],
    ['Infinity', 'Infinity', 0],
    ['truncated literal', 'tru', 0],
    ['capitalised literal', 'True', 0],
    ['literal with trailing letters', 'nullx', 4],
    ['unterminated string', '"abc', 4],
    ['unterminated array', '[1', 2],
    ['unterminated object', '{"a":1', 6],
    ['unescaped control character', '"a\u0001"', 2],
    ['unescaped newline in string', '"a\nb"', 2],
    ['invalid escape', '"\\x"', 1],
    ['short \\u escape', '"\\u12"', 1],
    ['\\u escape with non-hex', '"\\u12g4"', 1],
    ['backslash at end', '"\\', 1],
    ['comment', '[1 /* c */]', 3],
    ['non-JSON whitespace (NBSP)', '[1,\u00a02]', 3],
    ['non-JSON whitespace (form feed)', '\f1', 0],
    ['unopened close', ']', 0],
    ['mismatched close', '[1}', 2],
  ])('refuses %s', (_name, text, position) => {
    const e = errorOf(bytes(text));
    expect(e.code).toBe('MALFORMED_JSON');
    expect(e.position).toBe(position);
    expect(e.message).toMatch(new RegExp(`^MALFORMED_JSON at byte ${position}: `));
  });

  it('reports byte offsets after multi-byte characters', () => {
    expect(errorOf(bytes('["\u00e9\u{1F602}" x]')).position).toBe(10);
  });

  it('refuses 100k unclosed brackets without a stack overflow', () => {
    expect(codeOf('['.repeat(100_000), { maxBytes: 1 << 20, maxDepth: 1_000_000 })).toBe('MALFORMED_JSON');
  });
});

describe('parseStrictJson: DUPLICATE_KEY', () => {
  it.each([
    ['plain duplicate', '{"a":1,"a":2}', 7],
    ['duplicate after other keys', '{"a":1,"b":2,"a":1}', 13],
    ['nested duplicate', '[{"x":{"k":null,"k":null}}]', 16],
    ['same key via an escape', '{"a":1,"\\u0061":2}', 7],
    ['duplicate "__proto__"', '{"__proto__":1,"__proto__":2}', 15],
    ['duplicate empty key', '{"":1,"":2}', 6],
  ])('refuses %s and names the second key', (_name, text, position) => {
    const e = errorOf(text);
    expect(e.code).toBe('DUPLICATE_KEY');
    expect(e.position).toBe(position);
  });

  it('allows the same key in sibling objects', () => {
    expect(parseStrictJson('[{"a":1},{"a":2}]', LIMITS)).toEqual([{ a: 1 }, { a: 2 }]);
  });
});

describe('parseStrictJson: TOO_DEEP', () => {
  it('counts container depth: a scalar is 0, [1] is 1', () => {
    expect(parseStrictJson('1', { maxBytes: 10, maxDepth: 0 })).toBe(1);
    expect(codeOf('[]', { maxBytes: 10, maxDepth: 0 })).toBe('TOO_DEEP');
    expect(parseStrictJson('[[]]', { maxBytes: 10, maxDepth: 2 })).toEqual([[]]);
    expect(codeOf('[[[]]]', { maxBytes: 10, maxDepth: 2 })).toBe('TOO_DEEP');
    expect(codeOf('{"a":{"b":{}}}', { maxBytes: 20, maxDepth: 2 })).toBe('TOO_DEEP');
    expect(errorOf('[{"a":[1]}]', { maxBytes: 20, maxDepth: 2 }).position).toBe(6);
  });

  it('refuses 100k opening brackets at the limit, not with a stack overflow', () => {
    const e = errorOf('['.repeat(100_000), { maxBytes: 1 << 20, maxDepth: 1000 });
    expect(e.code).toBe('TOO_DEEP');
    expect(e.position).toBe(1000);
  });

  it('parses 100k levels of nesting iteratively when the limit allows it', () => {
    const depth = 100_000;
    let v = parseStrictJson('['.repeat(depth) + ']'.repeat(depth), { maxBytes: 1 << 20, maxDepth: depth }) as unknown[];
    let seen = 1;
    while (v.length === 1) {
      v = v[0] as unknown[];
      seen++;
    }
    expect(seen).toBe(depth);
    const objects = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    expect(() => parseStrictJson(objects, { maxBytes: 1 << 20, maxDepth: depth })).not.toThrow();
  });
});

describe('parseStrictJson: NUMBER_NOT_EXACT', () => {
  it.each([
    ['2^53 (first integer a double cannot tell from its neighbour)', '9007199254740992'],
    ['2^53 + 1', '9007199254740993'],
    ['-(2^53)', '-9007199254740992'],
    ['a u64 id', '12345678901234567890'],
    ['integer-valued exponent form beyond 2^53', '1e16'],
    ['fraction form beyond 2^53', '9007199254740993.0'],
    ['overflow to Infinity', '1e400'],
    ['overflow to -Infinity', '-1e400'],
    ['largest double', '1.7976931348623157e308'],
    ['non-zero underflowing to 0', '1e-400'],
    ['negative non-zero underflowing to -0', '-2.5e-999'],
  ])('refuses %s', (_name, text) => {
    const e = errorOf(`[0, ${text}]`);
    expect(e.code).toBe('NUMBER_NOT_EXACT');
    expect(e.position).toBe(4);
  });

  it.each(['0e400', '0.000e-999', '-0.0', '4.35', '0.1', '1e-300', '5e-324', '333333333.33333329', '9007199254740991', '9.007199254740991e15'])(
    'accepts %s with the value JSON.parse gives',
    (text) => {
      expect(Object.is(parseStrictJson(text, LIMITS), JSON.parse(text))).toBe(true);
    },
  );
});

describe('parseStrictJson: LONE_SURROGATE', () => {
  it.each([
    ['escaped high alone', '"\\uD800"', 1],
    ['escaped low alone', '"a\\uDC00"', 2],
    ['escaped pair reversed', '"\\uDE02\\uD83D"', 1],
    ['escaped high then a letter', '"\\uD83Dx"', 1],
    ['escaped high then an escaped letter', '"\\uD83D\\u0041"', 1],
    ['escaped high twice', '"\\uD83D\\uD83D\\uDE02"', 1],
    ['in a key', '{"k\\uDFFF":1}', 3],
  ])('refuses %s', (_name, text, position) => {
    const e = errorOf(text);
    expect(e.code).toBe('LONE_SURROGATE');
    expect(e.position).toBe(position);
    expect(errorOf(bytes(text)).code).toBe('LONE_SURROGATE');
  });

  it('refuses raw lone surrogates in string input (bytes cannot carry them: that is INVALID_UTF8)', () => {
    expect(codeOf('"a\uD800"')).toBe('LONE_SURROGATE');
    expect(codeOf('"\uDC00"')).toBe('LONE_SURROGATE');
    expect(codeOf('{"\uD800":1}')).toBe('LONE_SURROGATE');
  });

  it('refuses a raw lone surrogate outside a string as malformed', () => {
    expect(codeOf('\uD800')).toBe('MALFORMED_JSON');
  });

  it('accepts pairs, escaped, raw, or half of each', () => {
    expect(parseStrictJson('"\\uD83D\\uDE02"', LIMITS)).toBe('\u{1F602}');
    expect(parseStrictJson('"\\ud83d\\ude02"', LIMITS)).toBe('\u{1F602}');
    expect(parseStrictJson('"\u{1F602}"', LIMITS)).toBe('\u{1F602}');
    expect(parseStrictJson('"\\uD83D\uDE02"', LIMITS)).toBe('\u{1F602}');
  });
});

describe('parseStrictJson: API misuse', () => {
  it('refuses non-byte, non-string input and bad limits with plain TypeError/RangeError', () => {
    expect(() => parseStrictJson({} as unknown as string, LIMITS)).toThrow(TypeError);
    expect(() => parseStrictJson('1', { maxBytes: -1, maxDepth: 1 })).toThrow(RangeError);
    expect(() => parseStrictJson('1', { maxBytes: 10, maxDepth: NaN })).toThrow(RangeError);
    expect(() => parseStrictJson('1', undefined as unknown as typeof LIMITS)).toThrow(RangeError);
  });
});

describe('parseStrictJson: linear time', () => {
  const big = { maxBytes: 64 << 20, maxDepth: 10 };
  const time = (fn: () => void): number => {
    const t = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };

  it('parses large documents of each shape in well under a second', () => {
    const escapes = '"' + '\\n\\u00e9\\"x'.repeat(400_000) + '"'; // ~4.4 MB of escapes in one string
    const wideObject = '{' + Array.from({ length: 200_000 }, (_, i) => `"k${i}":${i}`).join(',') + '}';
    const longArray = '[' + Array.from({ length: 500_000 }, (_, i) => (i % 2 ? '"s"' : String(i / 8))).join(',') + ']';
    const longString = bytes('"' + 'a\u00e9\u{1F602}'.repeat(500_000) + '"');
    for (const input of [escapes, wideObject, longArray, longString]) {
      expect(time(() => parseStrictJson(input, big))).toBeLessThan(2000);
    }
  });

  it('costs about linearly more for 4x the input (no quadratic behaviour)', () => {
    const doc = (n: number): string => '[' + Array.from({ length: n }, (_, i) => `{"k${i}":"v\\u00e9${i}","n":${i}.5}`).join(',') + ']';
    const small = doc(25_000);
    const large = doc(100_000);
    parseStrictJson(small, big); // warm up
    const tSmall = Math.max(time(() => parseStrictJson(small, big)), 1);
    const tLarge = time(() => parseStrictJson(large, big));
    expect(tLarge / tSmall).toBeLessThan(12); // linear would be ~4, quadratic ~16
  });
});

describe('parseStrictJson agrees with JSON.parse on everything both accept', () => {
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

  const rnd = mulberry32(20250101);
  const int = (n: number): number => Math.floor(rnd() * n);

  function randomNumber(): number {
    switch (int(6)) {
      case 0: return int(10);
      case 1: return (rnd() < 0.5 ? -1 : 1) * int(Number.MAX_SAFE_INTEGER);
      case 2: return (rnd() - 0.5) * 10 ** (int(30) - 20);
      case 3: return rnd() * 1e-300 * 10 ** -int(24);
      case 4: return Number((rnd() * 1000).toFixed(int(6)));
      default: return rnd() < 0.5 ? Number.MAX_SAFE_INTEGER : -Number.MIN_VALUE;
    }
  }

  function randomString(): string {
    let s = '';
    for (let i = int(8); i > 0; i--) {
      const r = int(10);
      if (r < 4) s += String.fromCharCode(0x20 + int(0x5f));
      else if (r < 5) s += String.fromCharCode(int(0x20));
      else if (r < 6) s += '"\\/';
      else if (r < 8) s += String.fromCharCode(0xa0 + int(0xd800 - 0xa0));
      else if (r < 9) s += String.fromCodePoint(0x10000 + int(0x100000));
      else s += String.fromCharCode(0xe000 + int(0x2000));
    }
    return s;
  }

  function randomValue(depth: number): unknown {
    switch (int(depth > 0 ? 7 : 5)) {
      case 0: return null;
      case 1: return rnd() < 0.5;
      case 2: return randomNumber();
      case 3:
      case 4: return randomString();
      case 5: return Array.from({ length: int(6) }, () => randomValue(depth - 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = int(6); i > 0; i--) o[rnd() < 0.1 ? '__proto__' : randomString()] = randomValue(depth - 1);
        return o;
      }
    }
  }

  it('on 2000 random values, compact and indented, as string and as bytes', () => {
    const limits = { maxBytes: 1 << 20, maxDepth: 16 };
    for (let i = 0; i < 2000; i++) {
      const text = JSON.stringify(randomValue(5), null, i % 3 === 0 ? 2 : undefined);
      const expected = JSON.parse(text);
      expect(parseStrictJson(text, limits)).toEqual(expected);
      expect(parseStrictJson(bytes(text), limits)).toEqual(expected);
    }
  });
});
