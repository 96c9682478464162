//! What the derived document cannot say by itself, written once here so that the contract is
//! as strict as the server: constants, unique items, bounds of weights, patterns of headers,
//! narrower enums, explicit empty `security` on public operations, and `links` from created
//! resources to their reads (for generated clients and stateful fuzzers).
//!
//! Every rule names the check in the server that it mirrors; `tests/api/contract.rs` proves
//! the document and the server agree.

use serde_json::{Value, json};

/// Every `code` a problem document can carry, with its status. `tests/api/contract.rs` reads
/// the server's sources and fails when a code is missing here.
pub const PROBLEM_CODES: &[(&str, u16)] = &[
    ("malformed_json", 400),
    ("duplicate_key", 400),
    ("missing_body", 400),
    ("unreadable_body", 400),
    ("invalid_query", 400),
    ("invalid_cursor", 400),
    ("cursor_filters_changed", 400),
    ("invalid_limit", 400),
    ("invalid_status", 400),
    ("invalid_assigned", 400),
    ("invalid_idempotency_key", 400),
    ("invalid_event_type", 400),
    ("bad_request", 400),
    ("invalid_token", 401),
    ("invalid_credentials", 401),
    ("invalid_refresh_token", 401),
    ("refresh_token_reused", 401),
    ("invalid_reset_token", 401),
    ("forbidden", 403),
    ("origin_not_allowed", 403),
    ("not_found", 404),
    ("method_not_allowed", 405),
    ("body_timeout", 408),
    ("already_exists", 409),
    ("email_taken", 409),
    ("contact_email_taken", 409),
    ("already_referred", 409),
    ("institution_exists", 409),
    ("institution_inactive", 409),
    ("inactive_contact", 409),
    ("contact_linked", 409),
    ("same_contact", 409),
    ("cannot_change_own_account", 409),
    ("inquiry_withdrawn", 409),
    ("nothing_to_withdraw", 409),
    ("referral_closed", 409),
    ("transition_not_allowed", 409),
    ("idempotency_race", 409),
    ("endpoint_disabled", 409),
    ("concurrent_change", 409),
    ("stale_version", 412),
    ("payload_too_large", 413),
    ("unsupported_media_type", 415),
    ("validation_failed", 422),
    ("if_match_required", 428),
    ("too_many_requests", 429),
    ("internal_error", 500),
    ("database_unavailable", 503),
    ("shutting_down", 503),
    ("error", 0),
];

/// Operations whose successful answer carries text in the request's language (problems always
/// do): they document `Accept-Language` and answer with `Content-Language`.
pub const LOCALIZED: &[&str] = &[
    "taxonomy_get",
    "routing_preview",
    "inquiry_create",
    "inquiry_get",
    "desk_list",
    "referral_get",
    "transparency_get",
];

/// Operations that count calls against a throttle and show it in `RateLimit` headers.
const THROTTLED: &[&str] = &[
    "auth_login",
    "auth_refresh",
    "auth_password_change",
    "auth_password_reset_request",
    "auth_password_reset_confirm",
    "inquiry_create",
    "inquiry_get",
    "inquiry_message_create",
    "inquiry_withdraw",
];

