import type { Pool } from 'pg';
import { checkPublicKey } from '../../schema/crypto/ed25519';
import { KeyRegistrationRefused } from '../common/errors';
import { keyIdFor } from '../sdk/agentKey';

export interface KeyRegistration {
  agentId: string;
  publicKey: Uint8Array;
  displayName?: string;
  /** `gateway`: a tool gateway, the only kind of party whose action.observed events the reconciler believes. */
  role?: 'agent' | 'gateway';
}

/**
 * Registers an agent's public key. Keys that are not valid Ed25519 points, or have small order (which would let
 * one signature verify for many messages), are refused here so the verifier never meets them. Registering the same
 * key twice is a no-op; the key id is derived from the key, so a key cannot be moved to another agent.
 */
export async function registerAgentKey(pool: Pool, reg: KeyRegistration): Promise<{ keyId: string }> {
  const problem = checkPublicKey(reg.publicKey);
  if (problem) throw new KeyRegistrationRefused(problem, `public key for agent ${reg.agentId} refused: ${problem}`);
  if (!/^[A-Za-z0-9._:@\/-]{1,128}$/.test(reg.agentId)) {
    throw new KeyRegistrationRefused('AGENT_ID_INVALID', `agent id must be 1-128 chars of [A-Za-z0-9._:@/-]; got "${reg.agentId}"`);
  }
  const keyId = keyIdFor(reg.publicKey);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const role = reg.role ?? 'agent';
    await client.query('INSERT INTO agents (agent_id, display_name, role) VALUES ($1, $2, $3) ON CONFLICT (agent_id) DO NOTHING', [
      reg.agentId,
      reg.displayName ?? null,
      role,
    ]);
    const existing = (await client.query<{ role: string }>('SELECT role FROM agents WHERE agent_id = $1', [reg.agentId])).rows[0]!;
    if (existing.role !== role) throw new KeyRegistrationRefused('ROLE_CONFLICT', `${reg.agentId} is registered as ${existing.role}, not ${role}`);
    await client.query(
      "INSERT INTO agent_heads (agent_id, last_seq, last_hash) VALUES ($1, 0, '') ON CONFLICT (agent_id) DO NOTHING",
      [reg.agentId],
    );
    const ins = await client.query(
      'INSERT INTO agent_keys (key_id, agent_id, public_key) VALUES ($1, $2, $3) ON CONFLICT (key_id) DO NOTHING',
      [keyId, reg.agentId, Buffer.from(reg.publicKey)],
    );
    if (ins.rowCount === 0) {
      const { rows } = await client.query<{ agent_id: string }>('SELECT agent_id FROM agent_keys WHERE key_id = $1', [keyId]);
      if (rows[0]?.agent_id !== reg.agentId) {
        throw new KeyRegistrationRefused('KEY_CONFLICT', `key ${keyId} is already registered to another agent`);
      }
    }
    await client.query('COMMIT');
    return { keyId };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** Retires a key: events signed with it after this are rejected with KEY_RETIRED. */
export async function retireAgentKey(pool: Pool, keyId: string): Promise<boolean> {
  const r = await pool.query("UPDATE agent_keys SET status = 'retired', retired_at = now() WHERE key_id = $1 AND status = 'active'", [keyId]);
  return (r.rowCount ?? 0) > 0;
}
