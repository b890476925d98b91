-- Intent Ledger: the first schema. Applied by schema/migrate.ts, recorded in schema_migrations.
-- The ledger tables are append-only in intent; integrity rests on the per-agent hash chain.

CREATE TYPE reason_code AS ENUM (
  'MALFORMED_JSON', 'INVALID_UTF8', 'DUPLICATE_KEY', 'TOO_DEEP', 'TOO_LARGE', 'NUMBER_NOT_EXACT', 'LONE_SURROGATE',
  'SCHEMA_INVALID', 'BAD_TIMESTAMP', 'CLOCK_SKEW',
  'UNKNOWN_AGENT', 'UNKNOWN_KEY', 'KEY_RETIRED', 'KEY_AGENT_MISMATCH',
  'SIG_BAD_ENCODING', 'SIG_INVALID',
  'DUPLICATE_EVENT', 'SEQ_REPLAY', 'SEQ_GAP', 'FORK', 'PREV_HASH_MISMATCH',
  'NO_INTENT', 'INTENT_UNKNOWN', 'INTENT_CLOSED', 'INTENT_AGENT_MISMATCH', 'OUTSIDE_WINDOW',
  'TOOL_NOT_ALLOWED', 'TARGET_NOT_ALLOWED', 'DATA_CLASS_NOT_ALLOWED', 'UNKNOWN_TOOL'
);

CREATE TYPE severity AS ENUM ('low', 'medium', 'high', 'critical');

CREATE TABLE agents (
  agent_id     TEXT PRIMARY KEY,
  display_name TEXT,
  created_at   TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);

CREATE TABLE agent_keys (
  key_id        TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL REFERENCES agents(agent_id),
  public_key    BYTEA NOT NULL CHECK (octet_length(public_key) = 32),
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
  registered_at TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  retired_at    TIMESTAMPTZ(6)
);
CREATE INDEX agent_keys_agent_id_idx ON agent_keys(agent_id);

-- The last ledgered event of each agent: the tip of its hash chain.
CREATE TABLE agent_heads (
  agent_id   TEXT PRIMARY KEY REFERENCES agents(agent_id),
  last_seq   BIGINT NOT NULL,
  last_hash  TEXT NOT NULL,
  updated_at TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);

CREATE TABLE ledger_events (
  position        BIGSERIAL PRIMARY KEY,
  event_id        TEXT NOT NULL UNIQUE,
  agent_id        TEXT NOT NULL,
  key_id          TEXT NOT NULL,
  seq             BIGINT NOT NULL CHECK (seq >= 1),
  type            TEXT NOT NULL,
  prev_hash       TEXT,
  event_hash      TEXT NOT NULL,
  ts              TIMESTAMPTZ(6) NOT NULL,
  payload         JSONB NOT NULL,
  signature       TEXT NOT NULL,
  raw             BYTEA NOT NULL,
  raw_sha256      BYTEA NOT NULL CHECK (octet_length(raw_sha256) = 32),
  kafka_topic     TEXT NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset    BIGINT NOT NULL,
  produced_at     TIMESTAMPTZ(6) NOT NULL,
  ledgered_at     TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  CONSTRAINT ledger_events_agent_seq_key UNIQUE (agent_id, seq)
);
-- Kafka coordinates identify a record only together with its bytes: a recreated topic reuses offsets.
CREATE INDEX ledger_events_kafka_idx ON ledger_events(kafka_topic, kafka_partition, kafka_offset);

CREATE TABLE rejected_events (
  id              BIGSERIAL PRIMARY KEY,
  reason_code     reason_code NOT NULL,
  detail          TEXT NOT NULL,
  raw             BYTEA NOT NULL,
  raw_sha256      BYTEA NOT NULL CHECK (octet_length(raw_sha256) = 32),
  agent_id        TEXT,
  event_id        TEXT,
  kafka_topic     TEXT NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset    BIGINT NOT NULL,
  kafka_key       BYTEA,
  produced_at     TIMESTAMPTZ(6),
  rejected_at     TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  CONSTRAINT rejected_events_record_key UNIQUE (kafka_topic, kafka_partition, kafka_offset, raw_sha256)
);
CREATE INDEX rejected_events_agent_id_idx ON rejected_events(agent_id);
CREATE INDEX rejected_events_reason_code_idx ON rejected_events(reason_code);