/// Tightens the derived document in place.
pub fn tighten(doc: &mut Value) {
    webhooks(doc);
    let schemas = &mut doc["components"]["schemas"];

    // The stable codes of problem documents.
    let codes: Vec<&str> = PROBLEM_CODES.iter().map(|(c, _)| *c).collect();
    let table: Vec<String> = PROBLEM_CODES
        .iter()
        .map(|(c, s)| match s {
            0 => format!("`{c}` (any other HTTP error)"),
            s => format!("`{c}` ({s})"),
        })
        .collect();
    schemas["Problem"]["properties"]["code"] = json!({
        "type": "string",
        "enum": codes,
        "description": format!("Stable machine-readable code: {}.", table.join(", "))
    });

    // `params::InquiryCreate::validate`: anything but `true` is refused.
    schemas["InquiryCreate"]["properties"]["non_confidential"] = json!({
        "type": "boolean",
        "const": true,
        "description": "Must be `true`: the submitter states that the inquiry holds no confidential information."
    });

    // `Checks::list`: every list of a request refuses an item given twice.
    for (schema, fields) in [
        (
            "InquiryCreate",
            &[
                "therapeutic_areas",
                "modalities",
                "preferred_institutions",
                "keywords",
            ][..],
        ),
        (
            "RoutingPreviewRequest",
            &["therapeutic_areas", "modalities", "preferred_institutions"][..],
        ),
        (
            "Expertise",
            &["inquiry_types", "therapeutic_areas", "modalities"][..],
        ),
        ("ManualRouting", &["institutions"][..]),
        ("RoutingProfile", &["accepted_inquiry_types"][..]),
        ("WebhookEndpointCreate", &["event_types"][..]),
        ("WebhookEndpointUpdate", &["event_types"][..]),
    ] {
        for field in fields {
            if let Some(property) = schemas[schema]["properties"].get_mut(*field) {
                set_on_array(property, "uniqueItems", json!(true));
            }
        }
    }

    // `params::check_event_types`: at most every type of the catalogue, once each.
    for schema in ["WebhookEndpointCreate", "WebhookEndpointUpdate"] {
        if let Some(property) = schemas[schema]["properties"].get_mut("event_types") {
            set_on_array(
                property,
                "maxItems",
                json!(crate::domain::taxonomy::EventType::ALL.len()),
            );
        }
    }

    // `RoutingProfile::problems`: weights and the threshold range over 0..=100.
    for field in [
        "therapeutic_area_weights",
        "modality_weights",
        "stage_preferences",
    ] {
        let p = &mut schemas["RoutingProfile"]["properties"][field];
        if p["additionalProperties"].is_object() {
            p["additionalProperties"]["maximum"] = json!(crate::domain::routing::MAX_WEIGHT);
        }
    }
    if schemas["RoutingProfile"]["properties"]["threshold"].is_object() {
        schemas["RoutingProfile"]["properties"]["threshold"]["maximum"] =
            json!(crate::domain::routing::MAX_WEIGHT);
    }

    // `service::users`: an institution account is a triager or an institution admin;
    // operators are made on the command line only.
    schemas["InstitutionRole"] = json!({
        "type": "string",
        "description": "The role of an institution account (operators are created with `guichet users create`).",
        "enum": ["triager", "institution_admin"]
    });
    for schema in ["UserCreate", "UserUpdate"] {
        if let Some(role) = schemas[schema]["properties"].get_mut("role") {
            replace_ref(
                role,
                "#/components/schemas/Role",
                "#/components/schemas/InstitutionRole",
            );
        }
    }

    // Closed sets the server writes.
    if schemas["HealthView"]["properties"]["status"].is_object() {
        schemas["HealthView"]["properties"]["status"]["enum"] = json!(["ok"]);
    }
    // `Actor::kind` writes an `ActorKind`. (`action` stays a string: records written by earlier
    // versions keep names the recorder no longer writes, such as `withdrawn_from_desk`.)
    if schemas["EventView"]["properties"]["actor_kind"].is_object() {
        schemas["EventView"]["properties"]["actor_kind"] =
            json!({"$ref": "#/components/schemas/ActorKind"});
    }

    // The document itself carries more keys than the few described.
    schemas["OpenApiDocument"]["additionalProperties"] = json!(true);

    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            // Public operations say so: generated clients then send no credentials.
            if op.get("security").is_none() {
                op["security"] = json!([]);
            }
            // `extract::read_body`: a body that does not arrive in time is cut.
            if op.get("requestBody").is_some() && op["responses"].get("408").is_none() {
                op["responses"]["408"] = problem_response(
                    "The request body did not arrive within 10 seconds.",
                    "body_timeout",
                    408,
                    "Request Timeout",
                    "The request body did not arrive within 10 seconds.",
                );
            }
            let localized = op["operationId"]
                .as_str()
                .is_some_and(|id| LOCALIZED.contains(&id));
            if localized {
                let header = json!({
                    "name": "Accept-Language",
                    "in": "header",
                    "required": false,
                    "description": "The language of the text in the answer: `fr` or `en` (RFC 9110 §12.5.4, quality values honoured; any other language, or none, is English). Codes and values never change with the language.",
                    "schema": {"type": "string"},
                    "example": "fr-FR, fr;q=0.9, en;q=0.5"
                });
                match op.get_mut("parameters").and_then(Value::as_array_mut) {
                    Some(params) => params.push(header),
                    None => op["parameters"] = json!([header]),
                }
                if let Some(responses) = op["responses"].as_object_mut() {
                    for (status, response) in responses.iter_mut() {
                        if status.starts_with('2') {
                            response["headers"]["Content-Language"] = json!({
                                "description": "The language of the text in the answer: `en` or `fr`.",
                                "schema": {"type": "string", "enum": ["en", "fr"]}
                            });
                        }
                    }
                }
            }
            let throttled = op["operationId"]
                .as_str()
                .is_some_and(|id| THROTTLED.contains(&id));
            if throttled && let Some(responses) = op["responses"].as_object_mut() {
                for (status, response) in responses.iter_mut() {
                    if status.starts_with('2')
                        || status == "401"
                        || status == "404"
                        || status == "429"
                    {
                        response["headers"]["RateLimit-Policy"] = json!({
                            "description": "The throttles of this operation: `\"<policy>\";q=<quota>;w=<window seconds>`, comma-separated (draft-ietf-httpapi-ratelimit-headers).",
                            "schema": {"type": "string"}
                        });
                        response["headers"]["RateLimit"] = json!({
                            "description": "What is left of each: `\"<policy>\";r=<remaining>;t=<seconds until the window resets>`.",
                            "schema": {"type": "string"}
                        });
                    }
                }
            }
            if op["operationId"] == "health_ready" {
                op["responses"]["503"]["description"] = json!(
                    "The database is unreachable (`database_unavailable`), or this instance is stopping (`shutting_down`: take it out of the load balancer); retry after `Retry-After` seconds."
                );
            }
            let is_feed = op["operationId"] == "event_feed";
            // The queue and its export take the same filters.
            let is_queue =
                op["operationId"] == "referral_list" || op["operationId"] == "referral_export";
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for p in params {
                match (p["in"].as_str(), p["name"].as_str()) {
                    // `webhooks::event_feed`: comma-separated event types, none twice.
                    (Some("query"), Some("types")) if is_feed => {
                        p["schema"] = json!({
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/EventType"},
                            "minItems": 1,
                            "uniqueItems": true
                        });
                        p["style"] = json!("form");
                        p["explode"] = json!(false);
                    }
                    // `api::inquiries::idempotency_key`: 1 to 200 visible ASCII characters.
                    (Some("header"), Some("Idempotency-Key")) => {
                        p["schema"] = json!({
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 200,
                            "pattern": "^[\\x21-\\x7E]+$"
                        });
                    }
                    // `QueueQuery::resolve`: comma-separated referral statuses.
                    (Some("query"), Some("status")) if is_queue => {
                        p["schema"] = json!({
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/ReferralStatus"},
                            "minItems": 1,
                            "uniqueItems": true
                        });
                        p["style"] = json!("form");
                        p["explode"] = json!(false);
                    }
                    _ => {}
                }
            }
        }
    }

    text_patterns(doc);
    add_links(doc);
}

