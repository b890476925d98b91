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

export const tooLarge = (max: number) => new HttpError(413, 'TOO_LARGE', `request bodies are limited to ${max} bytes`);

/** The body, up to `max` bytes; past it the rest is read and dropped (not kept), so the 413 still reaches the caller. */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > max) {
    req.resume();
    return Promise.reject(tooLarge(max));
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
    req.on('end', () => (size > max ? reject(tooLarge(max)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
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
