import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { generateKeyPair, keyPairFromSeed, sign } from '../../schema/crypto/ed25519';
import { encode as b64uEncode, decode as b64uDecode } from '../../schema/crypto/base64url';

/**
 * An agent's signing identity. The secret key stays in the agent's process (or its key file, mode 0600); only the
 * public key is registered. Hardware-backed keys (PKCS#11) are a later step and will implement the same `sign`.
 */
export interface AgentKey {
  agentId: string;
  keyId: string;
  publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** keyId is derived from the public key, so it cannot be chosen to collide with another agent's. */
export function keyIdFor(publicKey: Uint8Array): string {
  return 'ed25519:' + createHash('sha256').update(publicKey).digest('base64url').slice(0, 22);
}

export function createAgentKey(agentId: string, seed?: Uint8Array): AgentKey & { seed: Uint8Array } {
  const kp = seed ? keyPairFromSeed(seed) : generateKeyPair();
  const secretKey = kp.secretKey;
  return {
    agentId,
    keyId: keyIdFor(kp.publicKey),
    publicKey: kp.publicKey,
    seed: secretKey.slice(0, 32),
    sign: (m: Uint8Array) => sign(m, secretKey),
  };
}

/** Loads the agent's key from a file, creating it (mode 0600) on first use. */
export function loadOrCreateAgentKey(file: string, agentId: string): AgentKey {
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { agentId: string; seed: string };
    if (stored.agentId !== agentId) throw new Error(`key file ${file} belongs to agent ${stored.agentId}, not ${agentId}`);
    return createAgentKey(agentId, b64uDecode(stored.seed));
  }
  const key = createAgentKey(agentId);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ agentId, keyId: key.keyId, seed: b64uEncode(key.seed) }) + '\n', { mode: 0o600 });
  return key;
}
