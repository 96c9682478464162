-- Seeds :n inquiries (and about 1.5 referrals each) into a migrated Guichet database, with
-- set-based SQL. Usage: psql -v n=100000 -f bench/seed.sql DBURL
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE seed_contacts AS
SELECT i.id AS institution_id, gen_random_uuid()::text AS id, 'Contact ' || i.id || ' ' || g AS name
FROM institutions i, generate_series(1, 4) g;
INSERT INTO contacts (id, institution_id, name, title, email, expertise, active, created_at, updated_at)
SELECT id, institution_id, name, '', replace(name, ' ', '.') || '@bench.example',
       '{"inquiry_types":[],"therapeutic_areas":[],"modalities":[]}', TRUE, now(), now()
FROM seed_contacts;

CREATE TEMP TABLE seed_inquiries AS
SELECT g AS n,
       gen_random_uuid()::text AS id,
       now() - (random() * interval '365 days') AS created_at,
       (ARRAY['licensing','co_development','sponsored_research','clinical_trial','investment','data_access'])[1 + (g % 6)] AS inquiry_type,
       (ARRAY['breast','lung','prostate','hematologic','pediatric','digestive'])[1 + (g % 6)] AS area
FROM generate_series(1, :n) g;

INSERT INTO inquiries (id, reference, organization, submitter, inquiry_type, title, summary,
    therapeutic_areas, modalities, stage, preferred_institutions, keywords, tracking_token_hash,
    on_desk, routing_decision, created_at)
SELECT id, 'GU-BENCH-' || lpad(n::text, 7, '0'), 'Organization ' || (n % 997),
       '{"organization":"Organization","organization_type":"biotech","name":"N","email":"n@bench.example","country":"FR"}',
       inquiry_type, 'Inquiry ' || n || ' about ' || area, 'A benchmark inquiry number ' || n,
       '["' || area || '"]', '["small_molecule"]', 'phase_1', '[]', '[]', md5(id), FALSE,
       '{"selected":[],"not_selected":[],"to_desk":false,"desk_reason":null}', created_at
FROM seed_inquiries;

-- One referral at one institution for every inquiry, a second one for every other inquiry.
INSERT INTO referrals (id, inquiry_id, institution_id, contact_id, status, reasons, score,
    profile_version, first_response_due_at, first_responded_at, version, created_at, updated_at)
SELECT gen_random_uuid()::text, s.id, inst.id,
       (SELECT c.id FROM seed_contacts c WHERE c.institution_id = inst.id ORDER BY c.id LIMIT 1 OFFSET (s.n % 4)),
       (ARRAY['new','acknowledged','in_review','info_requested','accepted','declined'])[1 + ((s.n + k) % 6)],
       '["Benchmark"]', 60, 1, s.created_at + interval '7 days',
       CASE WHEN (s.n + k) % 6 = 0 THEN NULL ELSE s.created_at + interval '2 days' END,
       1, s.created_at, s.created_at
FROM seed_inquiries s
CROSS JOIN generate_series(0, 1) k
JOIN LATERAL (SELECT id FROM institutions ORDER BY id LIMIT 1 OFFSET ((s.n + k * 2) % 4)) inst ON TRUE
WHERE k = 0 OR s.n % 2 = 0;
COMMIT;
ANALYZE;
