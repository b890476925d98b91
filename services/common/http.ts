import type { IncomingMessage, ServerResponse } from 'node:http';
import { IntentLedgerError } from './errors';

/** An HTTP refusal: the status, a stable reason code and a sentence for the caller. */
export class HttpError extends IntentLedgerError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}
/** The same refusal under the name the OAuth-shaped endpoints (broker, gateway) use. */
export { HttpError as HttpRequestError };

export const tooLarge = (max: number, code = 'TOO_LARGE') => new HttpError(413, code, `request bodies are limited to ${max} bytes`);

/**
 * The body, up to `max` bytes; past it the rest is read and dropped (not kept), so the 413 still reaches the caller
 * instead of a reset connection. `code` is the reason code of that 413.
 */
export function readBody(req: IncomingMessage, max: number, code = 'TOO_LARGE'): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > max) {
    req.resume();
    return Promise.reject(tooLarge(max, code));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => (size > max ? reject(tooLarge(max, code)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/**
 * The parameters of a form (`application/x-www-form-urlencoded`, as OAuth endpoints take them) or a JSON object. A
 * form parameter given twice is refused (RFC 6749 §3.1).
 */
export function parseParams(req: IncomingMessage, body: Buffer): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) {
      if (Object.hasOwn(out, k)) throw new HttpError(400, 'invalid_request', `parameter ${k} given more than once`);
      out[k] = v;
    }
    return out;
  }
  if (type === 'application/json') {
    let v: unknown;
    try {
      v = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid_request', 'body is not JSON');
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'invalid_request', 'body must be a JSON object');
    return v as Record<string, unknown>;
  }
  throw new HttpError(415, 'invalid_request', 'body must be application/json or application/x-www-form-urlencoded');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, e: HttpError): void {
  sendJson(res, e.status, { error: { code: e.code, message: e.message } });
}

/** The one header value, or undefined when absent or repeated (a repeated DPoP header is an error, RFC 9449 §4.3). */
export function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const raw = req.headersDistinct[name.toLowerCase()];
  return raw && raw.length === 1 ? raw[0] : undefined;
}

/**
 * Where a request carries U+0000 (in a string, a key or a parameter), or null. The ledger refuses NUL in any event
 * (SCHEMA_INVALID), so a request whose record would carry one is refused here, before it could be half-recorded.
 */
export function nulIn(value: unknown, where = '(body)'): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? where : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const w = nulIn(value[i], `${where}[${i}]`);
      if (w) return w;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) return `${where} key`;
      const w = nulIn(v, `${where}.${k}`);
      if (w) return w;
    }
  }
  return null;
}

/** Listens, or fails with PORT_IN_USE naming the setting to change (instead of a raw EADDRINUSE stack). */
export function listen(server: import('node:http').Server, host: string, port: number, setting: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new IntentLedgerError('PORT_IN_USE', `${host}:${port} is already in use (another instance?); stop it or set ${setting} to a free port`));
      else if (e.code === 'EACCES') reject(new IntentLedgerError('PORT_IN_USE', `not allowed to listen on ${host}:${port}; set ${setting} to a port above 1023`));
      else reject(e);
    });
    server.listen(port, host, () => resolve());
  });
}

/**
 * The OAuth-shaped answer of the broker and the gateway (RFC 6749 §5.2: `error`, `error_description`) to a request
 * that failed: its own refusal as given, anything else logged and answered 500 without detail.
 */
export function sendOAuthFailure(res: ServerResponse, e: unknown, log: { error(msg: string, fields?: Record<string, unknown>): void }, what: string): void {
  if (e instanceof HttpError) return sendJson(res, e.status, { error: e.code, error_description: e.message });
  log.error(`${what} request failed`, { error: (e as Error).message });
  sendJson(res, 500, { error: 'server_error' });
}
