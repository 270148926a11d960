-- 004_delivery: the revision of each org's webhook configuration that delivery outcomes are recorded
-- against (SPEC.md §6.2). Released migrations are never edited.

-- Bumped by every configuration change of the org's webhook (first configuration, target change,
-- change of the referenced destination, deletion). It lives on the org rather than the webhook row
-- so that deleting and configuring again never brings an old revision back: a failure that an
-- attempt under an earlier configuration reports must not overwrite the reset the change made.
ALTER TABLE orgs ADD COLUMN webhook_revision INTEGER NOT NULL DEFAULT 0;
