/**
 * RFC 8785 JSON Canonicalization Scheme: the exact bytes agents sign and the ledger hashes.
 *
 * Two parties must derive identical bytes from the same value, so anything JSON.stringify would quietly drop,
 * convert or escape (undefined, NaN, toJSON, lone surrogates, array holes, cycles) is an error here instead.
 */

export type CanonicalizationErrorCode = 'NON_FINITE_NUMBER' | 'LONE_SURROGATE' | 'UNSUPPORTED_TYPE' | 'CYCLIC_VALUE';

/** Thrown for any value that has no RFC 8785 form. `path` is a JSON Pointer (RFC 6901) to the offending value. */
export class CanonicalizationError extends Error {
  override readonly name = 'CanonicalizationError';
  constructor(
    readonly code: CanonicalizationErrorCode,
    readonly path: string,
    detail: string,
  ) {
    super(`${code} at ${path === '' ? '(root)' : path}: ${detail}`);
  }
}

/** Matches a surrogate code unit that is not half of a valid pair (the `u` flag makes pairs one code point). */
const LONE_SURROGATE = /\p{Cs}/u;
/** Any surrogate code unit, paired or not (no `u` flag: code units, not code points). */
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

/** Iteration state for one array or object whose members are still being written. */
interface Frame {
  readonly container: object;
  /** Sorted keys for objects; null for arrays. */
  readonly keys: string[] | null;
  readonly length: number;
  index: number;
}

/**
 * Returns the RFC 8785 canonical JSON text of `value`. Encode it as UTF-8 to get the bytes to sign or hash.
 * Iterative rather than recursive, so deeply nested input fails on its own terms rather than with a stack overflow.
 */
export function canonicalize(value: unknown): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const open = new Set<object>();
  writeValue(value, out, stack, open);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (frame.index === frame.length) {
      out.push(frame.keys === null ? ']' : '}');
      stack.pop();
      open.delete(frame.container);
      continue;
    }
    const i = frame.index++;
    if (i > 0) out.push(',');
    if (frame.keys === null) {
      const arr = frame.container as unknown[];
      // A hole would become `null` under JSON.stringify; refuse rather than invent a value.
      if (!(i in arr)) throw new CanonicalizationError('UNSUPPORTED_TYPE', pointer(stack), 'sparse array hole');
      writeValue(arr[i], out, stack, open);
    } else {
      const key = frame.keys[i];
      out.push(quote(key, stack, true), ':');
      writeValue((frame.container as Record<string, unknown>)[key], out, stack, open);
    }
  }
  return out.join('');
}

/**
 * Writes a scalar, or writes the opening bracket of a container and pushes it for canonicalize's loop to fill. At
 * module level rather than a closure per call: the hot path canonicalizes every member of every event.
 */
function writeValue(v: unknown, out: string[], stack: Frame[], open: Set<object>): void {
  switch (typeof v) {
    case 'string':
      out.push(quote(v, stack));
      return;
    case 'number':
      if (!Number.isFinite(v)) throw new CanonicalizationError('NON_FINITE_NUMBER', pointer(stack), `${v} is not a JSON number`);
      // ECMAScript Number::toString is exactly RFC 8785 §3.2.2.3 (and maps -0 to "0").
      out.push(String(v));
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'object':
      if (v === null) {
        out.push('null');
        return;
      }
      if (open.has(v)) throw new CanonicalizationError('CYCLIC_VALUE', pointer(stack), 'value contains itself');
      if (Array.isArray(v)) {
        open.add(v);
        out.push('[');
        stack.push({ container: v, keys: null, length: v.length, index: 0 });
        return;
      }
      if (isPlainObject(v)) {
        if (Object.getOwnPropertySymbols(v).length > 0) {
          throw new CanonicalizationError('UNSUPPORTED_TYPE', pointer(stack), 'symbol-keyed properties have no JSON form');
        }
        // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
        const keys = Object.keys(v).sort();
        open.add(v);
        out.push('{');
        stack.push({ container: v, keys, length: keys.length, index: 0 });
        return;
      }
      throw new CanonicalizationError('UNSUPPORTED_TYPE', pointer(stack), `${describe(v)} is not a plain object or array`);
    default:
      throw new CanonicalizationError('UNSUPPORTED_TYPE', pointer(stack), `${typeof v} has no JSON form`);
  }
}

/** JSON string literal per RFC 8785 §3.2.2.2, which is JSON.stringify's escaping once lone surrogates are refused. */
function quote(s: string, stack: Frame[], isKey = false): string {
  // The cheap test first: most strings have no surrogate at all, paired or not.
  if (ANY_SURROGATE.test(s) && LONE_SURROGATE.test(s)) {
    const at = s.search(LONE_SURROGATE);
    const unit = s.charCodeAt(at).toString(16);
    throw new CanonicalizationError('LONE_SURROGATE', pointer(stack), `${isKey ? 'key' : 'string'} has a lone surrogate \\u${unit} at index ${at}`);
  }
  return JSON.stringify(s);
}

/** Only {} literals and Object.create(null): class instances, Dates, Maps, boxed primitives etc. are refused. */
function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: object): string {
  const ctor = (v as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'object with a custom prototype';
}

/** JSON Pointer to the member currently being written; only built when reporting an error. */
function pointer(stack: Frame[]): string {
  let p = '';
  for (const f of stack) {
    const i = f.index - 1;
    const seg = f.keys === null ? String(i) : f.keys[i];
    p += '/' + seg.replace(/~/g, '~0').replace(/\//g, '~1');
  }
  return p;
}