CREATE TABLE integrity_findings (
  id           BIGSERIAL PRIMARY KEY,
  agent_id     TEXT NOT NULL,
  reason_code  reason_code NOT NULL,
  severity     severity NOT NULL,
  detail       TEXT NOT NULL,
  event_id     TEXT,
  expected_seq BIGINT,
  observed_seq BIGINT,
  created_at   TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  CONSTRAINT integrity_findings_dedup_key UNIQUE (agent_id, reason_code, observed_seq, event_id)
);

CREATE TABLE intents (
  intent_id       TEXT PRIMARY KEY,
  agent_id        TEXT NOT NULL,
  event_id        TEXT NOT NULL UNIQUE,
  task            TEXT NOT NULL,
  purpose         TEXT NOT NULL,
  allowed_tools   TEXT[] NOT NULL,
  allowed_targets JSONB NOT NULL,
  data_classes    TEXT[] NOT NULL,
  not_before      TIMESTAMPTZ(6) NOT NULL,
  not_after       TIMESTAMPTZ(6) NOT NULL,
  status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  declared_at     TIMESTAMPTZ(6) NOT NULL,
  closed_at       TIMESTAMPTZ(6)
);
CREATE INDEX intents_agent_id_idx ON intents(agent_id);

CREATE TABLE actions (
  event_id     TEXT PRIMARY KEY,
  action_id    TEXT NOT NULL,
  agent_id     TEXT NOT NULL,
  intent_id    TEXT,
  tool         TEXT NOT NULL,
  args_digest  TEXT NOT NULL,
  targets      JSONB NOT NULL,
  outcome      TEXT NOT NULL,
  ts           TIMESTAMPTZ(6) NOT NULL,
  in_scope     BOOLEAN NOT NULL,
  evaluated_at TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);
CREATE INDEX actions_agent_id_idx ON actions(agent_id);
CREATE INDEX actions_intent_id_idx ON actions(intent_id);

CREATE TABLE drift_findings (
  id              BIGSERIAL PRIMARY KEY,
  action_event_id TEXT NOT NULL,
  agent_id        TEXT NOT NULL,
  intent_id       TEXT,
  reason_code     reason_code NOT NULL,
  severity        severity NOT NULL,
  detail          TEXT NOT NULL,
  tool            TEXT NOT NULL,
  created_at      TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  CONSTRAINT drift_findings_action_reason_key UNIQUE (action_event_id, reason_code)
);
CREATE INDEX drift_findings_agent_id_idx ON drift_findings(agent_id);
CREATE INDEX drift_findings_severity_idx ON drift_findings(severity);

-- Just-in-time credentials: one per intent, bound to the agent's key, expiring with the intent's window.
CREATE TABLE credentials (
  credential_id TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL,
  intent_id     TEXT NOT NULL UNIQUE,
  key_id        TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'expired')),
  issued_at     TIMESTAMPTZ(6) NOT NULL,
  expires_at    TIMESTAMPTZ(6) NOT NULL,
  revoked_at    TIMESTAMPTZ(6)
);
CREATE INDEX credentials_agent_id_idx ON credentials(agent_id);

CREATE TABLE revocations (
  id                 BIGSERIAL PRIMARY KEY,
  credential_id      TEXT NOT NULL UNIQUE,
  agent_id           TEXT NOT NULL,
  intent_id          TEXT NOT NULL,
  finding_id         BIGINT NOT NULL,
  action_event_id    TEXT NOT NULL,
  reason_code        reason_code NOT NULL,
  severity           severity NOT NULL,
  action_produced_at TIMESTAMPTZ(6) NOT NULL,
  revoked_at         TIMESTAMPTZ(6) NOT NULL,
  latency_ms         DOUBLE PRECISION NOT NULL
);
