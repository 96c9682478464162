-- What one submission does in PostgreSQL (src/service/inquiries.rs inquiry_submit), written
-- as plain SQL for pgbench: the throttle hit, then one transaction with the routing reads, the
-- reference counter, the inquiry, two referrals and three events.
\set n random(1, 2000000000)
UPDATE throttles SET hits = hits + 1 WHERE key = 'submit:address:127.0.0.1';
SELECT hits, blocked_until FROM throttles WHERE key = 'submit:address:127.0.0.1';
BEGIN;
SELECT id, name, description, website, sla_business_days, routing_profile, profile_version, created_at, updated_at FROM institutions ORDER BY id;
SELECT contact_id, count(*) FROM referrals WHERE status IN ('new','acknowledged','in_review','info_requested') AND contact_id IS NOT NULL GROUP BY contact_id;
SELECT * FROM contacts WHERE institution_id = 'aphp' ORDER BY id;
SELECT * FROM contacts WHERE institution_id = 'curie' ORDER BY id;
SELECT * FROM contacts WHERE institution_id = 'gustave-roussy' ORDER BY id;
SELECT * FROM contacts WHERE institution_id = 'pasteur' ORDER BY id;
INSERT INTO reference_counters (year, last_value) VALUES (2026, 0) ON CONFLICT (year) DO NOTHING;
UPDATE reference_counters SET last_value = last_value + 1 WHERE year = 2026;
SELECT last_value AS ref FROM reference_counters WHERE year = 2026 \gset
INSERT INTO inquiries (id, reference, organization, submitter, inquiry_type, title, summary, therapeutic_areas, modalities, stage, preferred_institutions, keywords, tracking_token_hash, on_desk, routing_decision, created_at)
VALUES ('pgb-i-' || :n, 'PGB-' || :ref || '-' || :n, 'Bench Pharma', '{"organization":"Bench Pharma","organization_type":"pharma","name":"Load Test","email":"load@bench.example","country":"FR"}', 'clinical_trial', 'Phase 1 site for a PSMA radioligand', 'Benchmark submission.', '["prostate"]', '["radiopharmaceutical"]', 'phase_1', '[]', '[]', md5(random()::text), false, '{"selected":[],"not_selected":[],"to_desk":false,"desk_reason":null}', now());
INSERT INTO events (id, inquiry_id, actor_kind, action, to_value, created_at) VALUES (gen_random_uuid()::text, 'pgb-i-' || :n, 'submitter', 'inquiry_submitted', 'x', now());
INSERT INTO referrals (id, inquiry_id, institution_id, status, reasons, score, profile_version, first_response_due_at, version, created_at, updated_at) VALUES ('pgb-r1-' || :n, 'pgb-i-' || :n, 'gustave-roussy', 'new', '["r"]', 80, 1, now() + interval '7 days', 1, now(), now());
INSERT INTO events (id, inquiry_id, referral_id, institution_id, actor_kind, action, created_at) VALUES (gen_random_uuid()::text, 'pgb-i-' || :n, 'pgb-r1-' || :n, 'gustave-roussy', 'system', 'referral_routed', now());
INSERT INTO referrals (id, inquiry_id, institution_id, status, reasons, score, profile_version, first_response_due_at, version, created_at, updated_at) VALUES ('pgb-r2-' || :n, 'pgb-i-' || :n, 'aphp', 'new', '["r"]', 70, 1, now() + interval '7 days', 1, now(), now());
INSERT INTO events (id, inquiry_id, referral_id, institution_id, actor_kind, action, created_at) VALUES (gen_random_uuid()::text, 'pgb-i-' || :n, 'pgb-r2-' || :n, 'aphp', 'system', 'referral_routed', now());
END;
