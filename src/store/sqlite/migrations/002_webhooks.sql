-- 002_webhooks: destinations and each org's webhook with its delivery state (SPEC.md §2, §5.5–§5.8).
-- Released migrations are never edited. Times are epoch milliseconds; booleans are 0/1.

-- authorization_header is stored as given: it is sent verbatim as the receiver's Authorization header.
CREATE TABLE destinations (
  id                    TEXT    NOT NULL PRIMARY KEY,
  org_id                TEXT    NOT NULL REFERENCES orgs (id),
  name                  TEXT    NOT NULL,
  endpoint              TEXT    NOT NULL,
  authorization_header  TEXT    NOT NULL,
  log_format            TEXT    NOT NULL CHECK (log_format IN ('cef', 'json', 'cps')),
  skip_ssl_verification INTEGER NOT NULL CHECK (skip_ssl_verification IN (0, 1)),
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  UNIQUE (org_id, name),
  -- Lets the webhook reference a destination of its own org only.
  UNIQUE (org_id, id)
) STRICT;

CREATE INDEX destinations_by_org ON destinations (org_id, created_at, id);

-- One row per configured webhook; no row = unconfigured, so deleting the row discards the
-- delivery state. Inline settings and the destination reference are exclusive by mode.
CREATE TABLE webhooks (
  org_id                TEXT    NOT NULL PRIMARY KEY REFERENCES orgs (id),
  mode                  TEXT    NOT NULL CHECK (mode IN ('inline', 'destination')),
  enabled               INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  endpoint              TEXT,
  authorization_header  TEXT,
  log_format            TEXT    CHECK (log_format IN ('cef', 'json', 'cps')),
  skip_ssl_verification INTEGER CHECK (skip_ssl_verification IN (0, 1)),
  destination_id        TEXT,
  updated_at            INTEGER NOT NULL,
  delivered_sequence    INTEGER NOT NULL,
  webhook_status        TEXT    NOT NULL CHECK (webhook_status IN ('active', 'inactive')),
  last_attempt_at       INTEGER,
  last_response_code    INTEGER,
  last_response_message TEXT,
  last_success_at       INTEGER,
  next_attempt_at       INTEGER,
  consecutive_failures  INTEGER NOT NULL DEFAULT 0,
  undelivered_pruned    INTEGER NOT NULL DEFAULT 0,
  FOREIGN KEY (org_id, destination_id) REFERENCES destinations (org_id, id),
  CHECK (mode <> 'inline' OR (endpoint IS NOT NULL AND log_format IS NOT NULL AND skip_ssl_verification IS NOT NULL
    AND destination_id IS NULL)),
  CHECK (mode <> 'destination' OR (destination_id IS NOT NULL AND endpoint IS NULL AND authorization_header IS NULL
    AND log_format IS NULL AND skip_ssl_verification IS NULL)),
  CHECK ((last_attempt_at IS NULL) = (last_response_code IS NULL)),
  CHECK ((last_attempt_at IS NULL) = (last_response_message IS NULL))
) STRICT;

-- Finds the webhook that references a destination (delete guard, status reset on PATCH).
CREATE INDEX webhooks_by_destination ON webhooks (destination_id) WHERE destination_id IS NOT NULL;