/// `Checks::bounded_text`: no control character but tab and line breaks; a required text also
/// needs something besides white space (it is trimmed).
const NO_CONTROL: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";
const NOT_BLANK: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";
/// The middleware refuses control characters anywhere in a query string.
const NO_CONTROL_IN_QUERY: &str = "^[^\\u0000-\\u001F\\u007F]*$";

/// Patterns on the texts of request bodies and query strings; the countries; keyword items.
fn text_patterns(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    for name in [
        "InquiryCreate",
        "SubmitterInput",
        "ContactCreate",
        "ContactUpdate",
        "InstitutionCreate",
        "InstitutionUpdate",
        "MessageCreate",
        "StaffMessageCreate",
        "TransitionRequest",
        "WithdrawalRequest",
        "ManualRouting",
        "AssigneeRequest",
        "LoginRequest",
        "RefreshRequest",
        "LogoutRequest",
        "UserCreate",
        "WebhookEndpointCreate",
        "WebhookEndpointUpdate",
    ] {
        let Some(properties) = schemas[name]["properties"].as_object_mut() else {
            continue;
        };
        for (field, p) in properties.iter_mut() {
            if field == "password" {
                continue; // any Unicode, never trimmed
            }
            let is_text = match &p["type"] {
                Value::String(t) => t == "string",
                Value::Array(t) => t.iter().any(|t| t == "string"),
                _ => false,
            };
            // A `format` (email) already says more than the pattern would.
            // A field with its own pattern (a slug) already says more too.
            if is_text
                && p.get("maxLength").is_some()
                && p.get("format").is_none()
                && p.get("pattern").is_none()
            {
                let required = p["minLength"].as_u64().unwrap_or(0) >= 1;
                p["pattern"] = json!(if required { NOT_BLANK } else { NO_CONTROL });
            }
        }
    }
    // `params::InquiryCreate::validate`: each keyword is a text of 1 to 50 characters.
    if schemas["InquiryCreate"]["properties"]["keywords"].is_object() {
        schemas["InquiryCreate"]["properties"]["keywords"]["items"] = json!({
            "type": "string",
            "minLength": 1,
            "maxLength": crate::domain::inquiry::KEYWORD_MAX_CHARS,
            "pattern": NOT_BLANK
        });
    }
    // `domain::inquiry::is_country_code`: assigned ISO 3166-1 alpha-2 codes only.
    if schemas["SubmitterInput"]["properties"]["country"].is_object() {
        let codes: Vec<&str> = crate::domain::inquiry::country_codes().collect();
        let p = &mut schemas["SubmitterInput"]["properties"]["country"];
        p["enum"] = json!(codes);
        if let Some(map) = p.as_object_mut() {
            map.remove("pattern");
        }
    }
    // `RoutingProfile::problems`: at least one accepted inquiry type.
    if schemas["RoutingProfile"]["properties"]["accepted_inquiry_types"].is_object() {
        schemas["RoutingProfile"]["properties"]["accepted_inquiry_types"]["minItems"] = json!(1);
    }

    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            // Any query string may be refused (a control character), so every operation
            // documents a 400.
            if op["responses"].get("400").is_none() {
                op["responses"]["400"] = problem_response(
                    "The request cannot be read: a wrong query parameter (a control character, a bad time or cursor) or header.",
                    "invalid_query",
                    400,
                    "Bad Request",
                    "The query string contains a control character.",
                );
            }
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for p in params {
                if p["in"] == "query"
                    && p["schema"]["type"] == "string"
                    && p["schema"].get("pattern").is_none()
                    && p["schema"].get("format").is_none()
                {
                    p["schema"]["pattern"] = json!(NO_CONTROL_IN_QUERY);
                }
                if p["in"] == "query" && p["name"] == "assigned" {
                    p["schema"]["pattern"] = json!(
                        "^(me|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
                    );
                }
            }
        }
    }
}

