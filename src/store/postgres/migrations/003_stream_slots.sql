-- 003_stream_slots: how many live streams of an org each replica has open, so the limit of 32 per
-- org (SPEC.md §5.1) holds across replicas; see the SQLite migration 007. Released migrations are
-- never edited. Times are epoch milliseconds.

CREATE TABLE stream_slots (
  org_id       text   NOT NULL REFERENCES orgs (id),
  holder       text   NOT NULL,
  open_streams bigint NOT NULL CHECK (open_streams >= 0),
  lease_until  bigint NOT NULL,
  PRIMARY KEY (org_id, holder)
);
