-- 005_replay_jobs: each org's one replay job with its selection and progress (SPEC.md §2, §5.6, §7).
-- Released migrations are never edited. Times are epoch milliseconds.

-- One row per org once it has had a job; a new job replaces the row once the old one has ended.
-- through_sequence (the org's head when the job started running) and total fix the selection;
-- replayed_sequence is the job's own cursor, kept apart from the webhook's delivered_sequence.
CREATE TABLE replay_jobs (
  org_id            TEXT    NOT NULL PRIMARY KEY REFERENCES orgs (id),
  id                TEXT    NOT NULL,
  start_at          INTEGER NOT NULL,
  end_at            INTEGER NOT NULL,
  status            TEXT    NOT NULL CHECK (status IN ('accepted', 'pending', 'running', 'completed', 'failed')),
  updated_at        INTEGER NOT NULL,
  through_sequence  INTEGER,
  total             INTEGER NOT NULL DEFAULT 0,
  sent              INTEGER NOT NULL DEFAULT 0,
  replayed_sequence INTEGER NOT NULL DEFAULT 0,
  batches_sent      INTEGER NOT NULL DEFAULT 0,
  error             TEXT,
  CHECK (start_at < end_at),
  CHECK (status NOT IN ('running', 'completed') OR through_sequence IS NOT NULL),
  CHECK ((status = 'failed') = (error IS NOT NULL))
) STRICT;