fn problem_response(
    description: &str,
    code: &str,
    status: u16,
    title: &str,
    detail: &str,
) -> Value {
    json!({
        "description": description,
        "content": {
            "application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "example": {
                    "type": format!("urn:guichet:problem:{code}"),
                    "title": title,
                    "status": status,
                    "detail": detail,
                    "code": code,
                    "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"
                }
            }
        }
    })
}

/// From what a creation returns to where it can be read.
fn add_links(doc: &mut Value) {
    let links = [
        (
            "/v1/inquiries",
            "post",
            "201",
            "InquiryGet",
            "inquiry_get",
            json!({"inquiry_id": "$response.body#/id"}),
            "Read the inquiry (with the `tracking_token` of this answer as `X-Tracking-Token`).",
        ),
        (
            "/v1/institutions/{institution_id}/contacts",
            "post",
            "201",
            "ContactGet",
            "contact_get",
            json!({"institution_id": "$request.path.institution_id", "contact_id": "$response.body#/id"}),
            "Read the contact.",
        ),
        (
            "/v1/institutions/{institution_id}/contacts",
            "post",
            "201",
            "ContactUpdate",
            "contact_update",
            json!({"institution_id": "$request.path.institution_id", "contact_id": "$response.body#/id"}),
            "Change the contact.",
        ),
        (
            "/v1/institutions/{institution_id}/users",
            "post",
            "201",
            "UserGet",
            "user_get",
            json!({"institution_id": "$request.path.institution_id", "user_id": "$response.body#/id"}),
            "Read the account.",
        ),
        (
            "/v1/referrals/{referral_id}/messages",
            "post",
            "201",
            "MessageGet",
            "referral_message_get",
            json!({"referral_id": "$request.path.referral_id", "message_id": "$response.body#/id"}),
            "Read the message.",
        ),
        (
            "/v1/referrals/{referral_id}",
            "get",
            "200",
            "ReferralMessages",
            "referral_message_list",
            json!({"referral_id": "$response.body#/id"}),
            "Read the referral's thread.",
        ),
        (
            "/v1/referrals/{referral_id}",
            "get",
            "200",
            "ReferralEvents",
            "referral_event_list",
            json!({"referral_id": "$response.body#/id"}),
            "Read the referral's audit trail.",
        ),
    ];
    for (path, method, status, name, operation_id, parameters, description) in links {
        let response = &mut doc["paths"][path][method]["responses"][status];
        if !response.is_object() {
            continue;
        }
        response["links"][name] = json!({
            "operationId": operation_id,
            "parameters": parameters,
            "description": description
        });
    }
}

