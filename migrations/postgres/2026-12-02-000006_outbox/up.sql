-- The event feed and the outbox. Every change the recorder writes with a catalogue type gets
-- one row in `outbox_events` (in the change's transaction); every subscribed webhook endpoint
-- gets one row in `webhook_deliveries` beside it. The audit trail (`events`) stays as it was:
-- append-only, and never touched by delivery.

CREATE TABLE outbox_events (
    -- `seq` is taken when the row is written, not when it commits; `tx_id` is the writing
    -- transaction (pg_current_xact_id). The feed reads only below the oldest running
    -- transaction, in (tx_id, seq) order, so a later commit of an earlier id is never skipped.
    seq BIGSERIAL PRIMARY KEY,
    tx_id BIGINT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    -- NULL: a platform-level event (operators only); otherwise the institution it concerns.
    institution_id TEXT REFERENCES institutions (id),
    inquiry_id TEXT,
    referral_id TEXT,
    -- Pings go to one endpoint and are not part of the feed.
    in_feed BOOLEAN NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_events_feed ON outbox_events (tx_id, seq);
CREATE INDEX outbox_events_institution_feed ON outbox_events (institution_id, tx_id, seq);
CREATE INDEX outbox_events_created ON outbox_events (created_at);

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    -- NULL: a platform-wide endpoint (operators), told of every event.
    institution_id TEXT REFERENCES institutions (id),
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    -- JSON array of event types; empty means every type.
    event_types TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT CHECK (disabled_reason IN ('by_hand', 'gone', 'failing')),
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMP,
    failing_since TIMESTAMP,
    version INTEGER NOT NULL,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX webhook_endpoints_institution ON webhook_endpoints (institution_id, created_at);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
    event_seq BIGINT NOT NULL REFERENCES outbox_events (seq),
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    -- A claim: the worker that holds it and until when. Another worker takes the delivery over
    -- only after the lease expires.
    lease_token TEXT,
    lease_expires_at TIMESTAMP,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (endpoint_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_lease ON webhook_deliveries (lease_token);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at TIMESTAMP NOT NULL,
    duration_ms BIGINT NOT NULL,
    status_code INTEGER,
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed', 'gone')),
    error TEXT,
    response_excerpt TEXT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempted_at);

-- SLA signals already emitted, so the clock tells each deadline once (a deadline that moves,
-- after a pause, is a new deadline).
CREATE TABLE sla_signals (
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    kind TEXT NOT NULL CHECK (kind IN ('due_soon', 'breached')),
    due_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (referral_id, kind, due_at)
);
