import type { IncomingMessage, ServerResponse } from 'node:http';
import { IntentLedgerError } from './errors';

/** A request we refuse before any handler runs (too large, wrong type, not JSON). */
export class HttpRequestError extends IntentLedgerError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** The body, up to `maxBytes`; larger bodies are refused without reading them to the end. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) return reject(new HttpRequestError(413, 'invalid_request', `request body over ${maxBytes} bytes`));
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > maxBytes) {
        reject(new HttpRequestError(413, 'invalid_request', `request body over ${maxBytes} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
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
      if (Object.hasOwn(out, k)) throw new HttpRequestError(400, 'invalid_request', `parameter ${k} given more than once`);
      out[k] = v;
    }
    return out;
  }
  if (type === 'application/json') {
    let v: unknown;
    try {
      v = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpRequestError(400, 'invalid_request', 'body is not JSON');
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpRequestError(400, 'invalid_request', 'body must be a JSON object');
    return v as Record<string, unknown>;
  }
  throw new HttpRequestError(415, 'invalid_request', 'body must be application/json or application/x-www-form-urlencoded');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The one header value, or undefined when absent or repeated (a repeated DPoP header is an error, RFC 9449 §4.3). */
export function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const raw = req.headersDistinct[name.toLowerCase()];
  return raw && raw.length === 1 ? raw[0] : undefined;
}
