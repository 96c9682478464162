-- Seeds :n inquiries and their referrals (about 1.5 per inquiry) into a migrated Guichet
-- database, set-based (generate_series), following migrations/postgres/*/up.sql column by
-- column. Usage: psql -v n=100000 -f bench/seed.sql DBURL
--
-- - 3 active contacts per institution (curie's first one has the e-mail t@curie.fr, the
--   benchmark's triager, so that `assigned=me` finds it); 85% of referrals are assigned.
-- - Inquiries created uniformly over the last 365 days; each goes to 1 institution, half of
--   them to a 2nd one (never the same), chosen at random among the 4.
-- - Referral status uniformly random among new, acknowledged, in_review, info_requested,
--   accepted, declined; due 5 to 14 days after creation at 16:00 UTC, so due dates spread over
--   the year; first_responded_at is NULL exactly for `new` (leaving `new` is the first
--   response); info_requested referrals are SLA-paused; declined ones carry a reason code.
-- - Ids are time-ordered UUIDs like the service's (UUIDv7: the first 48 bits are the creation
--   time in ms, the rest comes from gen_random_uuid()), because `sort=newest` orders by id.
\set ON_ERROR_STOP on
BEGIN;

CREATE FUNCTION pg_temp.uuid7(at timestamp) RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(gen_random_uuid()::text, 16)
    FROM (SELECT lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') AS h) t
$$;

CREATE TEMP TABLE seed_contacts AS
SELECT i.id AS institution_id, g AS rank,
       pg_temp.uuid7((now() AT TIME ZONE 'UTC') - interval '400 days') AS id,
       (ARRAY['Dr Claire Martin', 'Dr Paul Bernard', 'Dr Inès Moreau'])[g] AS name,
       CASE WHEN i.id = 'curie' AND g = 1 THEN 't@curie.fr'
            ELSE 'contact' || g || '@' || i.id || '.bench.example' END AS email,
       (ARRAY['{"inquiry_types":["licensing","clinical_trial"],"therapeutic_areas":["breast"],"modalities":["adc"]}',
              '{"inquiry_types":["co_development"],"therapeutic_areas":["lung","prostate"],"modalities":["small_molecule"]}',
              '{"inquiry_types":["data_access","platform_access"],"therapeutic_areas":[],"modalities":["data_rwe","digital_ai"]}'])[g] AS expertise
FROM institutions i, generate_series(1, 3) g;

INSERT INTO contacts (id, institution_id, name, title, email, expertise, active, created_at, updated_at)
SELECT id, institution_id, name, 'Industrial partnerships', email, expertise, TRUE,
       (now() AT TIME ZONE 'UTC') - interval '400 days', (now() AT TIME ZONE 'UTC') - interval '400 days'
FROM seed_contacts;

CREATE TEMP TABLE seed_inquiries AS
SELECT n, created_at, pg_temp.uuid7(created_at) AS id, org, area, modality,
       inquiry_type, stage, second, first_inst, (first_inst + 1 + floor(random() * 3)::int) % 4 AS second_inst
FROM (
    SELECT g AS n,
           (now() AT TIME ZONE 'UTC') - random() * interval '365 days' AS created_at,
           (ARRAY['Helios Therapeutics', 'Nova Oncology', 'Rhône Biotech', 'Atlas Capital', 'Kestrel Pharma',
                  'Oncodesign Labs', 'Blue Heron Bio', 'Medivance', 'Seine Ventures', 'Lumen Diagnostics'])[1 + floor(random() * 10)::int]
               || ' ' || (g % 500) AS org,
           (ARRAY['breast', 'lung', 'colorectal', 'prostate', 'gynecologic', 'hematologic', 'pediatric', 'skin_melanoma',
                  'head_and_neck', 'brain_cns', 'sarcoma', 'digestive'])[1 + floor(random() * 12)::int] AS area,
           (ARRAY['small_molecule', 'biologic_antibody', 'adc', 'cell_therapy', 'vaccine_immunotherapy',
                  'radiopharmaceutical', 'diagnostic_biomarker', 'data_rwe'])[1 + floor(random() * 8)::int] AS modality,
           (ARRAY['licensing', 'co_development', 'sponsored_research', 'clinical_trial', 'investment',
                  'data_access', 'platform_access'])[1 + floor(random() * 7)::int] AS inquiry_type,
           (ARRAY['discovery', 'preclinical', 'phase_1', 'phase_2', 'phase_3', 'approved', 'not_applicable'])[1 + floor(random() * 7)::int] AS stage,
           random() < 0.5 AS second,
           floor(random() * 4)::int AS first_inst
    FROM generate_series(1, :n) g
) s;

INSERT INTO inquiries (id, reference, organization, submitter, inquiry_type, title, summary,
    therapeutic_areas, modalities, stage, preferred_institutions, keywords, tracking_token_hash,
    on_desk, routing_decision, created_at)
SELECT id,
       'GU-' || extract(year FROM created_at)::int || '-' || lpad(n::text, greatest(6, length(n::text)), '0'),
       org,
       format('{"organization":%s,"organization_type":"biotech","name":%s,"email":%s,"country":"FR"}',
              to_json(org), to_json('Dr Bench ' || n), to_json('bench' || n || '@example.org')),
       inquiry_type,
       'Inquiry ' || n || ': ' || replace(modality, '_', ' ') || ' in ' || replace(area, '_', ' ') || ' cancer',
       'Benchmark inquiry number ' || n || ' from ' || org || ', a ' || replace(stage, '_', ' ')
           || ' programme looking for a ' || replace(inquiry_type, '_', ' ') || ' partner in the Paris region.',
       json_build_array(area)::text,
       json_build_array(modality)::text,
       stage, '[]', '[]',
       encode(sha256(convert_to(id, 'UTF8')), 'hex'),
       FALSE,
       '{"selected":[],"not_selected":[],"to_desk":false,"desk_reason":null}',
       created_at
FROM seed_inquiries;

-- Per-year counters past the seeded references, so that real submissions continue them.
INSERT INTO reference_counters (year, last_value)
SELECT extract(year FROM created_at)::int, max(n) FROM seed_inquiries GROUP BY 1;

CREATE TEMP TABLE seed_referrals AS
SELECT r.*,
       CASE WHEN status = 'new' THEN NULL
            ELSE least(created_at + random() * interval '10 days', (now() AT TIME ZONE 'UTC')) END AS responded_at
FROM (
    SELECT s.id AS inquiry_id, s.created_at,
           (ARRAY['aphp', 'curie', 'gustave-roussy', 'pasteur'])[1 + CASE WHEN k = 1 THEN s.first_inst ELSE s.second_inst END] AS institution_id,
           (ARRAY['new', 'acknowledged', 'in_review', 'info_requested', 'accepted', 'declined'])[1 + floor(random() * 6)::int] AS status,
           CASE WHEN random() < 0.85 THEN 1 + floor(random() * 3)::int END AS contact_rank,
           date_trunc('day', s.created_at) + (5 + floor(random() * 10)::int) * interval '1 day' + interval '16 hours' AS due_at
    FROM seed_inquiries s
    CROSS JOIN generate_series(1, 2) k
    WHERE k = 1 OR s.second
) r;

INSERT INTO referrals (id, inquiry_id, institution_id, contact_id, status, reasons, score,
    profile_version, first_response_due_at, first_responded_at, version, created_at, updated_at,
    decision_reason, decision_note, sla_paused_at)
SELECT pg_temp.uuid7(r.created_at), r.inquiry_id, r.institution_id, c.id, r.status,
       '["Benchmark referral: the profile matches this inquiry."]',
       40 + floor(random() * 56)::int, 1, r.due_at, r.responded_at,
       CASE WHEN r.status = 'new' THEN 1 ELSE 2 + floor(random() * 3)::int END,
       r.created_at, coalesce(r.responded_at, r.created_at),
       CASE WHEN r.status = 'declined'
            THEN (ARRAY['out_of_scope', 'too_early_stage', 'no_capacity', 'ip_unavailable', 'conflict_of_interest',
                        'terms_not_acceptable', 'insufficient_information'])[1 + floor(random() * 7)::int] END,
       NULL,
       CASE WHEN r.status = 'info_requested' THEN r.responded_at END
FROM seed_referrals r
LEFT JOIN seed_contacts c ON c.institution_id = r.institution_id AND c.rank = r.contact_rank;

COMMIT;
-- VACUUM as well, so that the visibility map lets the planner use index-only scans.
VACUUM ANALYZE;
