-- 006_work_leases: which process does an org's delivery, replay or pruning (SPEC.md §6.5). With
-- SQLite one server runs at a time (the data-dir lock), but the store contract is the same as
-- PostgreSQL's. Released migrations are never edited. Times are epoch milliseconds.

-- A holder keeps its lease by renewing it before lease_until; once that passes, anyone may take it.
CREATE TABLE work_leases (
  org_id      TEXT    NOT NULL REFERENCES orgs (id),
  work        TEXT    NOT NULL CHECK (work IN ('delivery', 'replay', 'pruning')),
  holder      TEXT    NOT NULL,
  lease_until INTEGER NOT NULL,
  PRIMARY KEY (org_id, work)
) STRICT;
