-- An intent delegated from a parent that has not arrived yet (another agent's, on another partition) waits for it up
-- to the policy's grace window, as `pending` until judge_after; its actions wait with it.
ALTER TABLE intents DROP CONSTRAINT intents_status_check;
ALTER TABLE intents ADD CONSTRAINT intents_status_check CHECK (status IN ('open', 'closed', 'denied', 'pending'));
ALTER TABLE intents ADD COLUMN judge_after TIMESTAMPTZ(6);
CREATE INDEX intents_pending_idx ON intents(judge_after) WHERE status = 'pending';
