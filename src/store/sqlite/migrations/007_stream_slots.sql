-- 007_stream_slots: how many live streams of an org each server has open, so the limit of 32 per
-- org (SPEC.md §5.1) holds across PostgreSQL replicas; with SQLite one server runs, but the store
-- contract is the same. Released migrations are never edited. Times are epoch milliseconds.

-- A holder's row counts while it renews lease_until; a crashed holder's streams lapse with it.
CREATE TABLE stream_slots (
  org_id       TEXT    NOT NULL REFERENCES orgs (id),
  holder       TEXT    NOT NULL,
  open_streams INTEGER NOT NULL CHECK (open_streams >= 0),
  lease_until  INTEGER NOT NULL,
  PRIMARY KEY (org_id, holder)
) STRICT;
