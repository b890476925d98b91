import { z } from 'zod';
import { REASON_CODES, SEVERITIES } from '../../schema/reasons';
import { parseStrictJson } from '../../schema/crypto/strictJson';
import type { DriftAlert } from '../reconciler/reconcileNotice';

/** The reconciler writes one alert per finding; anything much larger on the alerts topic did not come from it. */
export const MAX_ALERT_BYTES = 256 * 1024;

const Id = z.string().min(1).max(256);
const Codes = z.array(z.string().min(1).max(64)).max(64);

/** A drift alert as the reconciler publishes it (consumers/reconciler/reconcileNotice.ts `DriftAlert`). */
export const DriftAlertSchema = z
  .object({
    type: z.literal('drift.finding'),
    findingId: z.string().regex(/^[1-9]\d{0,18}$/, 'a finding id is the decimal id of a drift_findings row'),
    agentId: Id,
    intentId: Id.nullable(),
    actionEventId: Id,
    tool: z.string().max(256),
    reasonCode: z.enum(REASON_CODES),
    severity: z.enum(SEVERITIES),
    detail: z.string().max(64 * 1024),
    frameworks: z.object({ owaspAgentic: Codes, maestro: Codes, nistAiRmf: Codes }).strict(),
    credentialsRevoked: z.array(Id).max(1024),
  })
  .strict();

/**
 * An integrity finding as the reconciler publishes it (consumers/reconciler/integrityRevocation.ts): a fork, a gap or
 * a late event in an agent's chain. Delivered like a drift alert, with no intent or tool.
 */
export const IntegrityAlertSchema = z
  .object({
    type: z.literal('integrity.finding'),
    findingId: z.string().regex(/^[1-9]\d{0,18}$/, 'a finding id is the decimal id of an integrity_findings row'),
    agentId: Id,
    eventId: Id.nullable(),
    reasonCode: z.enum(REASON_CODES),
    severity: z.enum(SEVERITIES),
    detail: z.string().max(64 * 1024),
    frameworks: z.object({ owaspAgentic: Codes, maestro: Codes, nistAiRmf: Codes }).strict(),
    credentialsRevoked: z.array(Id).max(1024),
  })
  .strict();

export type AlertDecode = { ok: true; alert: DriftAlert } | { ok: false; problem: string };

/**
 * Reads one alerts-topic record strictly (UTF-8, no duplicate keys, the exact shape): an alert is what the SOC acts
 * on, so a record that is not one is kept aside with the reason, never half-read.
 */
export function decodeAlert(value: Buffer | null): AlertDecode {
  if (value === null) return { ok: false, problem: 'record has no value' };
  let json: unknown;
  try {
    json = parseStrictJson(value, { maxBytes: MAX_ALERT_BYTES, maxDepth: 8 });
  } catch (e) {
    return { ok: false, problem: `not a JSON alert: ${(e as Error).message}` };
  }
  if ((json as { type?: unknown } | null)?.type === 'integrity.finding') {
    const i = IntegrityAlertSchema.safeParse(json);
    if (!i.success) return { ok: false, problem: `not an integrity alert: ${i.error.issues.map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ')}` };
    const { eventId, ...rest } = i.data;
    return { ok: true, alert: { ...rest, intentId: null, actionEventId: eventId ?? '', tool: '' } };
  }
  const parsed = DriftAlertSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, problem: `not a drift alert: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  }
  return { ok: true, alert: parsed.data };
}
