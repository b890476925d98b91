-- Tamper evidence that can be checked offline: the ledger's own append order (leaf_index, contiguous and in commit
-- order) and, over it, RFC 6962 Merkle tree heads signed with the ledger's own Ed25519 key, which lives in a file
-- outside this database. See services/integrity/ for the leaf format and what `intent-ledger verify` checks.

-- The one row that hands out leaf indices. The ingest transaction locks it last, right before it inserts its
-- ledger rows, so leaves are numbered without gaps in commit order (ledger_events.position is a sequence: it has
-- gaps, and its order is the order of inserts, not of commits).
CREATE TABLE ledger_tip (
  id              SMALLINT PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  -- Names this ledger in every signed tree head, so a head of one ledger cannot be passed off as another's.
  log_id          TEXT NOT NULL,
  next_leaf_index BIGINT NOT NULL CHECK (next_leaf_index >= 0)
);

ALTER TABLE ledger_events ADD COLUMN leaf_index BIGINT;
-- Rows ledgered before this migration become the first leaves, in insert order.
UPDATE ledger_events l SET leaf_index = n.i
  FROM (SELECT position, row_number() OVER (ORDER BY position) - 1 AS i FROM ledger_events) n
 WHERE l.position = n.position;
ALTER TABLE ledger_events
  ALTER COLUMN leaf_index SET NOT NULL,
  ADD CONSTRAINT ledger_events_leaf_index_check CHECK (leaf_index >= 0),
  ADD CONSTRAINT ledger_events_leaf_index_key UNIQUE (leaf_index);

INSERT INTO ledger_tip (id, log_id, next_leaf_index)
SELECT 1, 'il-log:' || gen_random_uuid()::text, count(*) FROM ledger_events;

-- Public keys the ledger has signed tree heads with, so auditors can see which to pin. Trust comes from pinning a
-- key out of band (`intent-ledger ledger-key`), not from this table: whoever can edit it can add a key.
CREATE TABLE ledger_keys (
  key_id     TEXT PRIMARY KEY,
  public_key BYTEA NOT NULL CHECK (octet_length(public_key) = 32),
  created_at TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);

-- Signed tree heads: Ed25519 over the JCS form of {v, type, logId, treeSize, rootHash, timestamp}.
CREATE TABLE tree_heads (
  tree_size BIGINT PRIMARY KEY CHECK (tree_size > 0),
  root_hash TEXT NOT NULL CHECK (root_hash ~ '^[0-9a-f]{64}$'),
  signed_at TIMESTAMPTZ(6) NOT NULL,
  key_id    TEXT NOT NULL REFERENCES ledger_keys(key_id),
  signature TEXT NOT NULL,
  -- The RFC 6962 frontier at this size (hex, largest subtree first): lets the signer resume without rehashing the
  -- ledger. Not signed, and only trusted when it reproduces the signed root.
  frontier  TEXT[] NOT NULL
);
