-- Runtime-bound identity, just-in-time proof-of-possession credentials, and the gateway half of reconciliation.

-- Refusals at the credential broker and the tool gateway, and enrolment without valid evidence.
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'CREDENTIAL_INVALID';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'CREDENTIAL_EXPIRED';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'CREDENTIAL_REVOKED';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'PROOF_INVALID';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'PROOF_KEY_MISMATCH';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'PROOF_BINDING_MISMATCH';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'PROOF_STALE';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'PROOF_REPLAYED';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'NOT_A_GATEWAY';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'ATTESTATION_INVALID';

-- What a registered party is: an agent, or a tool gateway (only gateways may sign action.observed).
ALTER TABLE agents ADD COLUMN role TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'gateway'));

-- Attestors the operator trusts to vouch for where an agent key lives (runtime, host, token).
CREATE TABLE attestors (
  key_id     TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  public_key BYTEA NOT NULL CHECK (octet_length(public_key) = 32),
  status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
  added_at   TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);

-- The evidence an agent key was enrolled with, and the key that replaced it at rotation.
ALTER TABLE agent_keys
  ADD COLUMN attestor_key_id TEXT REFERENCES attestors(key_id),
  ADD COLUMN attestation     JSONB,
  ADD COLUMN replaced_by     TEXT;

-- Tokens the broker issued for a credential: each bound to one key (its RFC 7638 thumbprint), short-lived.
CREATE TABLE credential_tokens (
  token_id      TEXT PRIMARY KEY,
  credential_id TEXT NOT NULL REFERENCES credentials(credential_id),
  agent_id      TEXT NOT NULL,
  intent_id     TEXT NOT NULL,
  key_id        TEXT NOT NULL,
  jkt           TEXT NOT NULL,
  issued_at     TIMESTAMPTZ(6) NOT NULL,
  expires_at    TIMESTAMPTZ(6) NOT NULL,
  revoked_at    TIMESTAMPTZ(6)
);
CREATE INDEX credential_tokens_credential_id_idx ON credential_tokens(credential_id);

-- Calls a gateway saw (action.observed), waiting for the agent's own report until judge_after.
CREATE TABLE observations (
  event_id          TEXT PRIMARY KEY,
  gateway_id        TEXT NOT NULL,
  subject_agent_id  TEXT NOT NULL,
  intent_id         TEXT,
  action_id         TEXT NOT NULL,
  tool              TEXT NOT NULL,
  args_digest       TEXT NOT NULL,
  targets           JSONB NOT NULL,
  credential_id     TEXT,
  ts                TIMESTAMPTZ(6) NOT NULL,
  judge_after       TIMESTAMPTZ(6) NOT NULL,
  matched_event_id  TEXT,
  judged            BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX observations_subject_action_idx ON observations(subject_agent_id, action_id);
CREATE INDEX observations_unjudged_idx ON observations(judge_after) WHERE NOT judged AND matched_event_id IS NULL;

-- Reported calls to gateway-only tools, waiting for a gateway's observation until judge_after.
CREATE TABLE awaiting_observations (
  action_event_id TEXT PRIMARY KEY,
  agent_id        TEXT NOT NULL,
  intent_id       TEXT,
  action_id       TEXT NOT NULL,
  tool            TEXT NOT NULL,
  args_digest     TEXT NOT NULL,
  judge_after     TIMESTAMPTZ(6) NOT NULL
);
CREATE INDEX awaiting_observations_judge_after_idx ON awaiting_observations(judge_after);
CREATE INDEX awaiting_observations_action_idx ON awaiting_observations(agent_id, action_id);

-- Reports looked up by the agent's own action id when an observation arrives.
CREATE INDEX actions_agent_action_idx ON actions(agent_id, action_id);
