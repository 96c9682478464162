DROP INDEX events_created;
DROP INDEX events_action;
DROP INDEX events_actor;
DROP INDEX events_institution;
DROP INDEX events_referral;
DROP INDEX events_inquiry;
CREATE INDEX events_inquiry ON events (inquiry_id, created_at);
CREATE INDEX events_referral ON events (referral_id, created_at);
