-- Institutions, their contacts, accounts and sessions. The four founding institutions are
-- seeded at the end of this migration.

CREATE TABLE institutions (
    id TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 2 AND 40),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    website TEXT NOT NULL,
    sla_business_days INTEGER NOT NULL CHECK (sla_business_days BETWEEN 1 AND 60),
    routing_profile TEXT NOT NULL,
    profile_version BIGINT NOT NULL CHECK (profile_version >= 1),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY NOT NULL,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    email TEXT NOT NULL,
    expertise TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (institution_id, email)
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('operator', 'institution_admin', 'triager')),
    institution_id TEXT REFERENCES institutions (id),
    disabled BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((role = 'operator') = (institution_id IS NULL))
);
CREATE INDEX users_institution_id ON users (institution_id, id);

-- A session is one login; its refresh tokens form one rotation family.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);

-- Generated secrets (the JWT signing key when none is configured), kept with the data so
-- that every instance and every restart agrees.
CREATE TABLE settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Fixed-window counters shared by all instances: failed logins per account and per
-- address, anonymous submissions per address, tracking look-ups per address.
CREATE TABLE throttles (
    key TEXT PRIMARY KEY NOT NULL,
    hits INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    blocked_until TIMESTAMP
);

-- The four founding institutions, with routing profiles reflecting their public strengths in
-- oncology (the same documents as src/domain/initial_profiles.json, checked by a test).
INSERT INTO institutions
    (id, name, description, website, sla_business_days, routing_profile, profile_version, created_at, updated_at)
VALUES
    ('aphp', 'AP-HP (Assistance Publique – Hôpitaux de Paris)',
     'Europe''s largest university hospital group: 38 hospitals across Paris and its region. It runs clinical trials at scale across every tumour type, reference services in hematology (Saint-Louis) and pediatric oncology (Robert-Debré, Trousseau), and one of Europe''s largest clinical data warehouses (Entrepôt de Données de Santé) for real-world evidence.',
     'https://www.aphp.fr', 10,
     '{"accepted_inquiry_types":["licensing","co_development","sponsored_research","clinical_trial","investment","data_access","platform_access"],"therapeutic_area_weights":{"breast":55,"lung":60,"colorectal":70,"prostate":70,"gynecologic":55,"hematologic":90,"pediatric":85,"skin_melanoma":50,"head_and_neck":55,"brain_cns":70,"sarcoma":45,"digestive":75,"genitourinary":65,"thyroid_endocrine":45,"rare_cancers":75,"pan_tumor":45},"modality_weights":{"small_molecule":55,"biologic_antibody":55,"adc":40,"cell_therapy":75,"gene_therapy":65,"vaccine_immunotherapy":50,"radiopharmaceutical":40,"radiotherapy":50,"diagnostic_biomarker":65,"imaging":65,"medical_device":70,"digital_ai":75,"data_rwe":95,"microbiome":35},"stage_preferences":{"discovery":15,"preclinical":30,"phase_1":55,"phase_2":85,"phase_3":95,"approved":80,"not_applicable":70},"threshold":55}',
     1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('curie', 'Institut Curie',
     'Comprehensive cancer centre combining a research centre and a hospital group in Paris and Saint-Cloud. Leading in breast cancer, pediatric oncology (SIREDO), uveal melanoma (national reference centre), sarcoma, and radiotherapy including proton therapy at Orsay, with strong imaging and translational research.',
     'https://curie.fr', 5,
     '{"accepted_inquiry_types":["licensing","co_development","sponsored_research","clinical_trial","investment","data_access","platform_access"],"therapeutic_area_weights":{"breast":95,"lung":45,"colorectal":35,"prostate":40,"gynecologic":70,"hematologic":30,"pediatric":90,"skin_melanoma":90,"head_and_neck":60,"brain_cns":55,"sarcoma":80,"digestive":35,"genitourinary":40,"thyroid_endocrine":30,"rare_cancers":70,"pan_tumor":40},"modality_weights":{"small_molecule":55,"biologic_antibody":55,"adc":60,"cell_therapy":50,"gene_therapy":40,"vaccine_immunotherapy":65,"radiopharmaceutical":65,"radiotherapy":95,"diagnostic_biomarker":70,"imaging":85,"medical_device":50,"digital_ai":60,"data_rwe":55,"microbiome":30},"stage_preferences":{"discovery":70,"preclinical":80,"phase_1":70,"phase_2":75,"phase_3":60,"approved":50,"not_applicable":60},"threshold":55}',
     1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('pasteur', 'Institut Pasteur',
     'Biomedical research foundation in Paris. Its oncology work rests on immunology, vaccines, the microbiome and infection-linked cancers (HPV, hepatitis B and C, Helicobacter pylori, HTLV-1), with technology platforms open to partners. It does not host clinical trial placements.',
     'https://www.pasteur.fr', 7,
     '{"accepted_inquiry_types":["licensing","co_development","sponsored_research","investment","data_access","platform_access"],"therapeutic_area_weights":{"breast":20,"lung":20,"colorectal":60,"prostate":15,"gynecologic":65,"hematologic":55,"pediatric":15,"skin_melanoma":20,"head_and_neck":45,"brain_cns":20,"sarcoma":10,"digestive":75,"genitourinary":15,"thyroid_endocrine":10,"rare_cancers":25,"pan_tumor":30},"modality_weights":{"small_molecule":45,"biologic_antibody":70,"adc":25,"cell_therapy":40,"gene_therapy":35,"vaccine_immunotherapy":90,"radiopharmaceutical":5,"radiotherapy":0,"diagnostic_biomarker":70,"imaging":60,"medical_device":15,"digital_ai":55,"data_rwe":35,"microbiome":95},"stage_preferences":{"discovery":95,"preclinical":80,"phase_1":35,"phase_2":15,"phase_3":5,"approved":10,"not_applicable":70},"threshold":45}',
     1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('gustave-roussy', 'Gustave Roussy',
     'Comprehensive cancer centre in Villejuif, one of Europe''s largest. Renowned for early-phase clinical trials (its drug development department runs hundreds of phase 1 studies), precision medicine and molecular profiling, immuno-oncology, cell therapy, antibody-drug conjugates and radiopharmaceuticals, across all tumour types.',
     'https://www.gustaveroussy.fr', 5,
     '{"accepted_inquiry_types":["licensing","co_development","sponsored_research","clinical_trial","investment","data_access","platform_access"],"therapeutic_area_weights":{"breast":75,"lung":90,"colorectal":55,"prostate":60,"gynecologic":55,"hematologic":85,"pediatric":70,"skin_melanoma":65,"head_and_neck":70,"brain_cns":45,"sarcoma":55,"digestive":60,"genitourinary":60,"thyroid_endocrine":55,"rare_cancers":65,"pan_tumor":60},"modality_weights":{"small_molecule":70,"biologic_antibody":80,"adc":90,"cell_therapy":85,"gene_therapy":40,"vaccine_immunotherapy":90,"radiopharmaceutical":90,"radiotherapy":60,"diagnostic_biomarker":90,"imaging":55,"medical_device":30,"digital_ai":60,"data_rwe":50,"microbiome":45},"stage_preferences":{"discovery":30,"preclinical":60,"phase_1":95,"phase_2":80,"phase_3":55,"approved":35,"not_applicable":40},"threshold":55}',
     1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);