/// Sets `key` on an array schema, also when it is `{"type": ["array", "null"]}` or a `oneOf`.
fn set_on_array(schema: &mut Value, key: &str, value: Value) {
    let is_array = match &schema["type"] {
        Value::String(t) => t == "array",
        Value::Array(types) => types.iter().any(|t| t == "array"),
        _ => false,
    };
    if is_array {
        schema[key] = value;
    } else if let Some(variants) = schema.get_mut("oneOf").and_then(Value::as_array_mut) {
        for v in variants {
            set_on_array(v, key, value.clone());
        }
    }
}

/// Replaces a `$ref` wherever it sits in `schema` (directly, in `oneOf` or `allOf`).
fn replace_ref(schema: &mut Value, from: &str, to: &str) {
    match schema {
        Value::Object(map) => {
            if map.get("$ref").and_then(Value::as_str) == Some(from) {
                map.insert("$ref".into(), json!(to));
            }
            for v in map.values_mut() {
                replace_ref(v, from, to);
            }
        }
        Value::Array(items) => {
            for v in items {
                replace_ref(v, from, to);
            }
        }
        _ => {}
    }
}

/// The event catalogue as OpenAPI 3.1 `webhooks` (utoipa cannot derive them, utoipa#686): one
/// request per event type, the envelope with its `type` fixed and its `data` schema, and the
/// Standard Webhooks headers. The payload schemas live in `components` like every other.
fn webhooks(doc: &mut Value) {
    use crate::domain::taxonomy::EventType;
    let ids = (
        "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0",
        "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1",
        "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea2",
    );
    // Each type's `data` schema (in `components`) and an example of it.
    let payload = |t: EventType| match t {
        EventType::InquirySubmitted => (
            "InquirySubmittedData",
            json!({"inquiry_id": ids.0, "reference": "GU-2026-000042", "inquiry_type": "clinical_trial"}),
        ),
        EventType::InquiryWithdrawn => (
            "InquiryWithdrawnData",
            json!({"inquiry_id": ids.0, "referral_ids": [ids.1], "was_on_desk": false, "reason_code": "found_partner"}),
        ),
        EventType::InquiryRouted => (
            "InquiryRoutedData",
            json!({"inquiry_id": ids.0, "routed_by": "rules", "institution_ids": ["curie"], "desk_reason": null, "reason": null}),
        ),
        EventType::ReferralCreated => (
            "ReferralCreatedData",
            json!({"referral_id": ids.1, "inquiry_id": ids.0, "institution_id": "curie", "contact_id": ids.2, "first_response_due_at": "2026-12-09T17:00:00Z", "source": "rules", "forwarded_from_referral_id": null}),
        ),
        EventType::ReferralAssigned => (
            "ReferralAssignedData",
            json!({"referral_id": ids.1, "inquiry_id": ids.0, "institution_id": "curie", "contact_id": ids.2, "previous_contact_id": null}),
        ),
        EventType::ReferralUnassigned => (
            "ReferralUnassignedData",
            json!({"referral_id": ids.1, "inquiry_id": ids.0, "institution_id": "curie", "previous_contact_id": ids.2}),
        ),
        EventType::ReferralStatusChanged => (
            "ReferralStatusChangedData",
            json!({"referral_id": ids.1, "inquiry_id": ids.0, "institution_id": "curie", "from": "in_review", "to": "declined", "reason_code": "out_of_scope", "withdrawal_reason": null}),
        ),
        EventType::ReferralMessagePosted | EventType::ReferralNotePosted => (
            "ReferralMessageData",
            json!({"referral_id": ids.1, "inquiry_id": ids.0, "institution_id": "curie", "message_id": ids.2, "author": "staff"}),
        ),
        EventType::ReferralSlaDueSoon | EventType::ReferralSlaBreached => (
            "ReferralSlaData",
            json!({"referral_id": ids.1, "inquiry_id": ids.0, "institution_id": "curie", "contact_id": ids.2, "status": "new", "first_response_due_at": "2026-12-09T17:00:00Z"}),
        ),
        EventType::RoutingProfileChanged => (
            "RoutingProfileChangedData",
            json!({"institution_id": "curie", "profile_version": 4}),
        ),
        EventType::WebhookEndpointDisabled => (
            "WebhookEndpointDisabledData",
            json!({"endpoint_id": ids.2, "institution_id": "curie", "reason": "gone"}),
        ),
        EventType::WebhookEndpointPing => ("WebhookPingData", json!({"endpoint_id": ids.2})),
    };
    let header = |name: &str, description: &str, schema: Value| json!({"name": name, "in": "header", "required": true, "description": description, "schema": schema});
    let mut hooks = serde_json::Map::new();
    for t in EventType::ALL {
        let name = t.as_str();
        let (data_schema, example_data) = payload(*t);
        let audience = if t.submitter_facing() {
            "May reach consumers acting for the submitter."
        } else {
            "Never reaches a consumer acting for the submitter."
        };
        hooks.insert(
            name.to_owned(),
            json!({"post": {
                "operationId": format!("webhook_{}", name.replace('.', "_")),
                "tags": ["webhooks"],
                "summary": t.label(),
                "description": format!("Sent to every enabled endpoint that subscribed to `{name}` (or to every type), signed per Standard Webhooks: verify `webhook-signature` over `{{webhook-id}}.{{webhook-timestamp}}.{{body}}` with the endpoint's `whsec_` secret, and dedupe on `webhook-id` (the same on every retry). {audience} Any 2xx is a delivery; `410 Gone` disables the endpoint; anything else (redirects included) is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (with jitter; `Retry-After` is respected)."),
                "parameters": [
                    header("webhook-id", "The event id: the same on every retry of this event.", json!({"type": "string"})),
                    header("webhook-timestamp", "Seconds since the Unix epoch when this attempt was signed.", json!({"type": "string", "pattern": "^[0-9]+$"})),
                    header("webhook-signature", "Space-separated `v1,<base64 HMAC-SHA256>` signatures: one per valid secret (two during the 24 hours after a rotation).", json!({"type": "string", "pattern": "^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$"})),
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Envelope"},
                        {"type": "object", "properties": {
                            "type": {"const": name},
                            "data": {"$ref": format!("#/components/schemas/{data_schema}")}
                        }}
                    ]
                }, "example": {
                    "id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f",
                    "type": name,
                    "version": crate::domain::event::PAYLOAD_VERSION,
                    "timestamp": "2026-11-28T09:30:00Z",
                    "data": example_data
                }}}},
                "responses": {
                    "2XX": {"description": "Delivered."},
                    "410": {"description": "The receiver is gone for good: Guichet disables the endpoint."}
                }
            }}),
        );
    }
    doc["webhooks"] = Value::Object(hooks);
}

#[cfg(test)]
mod language_tests {
    use super::PROBLEM_CODES;
    use crate::domain::catalogue::Msg;
    use crate::domain::taxonomy::Locale;

    #[test]
    fn every_problem_code_has_its_french_detail_and_title() {
        for (code, status) in PROBLEM_CODES {
            let msg = Msg::for_problem_code(code);
            assert!(msg.is_some(), "`{code}` has no sentence in the catalogue");
            let (en, fr) = msg
                .map(|m| (m.render(Locale::En), m.render(Locale::Fr)))
                .unwrap_or_default();
            assert!(!fr.is_empty() && fr != en, "`{code}` has no French detail");
            if *status != 0 {
                assert_ne!(
                    Msg::title_for_status(*status),
                    Msg::TitleError,
                    "status {status} of `{code}` has no title"
                );
            }
        }
    }
}
