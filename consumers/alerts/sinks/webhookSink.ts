import type { Delivery } from '../delivery';
import type { WebhookSinkConfig } from '../sinksConfig';
import { FORMATS } from '../format';
import { SinkError } from '../errors';
import { PRODUCT } from '../format/product';
import type { Sink } from './sink';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signWebhook } from './webhookSignature';

/** Statuses that say "later": timeout, too early, too many requests, and every server error. */
export function webhookRetryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * HTTP POST of the formatted delivery, signed (X-IntentLedger-Signature) and carrying its idempotency key
 * (X-IntentLedger-Delivery and Idempotency-Key). Any 2xx is delivered. Redirects are not followed: a signed alert
 * goes to the configured URL or nowhere.
 */
export function webhookSink(cfg: WebhookSinkConfig, now: () => Date = () => new Date()): Sink {
  const format = FORMATS[cfg.format];
  return {
    name: cfg.name,
    async deliver(d: Delivery) {
      let body: Buffer;
      try {
        body = Buffer.from(format.render(d), 'utf8');
      } catch (e) {
        throw new SinkError('SINK_FORMAT_FAILED', `cannot format delivery ${d.deliveryId} as ${cfg.format}: ${(e as Error).message}`, false);
      }
      const t = Math.floor(now().getTime() / 1000);
      let res: Response;
      try {
        res = await fetch(cfg.url, {
          method: 'POST',
          redirect: 'manual',
          signal: AbortSignal.timeout(cfg.timeoutMs),
          headers: {
            'content-type': format.contentType,
            'user-agent': `${PRODUCT.name}/${PRODUCT.version}`,
            [SIGNATURE_HEADER]: signWebhook(body, cfg.hmacKey, t),
            [DELIVERY_HEADER]: d.deliveryId,
            'idempotency-key': d.deliveryId,
          },
          body,
        });
      } catch (e) {
        const err = e as Error & { cause?: { code?: string; message?: string } };
        if (err.name === 'TimeoutError') throw new SinkError('SINK_TIMEOUT', `POST ${cfg.url}: no response within ${cfg.timeoutMs} ms`, true);
        throw new SinkError('SINK_UNREACHABLE', `POST ${cfg.url}: ${err.cause?.code ?? ''} ${err.cause?.message ?? err.message}`.trim(), true);
      }
      const text = await res.text().catch(() => '');
      if (res.status >= 200 && res.status < 300) return;
      const snippet = text.slice(0, 200).replace(/\s+/g, ' ');
      throw new SinkError(webhookRetryable(res.status) ? 'SINK_REFUSED' : 'SINK_REJECTED', `POST ${cfg.url}: HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`, webhookRetryable(res.status));
    },
    async close() {},
  };
}
