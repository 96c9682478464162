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
