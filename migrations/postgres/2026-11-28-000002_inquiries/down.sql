DROP TABLE reference_counters;
DROP TABLE idempotency_keys;
DROP TABLE events;
DROP TABLE messages;
DROP TABLE referrals;
DROP TABLE inquiries;
