-- 001_initial: the whole schema as of PostgreSQL support (SPEC.md §2, §5, §6.5, §8; DESIGN.md §7).
-- Released migrations are never edited; change the schema with a new numbered file. Times are epoch
-- milliseconds in bigint; sequences stay below 2^53, so the adapter reads every bigint as a number.

CREATE TABLE orgs (
  id               text   NOT NULL PRIMARY KEY,
  name             text   NOT NULL UNIQUE,
  created_at       bigint NOT NULL,
  -- High-water marks that appends allocate from under this row's lock (never a SEQUENCE, which
  -- leaves gaps), kept here so that pruning every event never lets a sequence be reused or rt go back.
  last_sequence    bigint NOT NULL DEFAULT 0,
  last_rt          bigint NOT NULL DEFAULT 0,
  -- Bumped by every configuration change of the org's webhook; see the SQLite migration 004.
  webhook_revision bigint NOT NULL DEFAULT 0
);

CREATE TABLE tokens (
  id           text   NOT NULL PRIMARY KEY,
  org_id       text   NOT NULL REFERENCES orgs (id),
  name         text   NOT NULL,
  role         text   NOT NULL CHECK (role IN ('admin', 'auditor', 'ingest')),
  secret_hash  text   NOT NULL UNIQUE,
  created_at   bigint NOT NULL,
  expires_at   bigint,
  last_used_at bigint,
  revoked_at   bigint
);

CREATE INDEX tokens_by_org ON tokens (org_id, created_at, id);

CREATE TABLE signing_keys (
  kid         text   NOT NULL PRIMARY KEY,
  org_id      text   NOT NULL REFERENCES orgs (id),
  status      text   NOT NULL CHECK (status IN ('active', 'retired')),
  public_key  bytea  NOT NULL,
  private_key bytea  NOT NULL,
  created_at  bigint NOT NULL,
  retired_at  bigint,
  CHECK ((status = 'retired') = (retired_at IS NOT NULL))
);

CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (org_id) WHERE status = 'active';
CREATE INDEX signing_keys_by_org ON signing_keys (org_id, created_at);

-- trace_id is text because it is an unsigned 64-bit integer, which the signed bigint cannot hold;
-- line is the signed canonical line, byte for byte.
CREATE TABLE events (
  org_id      text   NOT NULL REFERENCES orgs (id),
  sequence    bigint NOT NULL,
  type        text   NOT NULL CHECK (type IN ('authentication', 'authorization', 'gateway_access')),
  event_ts_ms bigint NOT NULL,
  rt          bigint NOT NULL,
  trace_id    text   NOT NULL,
  line        bytea  NOT NULL,
  PRIMARY KEY (org_id, sequence)
);

CREATE INDEX events_by_event_ts ON events (org_id, event_ts_ms, type);

CREATE TABLE destinations (
  id                    text    NOT NULL PRIMARY KEY,
  org_id                text    NOT NULL REFERENCES orgs (id),
  name                  text    NOT NULL,
  endpoint              text    NOT NULL,
  authorization_header  text    NOT NULL,
  log_format            text    NOT NULL CHECK (log_format IN ('cef', 'json', 'cps')),
  skip_ssl_verification boolean NOT NULL,
  created_at            bigint  NOT NULL,
  updated_at            bigint  NOT NULL,
  UNIQUE (org_id, name),
  UNIQUE (org_id, id)
);

CREATE INDEX destinations_by_org ON destinations (org_id, created_at, id);

-- One row per configured webhook (no row = unconfigured); see the SQLite migration 002.
CREATE TABLE webhooks (
  org_id                text    NOT NULL PRIMARY KEY REFERENCES orgs (id),
  mode                  text    NOT NULL CHECK (mode IN ('inline', 'destination')),
  enabled               boolean NOT NULL,
  endpoint              text,
  authorization_header  text,
  log_format            text    CHECK (log_format IN ('cef', 'json', 'cps')),
  skip_ssl_verification boolean,
  destination_id        text,
  updated_at            bigint  NOT NULL,
  delivered_sequence    bigint  NOT NULL,
  webhook_status        text    NOT NULL CHECK (webhook_status IN ('active', 'inactive')),
  last_attempt_at       bigint,
  last_response_code    integer,
  last_response_message text,
  last_success_at       bigint,
  next_attempt_at       bigint,
  consecutive_failures  integer NOT NULL DEFAULT 0,
  undelivered_pruned    bigint  NOT NULL DEFAULT 0,
  FOREIGN KEY (org_id, destination_id) REFERENCES destinations (org_id, id),
  CHECK (mode <> 'inline' OR (endpoint IS NOT NULL AND log_format IS NOT NULL AND skip_ssl_verification IS NOT NULL
    AND destination_id IS NULL)),
  CHECK (mode <> 'destination' OR (destination_id IS NOT NULL AND endpoint IS NULL AND authorization_header IS NULL
    AND log_format IS NULL AND skip_ssl_verification IS NULL)),
  CHECK ((last_attempt_at IS NULL) = (last_response_code IS NULL)),
  CHECK ((last_attempt_at IS NULL) = (last_response_message IS NULL))
);

CREATE INDEX webhooks_by_destination ON webhooks (destination_id) WHERE destination_id IS NOT NULL;

CREATE TABLE idempotency_keys (
  org_id          text    NOT NULL REFERENCES orgs (id),
  idempotency_key text    NOT NULL,
  request_hash    text    NOT NULL,
  created_at      bigint  NOT NULL,
  response_status integer NOT NULL,
  response_body   text    NOT NULL,
  PRIMARY KEY (org_id, idempotency_key)
);

CREATE INDEX idempotency_keys_by_created_at ON idempotency_keys (created_at);

-- One row per org once it has had a job; see the SQLite migration 005.
CREATE TABLE replay_jobs (
  org_id            text   NOT NULL PRIMARY KEY REFERENCES orgs (id),
  id                text   NOT NULL,
  start_at          bigint NOT NULL,
  end_at            bigint NOT NULL,
  status            text   NOT NULL CHECK (status IN ('accepted', 'pending', 'running', 'completed', 'failed')),
  updated_at        bigint NOT NULL,
  through_sequence  bigint,
  total             bigint NOT NULL DEFAULT 0,
  sent              bigint NOT NULL DEFAULT 0,
  replayed_sequence bigint NOT NULL DEFAULT 0,
  batches_sent      bigint NOT NULL DEFAULT 0,
  error             text,
  CHECK (start_at < end_at),
  CHECK (status NOT IN ('running', 'completed') OR through_sequence IS NOT NULL),
  CHECK ((status = 'failed') = (error IS NOT NULL))
);

-- Which replica does an org's delivery, replay or pruning (SPEC.md §6.5): a holder keeps its lease
-- by renewing it before lease_until; once that passes, any replica may take it.
CREATE TABLE work_leases (
  org_id      text   NOT NULL REFERENCES orgs (id),
  work        text   NOT NULL CHECK (work IN ('delivery', 'replay', 'pruning')),
  holder      text   NOT NULL,
  lease_until bigint NOT NULL,
  PRIMARY KEY (org_id, work)
);
