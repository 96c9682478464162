-- The audit lists (an inquiry's, a referral's, the platform's with its filters) page in `id`
-- order (UUIDv7: creation order): each filter has an index that leads with its column and
-- ends with `id`, so a page is one index range read in order, whatever the table's size.
DROP INDEX events_inquiry;
DROP INDEX events_referral;
CREATE INDEX events_inquiry ON events (inquiry_id, id);
CREATE INDEX events_referral ON events (referral_id, id);
CREATE INDEX events_institution ON events (institution_id, id);
CREATE INDEX events_actor ON events (actor_id, id);
CREATE INDEX events_action ON events (action, id);
CREATE INDEX events_created ON events (created_at);
