// The one schema of both backends. Portable types only: text ids, naive UTC timestamps,
// booleans, integers; JSON documents as text.

diesel::table! {
    institutions (id) {
        id -> Text,
        name -> Text,
        description -> Text,
        website -> Text,
        sla_business_days -> Integer,
        routing_profile -> Text,
        profile_version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        team_email -> Nullable<Text>,
        decision_business_days -> Integer,
        active -> Bool,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        institution_id -> Text,
        name -> Text,
        title -> Text,
        email -> Text,
        expertise -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        institution_id -> Nullable<Text>,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        locale -> Text,
        contact_id -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        session_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    throttles (key) {
        key -> Text,
        hits -> Integer,
        window_started_at -> Timestamp,
        blocked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    inquiries (id) {
        id -> Text,
        reference -> Text,
        organization -> Text,
        submitter -> Text,
        inquiry_type -> Text,
        title -> Text,
        summary -> Text,
        therapeutic_areas -> Text,
        modalities -> Text,
        stage -> Text,
        preferred_institutions -> Text,
        keywords -> Text,
        tracking_token_hash -> Text,
        on_desk -> Bool,
        routing_decision -> Text,
        created_at -> Timestamp,
        locale -> Text,
    }
}

diesel::table! {
    referrals (id) {
        id -> Text,
        inquiry_id -> Text,
        institution_id -> Text,
        contact_id -> Nullable<Text>,
        status -> Text,
        reasons -> Text,
        score -> Integer,
        profile_version -> BigInt,
        first_response_due_at -> Timestamp,
        first_responded_at -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        decision_reason -> Nullable<Text>,
        decision_note -> Nullable<Text>,
        sla_paused_at -> Nullable<Timestamp>,
        decision_due_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        referral_id -> Text,
        author -> Text,
        author_user_id -> Nullable<Text>,
        visibility -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        inquiry_id -> Nullable<Text>,
        referral_id -> Nullable<Text>,
        institution_id -> Nullable<Text>,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        from_value -> Nullable<Text>,
        to_value -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (key) {
        key -> Text,
        request_hash -> Text,
        inquiry_id -> Text,
        response_body -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    reference_counters (year) {
        year -> Integer,
        last_value -> Integer,
    }
}

diesel::table! {
    outbox_events (seq) {
        seq -> BigInt,
        tx_id -> BigInt,
        id -> Text,
        event_type -> Text,
        institution_id -> Nullable<Text>,
        inquiry_id -> Nullable<Text>,
        referral_id -> Nullable<Text>,
        in_feed -> Bool,
        payload -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        institution_id -> Nullable<Text>,
        url -> Text,
        description -> Text,
        event_types -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        version -> Integer,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_seq -> BigInt,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_token -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempted_at -> Timestamp,
        duration_ms -> BigInt,
        status_code -> Nullable<Integer>,
        outcome -> Text,
        error -> Nullable<Text>,
        response_excerpt -> Text,
    }
}

diesel::table! {
    sla_signals (referral_id, kind, due_at) {
        referral_id -> Text,
        kind -> Text,
        due_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_messages (id) {
        id -> Text,
        dedupe_key -> Nullable<Text>,
        kind -> Text,
        category -> Text,
        recipient -> Text,
        locale -> Text,
        message_id -> Text,
        context -> Text,
        institution_id -> Nullable<Text>,
        inquiry_id -> Nullable<Text>,
        referral_id -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_token -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mail_opt_outs (address, category) {
        address -> Text,
        category -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(contacts -> institutions (institution_id));
diesel::joinable!(users -> institutions (institution_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(referrals -> inquiries (inquiry_id));
diesel::joinable!(referrals -> institutions (institution_id));
diesel::joinable!(messages -> referrals (referral_id));
diesel::joinable!(referrals -> contacts (contact_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> outbox_events (event_seq));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    institutions,
    contacts,
    users,
    sessions,
    refresh_tokens,
    settings,
    throttles,
    inquiries,
    referrals,
    messages,
    events,
    idempotency_keys,
    reference_counters,
    outbox_events,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
    sla_signals,
    mail_messages,
    mail_opt_outs,
    password_resets,
);
