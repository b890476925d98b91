-- Integrity findings (a fork, a gap in an agent's chain) revoke like drift does: the reconciler handles each once,
-- at or above the policy's revokeAt. Findings from before this migration count as handled.
ALTER TABLE integrity_findings ADD COLUMN handled_at TIMESTAMPTZ(6);
UPDATE integrity_findings SET handled_at = created_at;
CREATE INDEX integrity_findings_unhandled_idx ON integrity_findings(id) WHERE handled_at IS NULL;
