-- 003_idempotency_keys: the Idempotency-Key records of acknowledged ingests (SPEC.md §5.4, §8).
-- Released migrations are never edited. Times are epoch milliseconds.

-- One row per org and key, written in the transaction that commits the request's events, with the
-- response to replay. A row older than 24 h has expired: it no longer matches, a new request with
-- the key replaces it, and the pruning worker deletes it.
CREATE TABLE idempotency_keys (
  org_id          TEXT    NOT NULL REFERENCES orgs (id),
  idempotency_key TEXT    NOT NULL,
  request_hash    TEXT    NOT NULL,
  created_at      INTEGER NOT NULL,
  response_status INTEGER NOT NULL,
  response_body   TEXT    NOT NULL,
  PRIMARY KEY (org_id, idempotency_key)
) STRICT;

-- Pruning finds expired keys across orgs by age.
CREATE INDEX idempotency_keys_by_created_at ON idempotency_keys (created_at);
