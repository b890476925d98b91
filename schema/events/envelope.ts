import { z } from 'zod';
import { IntentDeclaredPayload, IntentClosedPayload } from './intent';
import { ActionReportedPayload } from './action';
import { AuthorizationDecidedPayload } from './decision';
import { AnalystActivityPayload } from './analyst';
import { ActionObservedPayload } from './observation';
import { Rfc3339Utc } from './time';

/** Agent, key and event ids: 1-128 chars of [A-Za-z0-9._:@/-]. */
export const ID_PATTERN = /^[A-Za-z0-9._:@\/-]{1,128}$/;
const Id = z.string().min(1).max(128).regex(ID_PATTERN, 'ids are 1-128 chars of [A-Za-z0-9._:@/-]');
const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');

export const EVENT_TYPES = ['intent.declared', 'action.reported', 'intent.closed', 'authorization.decided', 'analyst.activity', 'action.observed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const base = {
  v: z.literal(1),
  eventId: Id,
  agentId: Id,
  keyId: Id,
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  prevHash: Sha256Hex.nullable(),
  ts: Rfc3339Utc,
  sig: z.string().min(1).max(200),
};

/**
 * The signed envelope. `sig` is Ed25519 over the JCS form of every other field; `prevHash` chains the agent's
 * events (null only at seq 1) and is the SHA-256 of the previous envelope's JCS form including its signature.
 */
export const Envelope = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('intent.declared'), payload: IntentDeclaredPayload }).strict(),
  z.object({ ...base, type: z.literal('action.reported'), payload: ActionReportedPayload }).strict(),
  z.object({ ...base, type: z.literal('intent.closed'), payload: IntentClosedPayload }).strict(),
  z.object({ ...base, type: z.literal('authorization.decided'), payload: AuthorizationDecidedPayload }).strict(),
  z.object({ ...base, type: z.literal('analyst.activity'), payload: AnalystActivityPayload }).strict(),
  z.object({ ...base, type: z.literal('action.observed'), payload: ActionObservedPayload }).strict(),
]);
export type Envelope = z.infer<typeof Envelope>;
export type UnsignedEnvelope = Omit<Envelope, 'sig'>;
