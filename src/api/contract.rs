//! What the derived document cannot say by itself, written once here so that the contract is
//! as strict as the server: constants, unique items, bounds of weights, patterns of headers,
//! narrower enums, explicit empty `security` on public operations, and `links` from created
//! resources to their reads (for generated clients and stateful fuzzers).
//!
//! Every rule names the check in the server that it mirrors; `tests/api/contract.rs` proves
//! the document and the server agree.

use serde_json::{Value, json};

/// Tightens the derived document in place.
pub fn tighten(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];

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
    ] {
        for field in fields {
            if let Some(property) = schemas[schema]["properties"].get_mut(*field) {
                set_on_array(property, "uniqueItems", json!(true));
            }
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
    if schemas["EventView"]["properties"]["actor_kind"].is_object() {
        schemas["EventView"]["properties"]["actor_kind"]["enum"] =
            json!(["submitter", "user", "system"]);
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
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for p in params {
                match (p["in"].as_str(), p["name"].as_str()) {
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
                    (Some("query"), Some("status")) => {
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

    add_links(doc);
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
