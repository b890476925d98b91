-- Analysts act on findings and credentials through the API: acknowledgements, and revocations by hand (which have
-- no finding behind them, only the analyst's reason).
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'ANALYST_REVOKED';

ALTER TABLE drift_findings
  ADD COLUMN acknowledged_at TIMESTAMPTZ(6),
  ADD COLUMN acknowledged_by TEXT,
  ADD COLUMN ack_note        TEXT;
CREATE INDEX drift_findings_created_at_idx ON drift_findings(created_at);
CREATE INDEX drift_findings_intent_id_idx ON drift_findings(intent_id);

ALTER TABLE revocations
  ALTER COLUMN finding_id DROP NOT NULL,
  ALTER COLUMN action_event_id DROP NOT NULL,
  ALTER COLUMN action_produced_at DROP NOT NULL,
  ALTER COLUMN latency_ms DROP NOT NULL,
  ADD COLUMN revoked_by TEXT,
  ADD COLUMN note       TEXT;
