import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhookSignature } from './webhookSignature';
import { WebhookSignatureError } from '../errors';

const key = Buffer.from('k'.repeat(40));
const body = Buffer.from('{"findingId":"42"}');

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof WebhookSignatureError) return e.code;
    throw e;
  }
  return 'ok';
}

describe('webhook signature', () => {
  it('is t=<seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>', () => {
    const expected = createHmac('sha256', key).update('1767225600.').update(body).digest('hex');
    expect(signWebhook(body, key, 1767225600)).toBe(`t=1767225600,v1=${expected}`);
  });

  it('verifies within the tolerance and returns the signed time', () => {
    const h = signWebhook(body, key, 1000);
    expect(verifyWebhookSignature(h, body, key, { nowSeconds: 1000 + 299 })).toBe(1000);
    expect(verifyWebhookSignature(`${h},v1=${'0'.repeat(64)}`, body, key, { nowSeconds: 1000 })).toBe(1000); // rotation: any v1 may match
  });

  it('refuses a replay outside the tolerance, a changed body, a changed timestamp, another key, and malformed headers', () => {
    const h = signWebhook(body, key, 1000);
    expect(code(() => verifyWebhookSignature(h, body, key, { nowSeconds: 1000 + 301 }))).toBe('SIGNATURE_STALE');
    expect(code(() => verifyWebhookSignature(h, Buffer.from('{"findingId":"43"}'), key, { nowSeconds: 1000 }))).toBe('SIGNATURE_MISMATCH');
    expect(code(() => verifyWebhookSignature(h.replace('t=1000', 't=1001'), body, key, { nowSeconds: 1000 }))).toBe('SIGNATURE_MISMATCH');
    expect(code(() => verifyWebhookSignature(h, body, Buffer.from('x'.repeat(40)), { nowSeconds: 1000 }))).toBe('SIGNATURE_MISMATCH');
    expect(code(() => verifyWebhookSignature(undefined, body, key))).toBe('SIGNATURE_MISSING');
    expect(code(() => verifyWebhookSignature('v1=abc', body, key))).toBe('SIGNATURE_MALFORMED');
    expect(code(() => verifyWebhookSignature('t=1000', body, key))).toBe('SIGNATURE_MALFORMED');
    expect(code(() => verifyWebhookSignature('t=1000,t=1001,v1=' + 'a'.repeat(64), body, key))).toBe('SIGNATURE_MALFORMED');
  });
});
