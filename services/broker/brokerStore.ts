import type { Pool } from 'pg';
import type { IssueView } from './decideIssue';

/** The broker's reads and writes: intents and credentials are the reconciler's; tokens are the broker's own. */
export async function loadIssueView(pool: Pool, intentId: string, keyId: string): Promise<IssueView> {
  const r = await pool.query<{
    i_agent: string | null; status: 'open' | 'closed' | 'denied' | null; not_before: Date | null; not_after: Date | null;
    credential_id: string | null; c_status: 'active' | 'revoked' | 'expired' | null; expires_at: Date | null;
    k_agent: string | null; k_status: 'active' | 'retired' | null;
  }>(
    `SELECT i.agent_id AS i_agent, i.status, i.not_before, i.not_after, c.credential_id, c.status AS c_status, c.expires_at,
            k.agent_id AS k_agent, k.status AS k_status
       FROM (SELECT 1) one
       LEFT JOIN intents i ON i.intent_id = $1
       LEFT JOIN credentials c ON c.intent_id = $1 AND c.agent_id = i.agent_id
       LEFT JOIN agent_keys k ON k.key_id = $2`,
    [intentId, keyId],
  );
  const x = r.rows[0]!;
  return {
    intent: x.i_agent ? { intentId, agentId: x.i_agent, status: x.status!, notBefore: x.not_before!, notAfter: x.not_after! } : null,
    credential: x.credential_id ? { credentialId: x.credential_id, status: x.c_status!, expiresAt: x.expires_at! } : null,
    key: x.k_agent ? { keyId, agentId: x.k_agent, status: x.k_status! } : null,
  };
}

export async function keyStatus(pool: Pool, keyId: string): Promise<{ agentId: string; status: 'active' | 'retired' } | null> {
  const r = await pool.query<{ agent_id: string; status: 'active' | 'retired' }>('SELECT agent_id, status FROM agent_keys WHERE key_id = $1', [keyId]);
  return r.rows[0] ? { agentId: r.rows[0].agent_id, status: r.rows[0].status } : null;
}

export interface TokenRow {
  tokenId: string;
  credentialId: string;
  agentId: string;
  intentId: string;
  keyId: string;
  jkt: string;
  issuedAt: Date;
  expiresAt: Date;
}

export async function insertToken(pool: Pool, t: TokenRow): Promise<void> {
  await pool.query(
    `INSERT INTO credential_tokens (token_id, credential_id, agent_id, intent_id, key_id, jkt, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [t.tokenId, t.credentialId, t.agentId, t.intentId, t.keyId, t.jkt, t.issuedAt, t.expiresAt],
  );
}

/** A token and whether it and its credential still stand. */
export async function tokenState(pool: Pool, tokenId: string): Promise<{ revoked: boolean; credentialStatus: string } | null> {
  const r = await pool.query<{ revoked_at: Date | null; status: string }>(
    'SELECT t.revoked_at, c.status FROM credential_tokens t JOIN credentials c USING (credential_id) WHERE t.token_id = $1',
    [tokenId],
  );
  return r.rows[0] ? { revoked: r.rows[0].revoked_at !== null, credentialStatus: r.rows[0].status } : null;
}

/** Marks a token revoked; returns it the first time only. */
export async function revokeToken(pool: Pool, tokenId: string): Promise<{ credentialId: string; agentId: string; intentId: string; revokedAt: Date } | null> {
  const r = await pool.query<{ credential_id: string; agent_id: string; intent_id: string; revoked_at: Date }>(
    'UPDATE credential_tokens SET revoked_at = now() WHERE token_id = $1 AND revoked_at IS NULL RETURNING credential_id, agent_id, intent_id, revoked_at',
    [tokenId],
  );
  const x = r.rows[0];
  return x ? { credentialId: x.credential_id, agentId: x.agent_id, intentId: x.intent_id, revokedAt: x.revoked_at } : null;
}
