import { z } from 'zod';

/**
 * What travels on `<prefix>.revocations`, keyed by agent: a credential revoked on drift (the reconciler), a
 * credential ended with its intent (the reconciler, on intent.closed), or one token revoked at the broker (RFC
 * 7009). Every gateway reads them all and refuses what they name from then on. Fields beyond these are for the SOC.
 */
export const CredentialRevokedNotice = z.object({
  type: z.literal('credential.revoked'),
  credentialId: z.string().min(1).max(128),
  agentId: z.string().min(1).max(128),
  intentId: z.string().min(1).max(128),
});
export const CredentialClosedNotice = z.object({
  type: z.literal('credential.closed'),
  credentialId: z.string().min(1).max(128),
  agentId: z.string().min(1).max(128),
  intentId: z.string().min(1).max(128),
  closedAt: z.string(),
});
export const TokenRevokedNotice = z.object({
  type: z.literal('token.revoked'),
  tokenId: z.string().min(1).max(256),
  credentialId: z.string().min(1).max(128),
  agentId: z.string().min(1).max(128),
  intentId: z.string().min(1).max(128),
  revokedAt: z.string(),
});
export const RevocationTopicNotice = z.discriminatedUnion('type', [CredentialRevokedNotice, CredentialClosedNotice, TokenRevokedNotice]);
export type RevocationTopicNotice = z.infer<typeof RevocationTopicNotice>;
export type CredentialClosedNotice = z.infer<typeof CredentialClosedNotice>;
export type TokenRevokedNotice = z.infer<typeof TokenRevokedNotice>;

/** The notice in a revocations-topic record, or null when the record is not one. */
export function parseRevocationNotice(value: Buffer | null): RevocationTopicNotice | null {
  if (!value || value.length > 64 * 1024) return null;
  try {
    const r = RevocationTopicNotice.safeParse(JSON.parse(value.toString('utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
