-- An event whose seq is behind its agent's chain head, filling a gap that ingest recorded as SEQ_GAP: it is
-- ledgered (and reconciled) with a LATE_EVENT finding instead of being rejected, so an agent cannot hide an action
-- by sending its successor first.
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'LATE_EVENT' AFTER 'SEQ_GAP';
