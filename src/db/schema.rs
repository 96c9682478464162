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

diesel::joinable!(contacts -> institutions (institution_id));
diesel::joinable!(users -> institutions (institution_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    institutions,
    contacts,
    users,
    sessions,
    refresh_tokens,
    settings,
    throttles,
);
