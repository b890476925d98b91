-- Intent-based authorisation: budgets, delegation between intents, policy at declaration, decisions at request
-- time as ledger events, and a grace window for actions whose intent has not arrived yet.
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'BUDGET_EXCEEDED';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'INTENT_AFTER_ACTION';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'DELEGATION_ESCALATION';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'POLICY_DENIED';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'APPROVAL_REQUIRED';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'WINDOW_TOO_LONG';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'UNREPORTED_ACTION';
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'UNOBSERVED_ACTION';

-- An intent may be delegated from a parent (possibly another agent's); the root is the first of the chain.
-- `denied`: refused at declaration (policy, or a child claiming more than its parent); no credential is issued.
ALTER TABLE intents
  ADD COLUMN parent_intent_id TEXT,
  ADD COLUMN root_intent_id   TEXT,
  ADD COLUMN approval_ref     TEXT,
  ADD COLUMN max_actions      INTEGER CHECK (max_actions >= 0),
  ADD COLUMN denied_for       reason_code,
  ADD COLUMN open_targets     JSONB;
ALTER TABLE intents DROP CONSTRAINT intents_status_check;
ALTER TABLE intents ADD CONSTRAINT intents_status_check CHECK (status IN ('open', 'closed', 'denied'));
CREATE INDEX intents_parent_intent_id_idx ON intents(parent_intent_id);

-- Findings about an intent (policy, delegation) name the intent's event in action_event_id: the column is "the
-- event judged". Their tool is '' (no tool call).

-- Actions whose intent was not in the ledger when they arrived: judged when it comes, or as INTENT_UNKNOWN once
-- judge_after passes (events cross partitions and agents, so order of arrival is not order of declaration).
CREATE TABLE pending_actions (
  event_id    TEXT PRIMARY KEY,
  intent_id   TEXT NOT NULL,
  agent_id    TEXT NOT NULL,
  arrived_at  TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  judge_after TIMESTAMPTZ(6) NOT NULL
);
CREATE INDEX pending_actions_intent_id_idx ON pending_actions(intent_id);
CREATE INDEX pending_actions_judge_after_idx ON pending_actions(judge_after);

-- Request-time decisions (authorization.decided events), as the ledger holds them.
CREATE TABLE authorization_decisions (
  event_id         TEXT PRIMARY KEY,
  decided_by       TEXT NOT NULL,
  subject_agent_id TEXT NOT NULL,
  intent_id        TEXT,
  tool             TEXT NOT NULL,
  decision         TEXT NOT NULL CHECK (decision IN ('allow', 'deny')),
  reason_codes     reason_code[] NOT NULL,
  reasons          JSONB NOT NULL,
  decided_at       TIMESTAMPTZ(6) NOT NULL
);
CREATE INDEX authorization_decisions_subject_idx ON authorization_decisions(subject_agent_id);
CREATE INDEX authorization_decisions_intent_idx ON authorization_decisions(intent_id);
