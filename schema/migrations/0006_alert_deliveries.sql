-- Alert delivery: every drift alert read from <prefix>.alerts is recorded, and each sink it is routed to gets an
-- outbox row that a dispatcher works off with retries. Rows are scoped by the topic they came from, so several
-- deployments (topic prefixes) can share one database without sending each other's alerts.

-- Every record read from an alerts topic: an alert (finding_id set), or a record that is not one (problem and raw
-- bytes kept). One row per finding per topic: the reconciler may publish an alert twice.
CREATE TABLE alerts_received (
  id              BIGSERIAL PRIMARY KEY,
  source_topic    TEXT NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset    BIGINT NOT NULL,
  finding_id      TEXT,
  alert           JSONB,
  problem         TEXT,
  raw             BYTEA,
  received_at     TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  CHECK ((finding_id IS NULL) = (problem IS NOT NULL)),
  CHECK ((finding_id IS NULL) = (alert IS NULL))
);
CREATE UNIQUE INDEX alerts_received_finding_idx ON alerts_received(source_topic, finding_id);

-- The next offset to read per partition, written in the transaction that records what came before it: a
-- redelivered record below it is skipped before it is even parsed.
CREATE TABLE alert_intake_offsets (
  group_id        TEXT NOT NULL,
  topic           TEXT NOT NULL,
  kafka_partition INTEGER NOT NULL,
  next_offset     BIGINT NOT NULL,
  updated_at      TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, kafka_partition)
);

-- The outbox: one row per (alert, sink), or per (dedupe group, sink) when alerts with the same agent, reason code
-- and intent fold into one delivery within the sink's window. delivery_id is the idempotency key receivers see.
-- pending: not yet delivered (next_attempt_at says when it is tried; a claim pushes it forward by a lease);
-- delivered; failed: refused for good, or out of attempts (kept, with last_error, for `alerts status`).
CREATE TABLE alert_deliveries (
  id              BIGSERIAL PRIMARY KEY,
  delivery_id     TEXT NOT NULL UNIQUE,
  source_topic    TEXT NOT NULL,
  sink            TEXT NOT NULL,
  dedupe_key      TEXT NOT NULL,
  finding_ids     TEXT[] NOT NULL,
  alert           JSONB NOT NULL,
  severity        severity NOT NULL,
  alert_count     INTEGER NOT NULL DEFAULT 1 CHECK (alert_count >= 1),
  first_seen_at   TIMESTAMPTZ(6) NOT NULL,
  last_seen_at    TIMESTAMPTZ(6) NOT NULL,
  window_ends_at  TIMESTAMPTZ(6) NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error      TEXT,
  next_attempt_at TIMESTAMPTZ(6) NOT NULL,
  delivered_at    TIMESTAMPTZ(6),
  created_at      TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);
CREATE INDEX alert_deliveries_due_idx ON alert_deliveries(source_topic, next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_group_idx ON alert_deliveries(source_topic, sink, dedupe_key, window_ends_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_status_idx ON alert_deliveries(source_topic, sink, status);
