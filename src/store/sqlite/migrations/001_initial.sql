-- 001_initial: orgs, tokens, signing keys and events (DESIGN.md §7). Released migrations are never
-- edited; change the schema with a new numbered file. Times are epoch milliseconds.

CREATE TABLE orgs (
  id            TEXT    NOT NULL PRIMARY KEY,
  name          TEXT    NOT NULL UNIQUE,
  created_at    INTEGER NOT NULL,
  -- High-water marks that appendEvents allocates from, kept here rather than read from events so
  -- that pruning every event can never make a sequence be reused or rt go back.
  last_sequence INTEGER NOT NULL DEFAULT 0,
  last_rt       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE tokens (
  id           TEXT    NOT NULL PRIMARY KEY,
  org_id       TEXT    NOT NULL REFERENCES orgs (id),
  name         TEXT    NOT NULL,
  role         TEXT    NOT NULL CHECK (role IN ('admin', 'auditor', 'ingest')),
  secret_hash  TEXT    NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER,
  revoked_at   INTEGER
) STRICT;

CREATE INDEX tokens_by_org ON tokens (org_id, created_at, id);

CREATE TABLE signing_keys (
  kid         TEXT    NOT NULL PRIMARY KEY,
  org_id      TEXT    NOT NULL REFERENCES orgs (id),
  status      TEXT    NOT NULL CHECK (status IN ('active', 'retired')),
  public_key  BLOB    NOT NULL,
  private_key BLOB    NOT NULL,
  created_at  INTEGER NOT NULL,
  retired_at  INTEGER,
  CHECK ((status = 'retired') = (retired_at IS NOT NULL))
) STRICT;

CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (org_id) WHERE status = 'active';
CREATE INDEX signing_keys_by_org ON signing_keys (org_id, created_at);

-- trace_id is TEXT because it is an unsigned 64-bit integer, which SQLite's signed INTEGER cannot
-- hold; line is the signed canonical line, byte for byte.
CREATE TABLE events (
  org_id      TEXT    NOT NULL REFERENCES orgs (id),
  sequence    INTEGER NOT NULL,
  type        TEXT    NOT NULL CHECK (type IN ('authentication', 'authorization', 'gateway_access')),
  event_ts_ms INTEGER NOT NULL,
  rt          INTEGER NOT NULL,
  trace_id    TEXT    NOT NULL,
  line        BLOB    NOT NULL,
  PRIMARY KEY (org_id, sequence)
) STRICT;

-- Event-time windows per org, optionally by type, without touching the lines.
CREATE INDEX events_by_event_ts ON events (org_id, event_ts_ms, type);
