/**
 * RFC 8259 JSON parser for untrusted event bytes. JSON.parse accepts things a signed ledger must not: duplicate
 * keys (two readers can see two different values), lone surrogates (no UTF-8 or JCS form), numbers that silently
 * round, and unbounded nesting. Each of those is a typed error here, named by the ledger's reason codes.
 */

export type StrictJsonErrorCode =
  | 'TOO_LARGE'
  | 'INVALID_UTF8'
  | 'MALFORMED_JSON'
  | 'DUPLICATE_KEY'
  | 'TOO_DEEP'
  | 'NUMBER_NOT_EXACT'
  | 'LONE_SURROGATE';

/** `position` is a 0-based byte offset into the UTF-8 input (for string input, into its UTF-8 encoding). */
export class StrictJsonError extends Error {
  override readonly name = 'StrictJsonError';
  constructor(
    readonly code: StrictJsonErrorCode,
    readonly position: number,
    detail: string,
  ) {
    super(`${code} at byte ${position}: ${detail}`);
  }
}

export interface StrictJsonLimits {
  /** Largest accepted input, in UTF-8 bytes; checked before anything else is done. */
  maxBytes: number;
  /** Deepest accepted nesting of arrays and objects: a bare scalar is depth 0, `[1]` is depth 1. */
  maxDepth: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One array or object still being filled; `key` is the member name awaiting its value. */
type Frame = { array: unknown[]; object?: undefined; key?: undefined } | { array?: undefined; object: Record<string, unknown>; key: string };

/**
 * Parses one JSON text. Numbers must be finite, must not underflow a non-zero literal to 0, and must lie within
 * ±(2^53 - 1): every double beyond that is an integer that may not be the one written. Non-integers are kept as
 * the nearest double, whose ECMAScript form re-parses to the same double, so they survive canonicalization.
 * Iterative, so nesting depth costs heap, not stack; all work is linear in the input.
 */
export function parseStrictJson(input: Uint8Array | string, limits: StrictJsonLimits): unknown {
  checkLimits(limits);
  let text: string;
  if (typeof input === 'string') {
    const size = Buffer.byteLength(input, 'utf8');
    if (size > limits.maxBytes) throw new StrictJsonError('TOO_LARGE', 0, `${size} bytes exceeds the limit of ${limits.maxBytes}`);
    text = input;
  } else if (input instanceof Uint8Array) {
    if (input.length > limits.maxBytes) throw new StrictJsonError('TOO_LARGE', 0, `${input.length} bytes exceeds the limit of ${limits.maxBytes}`);
    try {
      text = utf8.decode(input);
    } catch {
      throw new StrictJsonError('INVALID_UTF8', firstInvalidUtf8(input), 'input is not well-formed UTF-8');
    }
  } else {
    throw new TypeError('parseStrictJson expects a Uint8Array or a string');
  }
  return new Parser(text, limits.maxDepth).parse();
}

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  parse(): unknown {
    const { text } = this;
    if (text.charCodeAt(0) === 0xfeff) this.fail('MALFORMED_JSON', 0, 'byte order mark is not allowed');
    const stack: Frame[] = [];
    let value: unknown;
    parseValue: for (;;) {
      this.skipWhitespace();
      const c = text.charCodeAt(this.pos);
      // Read one value; containers are opened here and completed by the loop below.
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        if (stack.length + 1 > this.maxDepth) this.fail('TOO_DEEP', this.pos, `nesting deeper than ${this.maxDepth}`);
        this.pos++;
        this.skipWhitespace();
        if (c === 0x5b) {
          if (text.charCodeAt(this.pos) !== 0x5d /* ] */) {
            stack.push({ array: [] });
            continue parseValue;
          }
          this.pos++;
          value = [];
        } else {
          if (text.charCodeAt(this.pos) !== 0x7d /* } */) {
            const object: Record<string, unknown> = {};
            stack.push({ object, key: this.parseKey(object) });
            continue parseValue;
          }
          this.pos++;
          value = {};
        }
      } else if (c === 0x22 /* " */) {
        value = this.parseString();
      } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
        value = this.parseNumber();
      } else if (text.startsWith('true', this.pos)) {
        this.pos += 4;
        value = true;
      } else if (text.startsWith('false', this.pos)) {
        this.pos += 5;
        value = false;
      } else if (text.startsWith('null', this.pos)) {
        this.pos += 4;
        value = null;
      } else {
        this.fail('MALFORMED_JSON', this.pos, this.pos >= text.length ? 'unexpected end of input, expected a value' : `unexpected ${this.describeHere()}, expected a value`);
      }

