-- E-mail, through the same outbox discipline as webhooks: the change recorder writes one row per
-- message in the change's transaction; the worker frame renders and sends it after commit, under
-- a lease, retrying transient failures. Messages are rendered at send time from the snapshot in
-- `context` (what the change knew), with the templates in `templates/mail/`.
CREATE TABLE mail_messages (
    id TEXT PRIMARY KEY NOT NULL,
    -- One message per key when set (SLA reminders: kind, referral, deadline, recipient), so two
    -- instances or a re-run write one message, not two.
    dedupe_key TEXT UNIQUE,
    kind TEXT NOT NULL,
    -- `assignment`, `reminder`, `submitter` or `account`: only `reminder` can be opted out of.
    category TEXT NOT NULL CHECK (category IN ('assignment', 'reminder', 'submitter', 'account')),
    recipient TEXT NOT NULL,
    locale TEXT NOT NULL CHECK (locale IN ('en', 'fr')),
    -- The Message-ID header without its angle brackets; the same on every attempt.
    message_id TEXT NOT NULL UNIQUE,
    -- JSON object: what the template shows.
    context TEXT NOT NULL,
    institution_id TEXT,
    inquiry_id TEXT,
    referral_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_token TEXT,
    lease_expires_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX mail_messages_due ON mail_messages (status, next_attempt_at);
CREATE INDEX mail_messages_created ON mail_messages (created_at);
CREATE INDEX mail_messages_referral ON mail_messages (referral_id, created_at);

-- Addresses that asked (one-click List-Unsubscribe, or their account preference) not to receive
-- a category of optional notices.
CREATE TABLE mail_opt_outs (
    address TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('reminder')),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (address, category)
);

-- Password reset tokens: only their SHA-256 is kept; single use, short-lived.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at);

-- The language of the e-mails a staff account receives, and of a submitter's.
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'fr'));
ALTER TABLE inquiries ADD COLUMN locale TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'fr'));
-- Where new unassigned referrals of an institution are announced instead of its triagers.
ALTER TABLE institutions ADD COLUMN team_email TEXT;

-- The decision target: business days from the first response to `accepted`, `declined` or
-- `forwarded`, paused while the submitter is asked for information.
ALTER TABLE institutions ADD COLUMN decision_business_days INTEGER NOT NULL DEFAULT 10 CHECK (decision_business_days BETWEEN 1 AND 60);
ALTER TABLE referrals ADD COLUMN decision_due_at TIMESTAMP;
ALTER TABLE referrals ADD COLUMN decided_at TIMESTAMP;
