-- Inquiries, their referrals (one per institution), threads, audit events, idempotency keys
-- and the per-year reference counters.

CREATE TABLE inquiries (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    organization TEXT NOT NULL,
    -- The rest of the submitter (type, person, e-mail, country) as one JSON document: personal
    -- data stays in one place, easy to erase.
    submitter TEXT NOT NULL,
    inquiry_type TEXT NOT NULL CHECK (inquiry_type IN ('licensing', 'co_development', 'sponsored_research', 'clinical_trial', 'investment', 'data_access', 'platform_access', 'other')),
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    therapeutic_areas TEXT NOT NULL,
    modalities TEXT NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('discovery', 'preclinical', 'phase_1', 'phase_2', 'phase_3', 'approved', 'not_applicable')),
    preferred_institutions TEXT NOT NULL,
    keywords TEXT NOT NULL,
    tracking_token_hash TEXT NOT NULL UNIQUE,
    on_desk BOOLEAN NOT NULL,
    routing_decision TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX inquiries_on_desk ON inquiries (on_desk, created_at);

CREATE TABLE referrals (
    id TEXT PRIMARY KEY NOT NULL,
    inquiry_id TEXT NOT NULL REFERENCES inquiries (id),
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    contact_id TEXT REFERENCES contacts (id),
    status TEXT NOT NULL CHECK (status IN ('new', 'acknowledged', 'in_review', 'info_requested', 'accepted', 'declined', 'forwarded', 'withdrawn')),
    reasons TEXT NOT NULL,
    score INTEGER NOT NULL,
    profile_version BIGINT NOT NULL,
    first_response_due_at TIMESTAMP NOT NULL,
    first_responded_at TIMESTAMP,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (inquiry_id, institution_id)
);
CREATE INDEX referrals_institution_status ON referrals (institution_id, status, first_response_due_at);
CREATE INDEX referrals_contact_status ON referrals (contact_id, status);

CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    author TEXT NOT NULL CHECK (author IN ('submitter', 'staff')),
    author_user_id TEXT REFERENCES users (id),
    visibility TEXT NOT NULL CHECK (visibility IN ('external', 'internal')),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX messages_referral ON messages (referral_id, created_at);

-- Append-only: the application never updates or deletes an event.
CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    inquiry_id TEXT REFERENCES inquiries (id),
    referral_id TEXT REFERENCES referrals (id),
    institution_id TEXT REFERENCES institutions (id),
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('submitter', 'user', 'system')),
    actor_id TEXT,
    action TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX events_inquiry ON events (inquiry_id, created_at);
CREATE INDEX events_referral ON events (referral_id, created_at);

CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY NOT NULL,
    request_hash TEXT NOT NULL,
    inquiry_id TEXT NOT NULL REFERENCES inquiries (id),
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE reference_counters (
    year INTEGER PRIMARY KEY NOT NULL,
    last_value INTEGER NOT NULL
);
