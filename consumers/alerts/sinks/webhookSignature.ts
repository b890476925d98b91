import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookSignatureError } from '../errors';

export const SIGNATURE_HEADER = 'X-IntentLedger-Signature';
export const DELIVERY_HEADER = 'X-IntentLedger-Delivery';

/** How far a signature's timestamp may be from the receiver's clock before the request is taken as a replay. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function mac(key: Buffer, timestamp: number, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`${timestamp}.`, 'utf8').update(body).digest();
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>." followed by the exact body bytes>`. The timestamp is inside
 * the MAC, so a captured request cannot be replayed later with a fresh one.
 */
export function signWebhook(body: Buffer, key: Buffer, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${mac(key, timestampSeconds, body).toString('hex')}`;
}

/**
 * What a receiver does with the header: parse, check the timestamp is within the tolerance, and compare in
 * constant time against every `v1` given (several while keys are rotated). Throws a WebhookSignatureError naming
 * what is wrong; returns the signed timestamp. Receivers should also drop a repeated X-IntentLedger-Delivery id.
 */
export function verifyWebhookSignature(
  header: string | undefined,
  body: Buffer,
  key: Buffer,
  opts: { nowSeconds?: number; toleranceSeconds?: number } = {},
): number {
  if (header === undefined || header === '') throw new WebhookSignatureError('SIGNATURE_MISSING', `no ${SIGNATURE_HEADER} header`);
  let t: number | null = null;
  const v1: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (eq < 1) throw new WebhookSignatureError('SIGNATURE_MALFORMED', `${SIGNATURE_HEADER} part "${part}" is not key=value`);
    if (k === 't') {
      if (!/^\d{1,12}$/.test(v) || t !== null) throw new WebhookSignatureError('SIGNATURE_MALFORMED', `${SIGNATURE_HEADER} needs one t=<unix seconds>`);
      t = Number(v);
    } else if (k === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(v)) throw new WebhookSignatureError('SIGNATURE_MALFORMED', `${SIGNATURE_HEADER} v1 must be 64 lowercase hex digits`);
      v1.push(Buffer.from(v, 'hex'));
    }
  }
  if (t === null || v1.length === 0) throw new WebhookSignatureError('SIGNATURE_MALFORMED', `${SIGNATURE_HEADER} needs t= and at least one v1=`);
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - t) > tolerance) throw new WebhookSignatureError('SIGNATURE_STALE', `signed at ${t}, ${now - t} s from now; more than ${tolerance} s is taken as a replay`);
  const expected = mac(key, t, body);
  if (!v1.some((s) => timingSafeEqual(s, expected))) throw new WebhookSignatureError('SIGNATURE_MISMATCH', 'no v1 signature matches the body under this key');
  return t;
}
