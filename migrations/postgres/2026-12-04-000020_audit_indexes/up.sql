-- The audit lists. An inquiry's and a referral's trail page in `id` order (UUIDv7: creation
-- order) and have few rows per value. The platform's audit pages newest first by
-- `(created_at, id)`: a period is one range of `events_created`, and each filter with many
-- rows per value (actor, action, institution) has an index that leads with its column and
-- ends with `(created_at, id)`, so a page is one index range read in order, whatever the
-- table's size.
DROP INDEX events_inquiry;
DROP INDEX events_referral;
CREATE INDEX events_inquiry ON events (inquiry_id, id);
CREATE INDEX events_referral ON events (referral_id, id);
CREATE INDEX events_created ON events (created_at, id);
CREATE INDEX events_institution ON events (institution_id, created_at, id);
CREATE INDEX events_actor ON events (actor_id, created_at, id);
CREATE INDEX events_action ON events (action, created_at, id);
