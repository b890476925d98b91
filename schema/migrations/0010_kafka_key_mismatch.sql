-- A genuine event whose Kafka record key is not its agent's id: refused, so that no one can move an agent's events
-- to another partition to reorder its chain.
ALTER TYPE reason_code ADD VALUE IF NOT EXISTS 'KAFKA_KEY_MISMATCH' AFTER 'KEY_AGENT_MISMATCH';