      // Place the finished value in its parent; close every parent it completes.
      for (;;) {
        const frame = stack[stack.length - 1];
        if (frame === undefined) break parseValue;
        this.skipWhitespace();
        const next = text.charCodeAt(this.pos);
        if (frame.array) {
          frame.array.push(value);
          if (next === 0x2c /* , */) {
            this.pos++;
            continue parseValue;
          }
          if (next !== 0x5d /* ] */) this.fail('MALFORMED_JSON', this.pos, `expected ',' or ']' but found ${this.describeHere()}`);
          this.pos++;
          value = frame.array;
        } else {
          setMember(frame.object, frame.key, value);
          if (next === 0x2c /* , */) {
            this.pos++;
            this.skipWhitespace();
            frame.key = this.parseKey(frame.object);
            continue parseValue;
          }
          if (next !== 0x7d /* } */) this.fail('MALFORMED_JSON', this.pos, `expected ',' or '}' but found ${this.describeHere()}`);
          this.pos++;
          value = frame.object;
        }
        stack.pop();
      }
    }
    this.skipWhitespace();
    if (this.pos < text.length) this.fail('MALFORMED_JSON', this.pos, `unexpected ${this.describeHere()} after the JSON value`);
    return value;
  }

  /** Reads `"name"` and the `:` after it (whitespace already skipped); refuses a name the object already has. */
  private parseKey(object: Record<string, unknown>): string {
    const start = this.pos;
    if (this.text.charCodeAt(this.pos) !== 0x22) this.fail('MALFORMED_JSON', this.pos, `expected a member name but found ${this.describeHere()}`);
    const key = this.parseString();
    if (Object.prototype.hasOwnProperty.call(object, key)) this.fail('DUPLICATE_KEY', start, `duplicate member name ${JSON.stringify(key.length > 64 ? key.slice(0, 64) + '…' : key)}`);
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) !== 0x3a /* : */) this.fail('MALFORMED_JSON', this.pos, `expected ':' but found ${this.describeHere()}`);
    this.pos++;
    return key;
  }

  /** A string literal starting at the opening quote. Raw runs are sliced and V8 concatenates as ropes, so cost is linear. */
  private parseString(): string {
    const { text } = this;
    let value = '';
    let runStart = ++this.pos;
    let pendingHigh = -1; // position of a high surrogate still waiting for its low half
    for (;;) {
      const at = this.pos;
      if (at >= text.length) this.fail('MALFORMED_JSON', at, 'unterminated string');
      let unit = text.charCodeAt(at);
      if (unit === 0x22) {
        if (pendingHigh >= 0) this.fail('LONE_SURROGATE', pendingHigh, 'high surrogate is not followed by a low surrogate');
        this.pos++;
        return at > runStart ? value + text.slice(runStart, at) : value;
      }
      if (unit < 0x20) this.fail('MALFORMED_JSON', at, `unescaped control character U+${hex4(unit)} in string`);
      if (unit === 0x5c /* \ */) {
        if (at > runStart) value += text.slice(runStart, at);
        unit = this.parseEscape();
        value += String.fromCharCode(unit);
        runStart = this.pos;
      } else {
        this.pos++;
      }
      // Surrogates can arrive raw (string input) or as \u escapes; either way they must pair up.
      if (pendingHigh >= 0) {
        if (unit < 0xdc00 || unit > 0xdfff) this.fail('LONE_SURROGATE', pendingHigh, 'high surrogate is not followed by a low surrogate');
        pendingHigh = -1;
      } else if (unit >= 0xd800 && unit <= 0xdbff) {
        pendingHigh = at;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        this.fail('LONE_SURROGATE', at, 'low surrogate without a preceding high surrogate');
      }
    }
  }

  /** Reads one escape at the backslash and returns the UTF-16 code unit it denotes. */
  private parseEscape(): number {
    const { text } = this;
    const at = this.pos;
    const c = text.charCodeAt(at + 1);
    this.pos += 2;
    switch (c) {
      case 0x22: return 0x22; // "
      case 0x5c: return 0x5c; // \
      case 0x2f: return 0x2f; // /
      case 0x62: return 0x08; // b
      case 0x66: return 0x0c; // f
      case 0x6e: return 0x0a; // n
      case 0x72: return 0x0d; // r
      case 0x74: return 0x09; // t
      case 0x75: { // u
        let unit = 0;
        for (let k = at + 2; k < at + 6; k++) {
          const h = hexValue(text.charCodeAt(k));
          if (h < 0) this.fail('MALFORMED_JSON', at, '\\u must be followed by four hex digits');
          unit = (unit << 4) | h;
        }
        this.pos += 4;
        return unit;
      }
      default:
        this.fail('MALFORMED_JSON', at, at + 1 >= text.length ? 'unterminated escape' : `invalid escape \\${text[at + 1]}`);
    }
  }

  /** RFC 8259 §6 number grammar, then the exactness rules described on parseStrictJson. */
  private parseNumber(): number {
    const { text } = this;
    const start = this.pos;
    let i = start;
    if (text.charCodeAt(i) === 0x2d) i++;
    const intStart = i;
    if (text.charCodeAt(i) === 0x30) {
      i++;
      if (isDigit(text.charCodeAt(i))) this.fail('MALFORMED_JSON', start, 'leading zeros are not allowed');
    } else if (isDigit(text.charCodeAt(i))) {
      while (isDigit(text.charCodeAt(i))) i++;
    } else {
      this.fail('MALFORMED_JSON', i, "expected a digit after '-'");
    }
    let mantissaEnd = i;
    if (text.charCodeAt(i) === 0x2e /* . */) {
      i++;
      if (!isDigit(text.charCodeAt(i))) this.fail('MALFORMED_JSON', i, "expected a digit after '.'");
      while (isDigit(text.charCodeAt(i))) i++;
      mantissaEnd = i;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const s = text.charCodeAt(i);
      if (s === 0x2b || s === 0x2d) i++;
      if (!isDigit(text.charCodeAt(i))) this.fail('MALFORMED_JSON', i, 'expected a digit in the exponent');
      while (isDigit(text.charCodeAt(i))) i++;
    }
    this.pos = i;
    const literal = text.slice(start, i);
    const value = Number(literal);
    if (!Number.isFinite(value)) this.fail('NUMBER_NOT_EXACT', start, `${literal} overflows a double`);
    if (value > Number.MAX_SAFE_INTEGER || value < -Number.MAX_SAFE_INTEGER) {
      this.fail('NUMBER_NOT_EXACT', start, `${literal} is beyond ±(2^53-1), where doubles cannot hold every integer; send it as a string`);
    }
    if (value === 0 && /[1-9]/.test(text.slice(intStart, mantissaEnd))) this.fail('NUMBER_NOT_EXACT', start, `${literal} underflows to 0`);
    return value;
  }

  private skipWhitespace(): void {
    const { text } = this;
    for (;;) {
      const c = text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'end of input';
    const cp = this.text.codePointAt(this.pos) as number;
    return cp >= 0x20 && cp < 0x7f ? `'${String.fromCodePoint(cp)}'` : `U+${hex4(cp)}`;
  }

  /** Converts a UTF-16 index to the byte offset callers see; only runs when reporting an error. */
  private fail(code: StrictJsonErrorCode, index: number, detail: string): never {
    throw new StrictJsonError(code, Buffer.byteLength(this.text.slice(0, index), 'utf8'), detail);
  }
}

/** Plain assignment to "__proto__" would set the prototype instead of adding a member, as JSON.parse would. */
function setMember(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}

/** Value of one hex digit, or -1 (also for NaN, i.e. past the end of the text). */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

function checkLimits(limits: StrictJsonLimits): void {
  for (const name of ['maxBytes', 'maxDepth'] as const) {
    const v = limits?.[name];
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`parseStrictJson: limits.${name} must be a non-negative integer, got ${String(v)}`);
  }
}

/**
 * Offset of the first byte of the first ill-formed sequence, per the RFC 3629 table (which, like TextDecoder, refuses
 * overlong forms, encoded surrogates and code points above U+10FFFF). Only runs after TextDecoder has refused.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    // Sequence length and the allowed range of the second byte, which is where the special cases live.
    let len: number, lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) len = 2;
    else if (b >= 0xe0 && b <= 0xef) [len, lo, hi] = [3, b === 0xe0 ? 0xa0 : 0x80, b === 0xed ? 0x9f : 0xbf];
    else if (b >= 0xf0 && b <= 0xf4) [len, lo, hi] = [4, b === 0xf0 ? 0x90 : 0x80, b === 0xf4 ? 0x8f : 0xbf];
    else return i;
    if (i + len > bytes.length || bytes[i + 1] < lo || bytes[i + 1] > hi) return i;
    for (let k = 2; k < len; k++) if (bytes[i + k] < 0x80 || bytes[i + k] > 0xbf) return i;
    i += len;
  }
  return bytes.length;
}
