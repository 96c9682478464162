//! The contract: the checked-in document is what the server serves; every operation is named,
//! tagged, documented and guarded; the compose file matches what the binary reads.

use std::collections::BTreeSet;

use actix_web::http::Method;
use serde_json::Value;

use crate::support::TestApp;

const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

fn served_document() -> Value {
    serde_json::from_str(&guichet::api::openapi_json()).unwrap()
}

#[actix_web::test]
async fn the_checked_in_contract_matches_what_the_server_serves() {
    let generated = guichet::api::openapi_json();
    if std::env::var("GUICHET_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(CHECKED_IN, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
    assert!(
        checked_in == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
    let app = TestApp::new().await;
    let served = app.get("/openapi.json").send().await;
    assert_eq!(served.status, 200);
    assert_eq!(
        served.body,
        serde_json::from_str::<Value>(&checked_in).unwrap()
    );
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(op) = item.get(method) {
                ops.push((method.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    ops
}

#[test]
fn every_operation_is_named_tagged_documented_and_declares_its_security() {
    let doc = served_document();
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default();
        let (resource, verb) = id.split_once('_').unwrap_or(("", ""));
        assert!(
            !resource.is_empty()
                && !verb.is_empty()
                && id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{method} {path}: operationId `{id}` is not <resource>_<verb>"
        );
        assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{id} has no tag"
        );
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{id} has no summary"
        );
        // Public operations declare no security (generated clients then need no credentials);
        // the others name a declared scheme.
        if let Some(security) = op.get("security") {
            for requirement in security.as_array().unwrap() {
                let schemes = requirement.as_object().unwrap();
                assert!(
                    !schemes.is_empty(),
                    "{id} has an empty security requirement"
                );
                for scheme in schemes.keys() {
                    assert!(
                        doc["components"]["securitySchemes"].get(scheme).is_some(),
                        "{id} names an undeclared scheme {scheme}"
                    );
                }
            }
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{id} {status} has no description"
            );
            if status.starts_with('4') || status.starts_with('5') {
                let content = &response["content"]["application/problem+json"];
                assert!(content.is_object(), "{id} {status} is not problem+json");
                assert!(
                    content.get("example").is_some(),
                    "{id} {status} has no example"
                );
            }
        }
        let secured = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        if secured {
            assert!(
                op["responses"].get("401").is_some(),
                "{id} is secured but documents no 401"
            );
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(
                    op["responses"].get(status).is_some(),
                    "{id} takes a body but documents no {status}"
                );
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["info"]["license"]["name"].is_string());
    assert!(!doc["servers"].as_array().unwrap().is_empty());
}

/// The authorization case of every operation: each one declared with the bearer scheme refuses
/// a request without a token. A new staff operation is covered as soon as it is in the contract.
#[actix_web::test]
async fn every_staff_operation_refuses_anonymous_callers() {
    let app = TestApp::new().await;
    let doc = served_document();
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        let secured = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        if !secured {
            continue;
        }
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "curie" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let res = app
            .req(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                &concrete,
            )
            .json(serde_json::json!({}))
            .send()
            .await;
        assert_eq!(
            res.status, 401,
            "{method} {path} answered {} to an anonymous caller",
            res.status
        );
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} staff operations found");
}

#[actix_web::test]
async fn the_docs_page_is_served_without_any_outside_asset() {
    let app = TestApp::new().await;
    let res = app.get("/docs/").send().await;
    assert_eq!(res.status, 200);
    let html = String::from_utf8_lossy(&res.raw).to_string();
    assert!(html.contains("swagger-ui"), "{html}");
    for line in html.lines() {
        if line.contains("src=") || line.contains("href=") {
            assert!(
                !line.contains("http://") && !line.contains("https://"),
                "external asset: {line}"
            );
        }
    }
    let init = app.get("/docs/swagger-initializer.js").send().await;
    assert_eq!(init.status, 200);
    assert!(String::from_utf8_lossy(&init.raw).contains("/openapi.json"));
    let bundle = app.get("/docs/swagger-ui-bundle.js").send().await;
    assert_eq!(bundle.status, 200);
    assert!(
        bundle.raw.len() > 100_000,
        "the bundle is served from the binary"
    );
}

/// Every `env = "GUICHET_..."` the binary reads, from its own source.
fn variables_read_by_the_binary() -> BTreeSet<String> {
    let source = include_str!("../../src/config.rs");
    source
        .split("env = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn docker_compose_runs_postgres_and_guichet_as_the_binary_expects() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docker-compose.yml"))
        .unwrap();
    let compose: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let services = compose["services"].as_mapping().unwrap();
    let names: BTreeSet<&str> = services.keys().filter_map(|k| k.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["guichet", "postgres"]));

    let guichet = &compose["services"]["guichet"];
    let env = guichet["environment"].as_mapping().unwrap();
    let known = variables_read_by_the_binary();
    for key in env.keys().filter_map(|k| k.as_str()) {
        assert!(
            known.contains(key),
            "compose sets {key}, which the binary does not read"
        );
    }
    let url = env[&serde_yaml::Value::from("GUICHET_DATABASE_URL")]
        .as_str()
        .unwrap();
    assert!(
        url.starts_with("postgres://") && url.contains("@postgres:5432/"),
        "{url}"
    );
    let secret = env[&serde_yaml::Value::from("GUICHET_JWT_SECRET")]
        .as_str()
        .unwrap();
    assert!(
        secret.starts_with("${GUICHET_JWT_SECRET"),
        "the secret comes from the environment: {secret}"
    );
    let bind = env[&serde_yaml::Value::from("GUICHET_BIND")]
        .as_str()
        .unwrap();
    let port = bind.rsplit(':').next().unwrap();
    let ports: Vec<&str> = guichet["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(
        ports.iter().any(|p| p.ends_with(&format!(":{port}"))),
        "{ports:?} does not publish {port}"
    );
    assert!(
        bind.starts_with("0.0.0.0:"),
        "inside a container Guichet must listen on all interfaces"
    );

    let check = serde_yaml::to_string(&guichet["healthcheck"]["test"]).unwrap();
    assert!(check.contains("/health/ready"), "{check}");
    assert!(
        compose["services"]["postgres"]["healthcheck"]["test"].is_sequence()
            || compose["services"]["postgres"]["healthcheck"]["test"].is_string()
    );
    assert_eq!(
        guichet["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
    let dockerfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    assert!(
        dockerfile.matches("FROM ").count() >= 2,
        "multi-stage build"
    );
}

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().unwrap_or_default().to_owned());
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_of_the_contract_resolves() {
    let doc = served_document();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let pointer = r.trim_start_matches('#');
        assert!(doc.pointer(pointer).is_some(), "unresolvable reference {r}");
    }
}

#[test]
fn every_vocabulary_in_the_contract_lists_the_wire_values() {
    use guichet::domain::taxonomy::*;
    let doc = served_document();
    let schemas = &doc["components"]["schemas"];
    let check = |name: &str, values: Vec<&str>| {
        let listed: Vec<&str> = schemas[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is not an enum in the contract"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(listed, values, "{name}");
    };
    check(
        "InquiryType",
        InquiryType::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check(
        "TherapeuticArea",
        TherapeuticArea::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check(
        "Modality",
        Modality::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check("Stage", Stage::ALL.iter().map(|v| v.as_str()).collect());
    check(
        "DeclineReason",
        DeclineReason::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check(
        "OrganizationType",
        OrganizationType::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check(
        "ReferralStatus",
        ReferralStatus::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check("Role", Role::ALL.iter().map(|v| v.as_str()).collect());
    check(
        "WithdrawalReason",
        WithdrawalReason::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check(
        "AuditAction",
        AuditAction::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check(
        "ActorKind",
        ActorKind::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check(
        "AuditObjectType",
        AuditObjectType::ALL.iter().map(|v| v.as_str()).collect(),
    );
}

#[test]
fn no_anonymous_inline_object_is_left_for_generators_to_name() {
    let doc = served_document();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default();
        let mut bodies = vec![op["requestBody"]["content"]["application/json"]["schema"].clone()];
        for response in op["responses"].as_object().unwrap().values() {
            for content in response["content"]
                .as_object()
                .into_iter()
                .flat_map(|c| c.values())
            {
                bodies.push(content["schema"].clone());
            }
        }
        for schema in bodies.into_iter().filter(|s| !s.is_null()) {
            assert!(
                schema.get("$ref").is_some(),
                "{method} {path} ({id}) has an inline body schema: {schema}"
            );
        }
    }
}

#[test]
fn every_request_and_success_body_has_an_example() {
    let doc = served_document();
    let schemas = &doc["components"]["schemas"];
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default();
        let mut bodies = vec![(
            "request".to_owned(),
            op["requestBody"]["content"]["application/json"].clone(),
        )];
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.starts_with('2') {
                bodies.push((
                    status.clone(),
                    response["content"]["application/json"].clone(),
                ));
            }
        }
        for (what, content) in bodies.into_iter().filter(|(_, c)| !c.is_null()) {
            let name = content["schema"]["$ref"]
                .as_str()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default();
            assert!(
                content.get("example").is_some() || schemas[name].get("example").is_some(),
                "{method} {path} ({id}) {what} body `{name}` has no example"
            );
        }
    }
}

/// The bounds the document states are the bounds the server enforces: each is read from the
/// served document, then tried on the server.
#[actix_web::test]
async fn the_contract_states_the_bounds_the_server_enforces() {
    use guichet::domain::taxonomy::Role;
    use serde_json::json;
    let doc = served_document();
    let schemas = &doc["components"]["schemas"];
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let inquiry = json!({
        "submitter": {"organization": "Helios", "organization_type": "biotech", "name": "Dr Anna Keller", "email": "anna@helios.example", "country": "DE"},
        "inquiry_type": "clinical_trial", "title": "PSMA trial", "summary": "A PSMA radioligand trial.",
        "therapeutic_areas": ["prostate"], "modalities": ["radiopharmaceutical"], "stage": "phase_1",
        "non_confidential": true
    });

    assert_eq!(
        schemas["InquiryCreate"]["properties"]["non_confidential"]["const"],
        true
    );
    let mut body = inquiry.clone();
    body["non_confidential"] = json!(false);
    let res = app.post("/v1/inquiries").json(body).send().await;
    assert_eq!(res.status, 422, "{}", res.body);

    assert_eq!(
        schemas["InquiryCreate"]["properties"]["therapeutic_areas"]["uniqueItems"],
        true
    );
    let mut body = inquiry.clone();
    body["therapeutic_areas"] = json!(["prostate", "prostate"]);
    let res = app.post("/v1/inquiries").json(body).send().await;
    assert_eq!(
        res.field_errors(),
        vec![("/therapeutic_areas/1".into(), "duplicate".into())]
    );

    let profile = &schemas["RoutingProfile"]["properties"];
    assert_eq!(profile["threshold"]["maximum"], 100);
    assert_eq!(
        profile["therapeutic_area_weights"]["additionalProperties"]["maximum"],
        100
    );
    let res = app
        .put("/v1/institutions/curie/routing-profile")
        .token(&admin)
        .header("If-Match", "*")
        .json(json!({"accepted_inquiry_types": ["licensing"], "therapeutic_area_weights": {"breast": 101}, "modality_weights": {}, "threshold": 101}))
        .send()
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(res.field_errors().len(), 2, "{}", res.body);
    // `integer` in JSON Schema takes 45.0 too.
    let res = app
        .put("/v1/institutions/curie/routing-profile")
        .token(&admin)
        .header("If-Match", "*")
        .json(json!({"accepted_inquiry_types": ["licensing"], "therapeutic_area_weights": {"breast": 95.0}, "modality_weights": {}, "threshold": 45.0}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.body["profile"]["therapeutic_area_weights"]["breast"],
        95
    );

    let create = &doc["paths"]["/v1/inquiries"]["post"]["parameters"];
    let key = create
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap();
    assert_eq!(key["schema"]["pattern"], "^[\\x21-\\x7E]+$");
    assert_eq!(key["schema"]["maxLength"], 200);
    for bad in ["has space", "é", &"k".repeat(201)] {
        let res = app
            .post("/v1/inquiries")
            .header("Idempotency-Key", bad)
            .json(inquiry.clone())
            .send()
            .await;
        assert_eq!(res.status, 400, "{bad:?}: {}", res.body);
    }

    assert_eq!(
        schemas["InstitutionRole"]["enum"],
        json!(["triager", "institution_admin"])
    );
    assert_eq!(
        schemas["UserCreate"]["properties"]["role"]["$ref"],
        "#/components/schemas/InstitutionRole"
    );
    let res = app
        .post("/v1/institutions/curie/users")
        .token(&admin)
        .json(json!({"email": "x@curie.fr", "password": "long enough passphrase", "role": "operator"}))
        .send()
        .await;
    assert_eq!(res.status, 422, "{}", res.body);

    assert_eq!(schemas["Expertise"]["additionalProperties"], false);
    let res = app
        .post("/v1/institutions/curie/contacts")
        .token(&admin)
        .json(json!({"name": "C", "email": "c@curie.fr", "expertise": {"inquiry_types": [], "colour": "blue"}}))
        .send()
        .await;
    assert_eq!(
        res.field_errors(),
        vec![("/expertise/colour".into(), "unknown_field".into())]
    );

    let list = doc["paths"]["/v1/referrals"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "status")
        .unwrap()
        .clone();
    assert_eq!(list["schema"]["type"], "array");
    assert_eq!(list["explode"], false);
    let res = app
        .get("/v1/referrals?status=new,acknowledged")
        .token(&admin)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    app.get("/v1/referrals?status=new,nope")
        .token(&admin)
        .send()
        .await
        .assert_problem(400, "invalid_status");

    for (path, method) in [
        ("/v1/institutions", "get"),
        ("/v1/inquiries", "post"),
        ("/v1/auth/token", "post"),
    ] {
        assert_eq!(
            doc["paths"][path][method]["security"],
            json!([]),
            "{method} {path}"
        );
    }
    let links = &doc["paths"]["/v1/inquiries"]["post"]["responses"]["201"]["links"];
    assert_eq!(links["InquiryGet"]["operationId"], "inquiry_get");

    // A withdrawal's body is optional, and its bounds are the server's.
    let withdraw = &doc["paths"]["/v1/inquiries/{inquiry_id}/withdraw"]["post"];
    assert_eq!(withdraw["requestBody"]["required"], false);
    let w = &schemas["WithdrawalRequest"]["properties"];
    assert_eq!(w["reason"]["maxLength"], 2000);
    assert_eq!(w["institution_id"]["maxLength"], 40);
    assert_eq!(
        w["reason_code"]["$ref"],
        "#/components/schemas/WithdrawalReason"
    );
    let res = app.post("/v1/inquiries").json(inquiry.clone()).send().await;
    let (id, token) = (
        res.body["id"].as_str().unwrap().to_owned(),
        res.body["tracking_token"].as_str().unwrap().to_owned(),
    );
    let res = app
        .post(&format!("/v1/inquiries/{id}/withdraw"))
        .header("X-Tracking-Token", &token)
        .json(json!({"reason": "x".repeat(2001)}))
        .send()
        .await;
    assert_eq!(res.status, 422, "{}", res.body);

    // The audit's filters: the action is one of the recorder's, ids are bounded.
    let op = app.operator().await;
    let audit = doc["paths"]["/v1/audit"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .clone();
    let param = |name: &str| {
        audit
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))["schema"]
            .clone()
    };
    assert!(
        param("action")
            .to_string()
            .contains("#/components/schemas/AuditAction"),
        "{}",
        param("action")
    );
    assert_eq!(param("actor_id")["maxLength"], 64);
    assert_eq!(param("object_id")["maxLength"], 64);
    for (query, status) in [
        (format!("actor_id={}", "a".repeat(64)), 200),
        (format!("actor_id={}", "a".repeat(65)), 400),
        ("action=status_changed".to_owned(), 200),
        ("action=status_change".to_owned(), 400),
    ] {
        let res = app
            .get(&format!("/v1/audit?{query}"))
            .token(&op)
            .send()
            .await;
        assert_eq!(res.status, status, "{query}: {}", res.body);
    }
}

/// Every problem `code` written in the server's sources is in the contract's enum, so a
/// generated client never meets a code it cannot decode.
#[test]
fn every_problem_code_of_the_server_is_in_the_contract() {
    let doc = served_document();
    let documented: BTreeSet<String> =
        doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
    let mut found = BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            // The console answers HTML pages, never problem documents: its codes are its own.
            if path.is_dir() && path.ends_with("console") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // `code: "x"`, `conflict("x"`, `bad("x"`, `Problem::new(status, "x"`.
            for marker in ["code: \"", "conflict(\"", "bad(\"", "Problem::new("] {
                for (at, _) in text.match_indices(marker) {
                    let rest = &text[at + marker.len()..];
                    let rest = match marker {
                        "Problem::new(" => match rest.split_once(',') {
                            Some((_, r)) => r.trim_start(),
                            None => continue,
                        },
                        _ => rest.trim_start(),
                    };
                    let rest = rest.strip_prefix('"').unwrap_or(rest);
                    let code: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !code.is_empty() && rest[code.len()..].starts_with('"') {
                        found.insert(code);
                    }
                }
            }
            for (at, _) in text.match_indices("conflict(\n") {
                let rest = text[at + 10..].trim_start();
                if let Some(rest) = rest.strip_prefix('"') {
                    let code: String = rest.chars().take_while(|c| *c != '"').collect();
                    found.insert(code);
                }
            }
        }
    }
    // Field-level codes of 422 entries are not problem codes.
    let missing: Vec<&String> = found.difference(&documented).collect();
    assert!(found.len() > 30, "the scan found too little: {found:?}");
    assert!(
        missing.is_empty(),
        "problem codes missing from the contract: {missing:?}"
    );
}

/// The exports take exactly the filters of the list they export (no paging), state the
/// reference pattern the server checks, and describe their CSV with an example.
#[test]
fn the_exports_take_the_filters_of_their_lists_and_describe_their_csv() {
    let doc = served_document();
    let names = |path: &str| -> Vec<(String, Value)> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap().to_owned(), p.clone()))
            .collect()
    };
    let queue: Vec<(String, Value)> = names("/v1/referrals")
        .into_iter()
        .filter(|(n, _)| n != "limit" && n != "cursor")
        .collect();
    assert_eq!(
        names("/v1/referrals/export"),
        queue,
        "same filters, same schemas"
    );
    let stats: Vec<(String, Value)> = names("/v1/institutions/{institution_id}/stats");
    assert_eq!(
        names("/v1/institutions/{institution_id}/stats/export"),
        stats
    );
    for path in ["/v1/referrals", "/v1/desk"] {
        let reference = names(path)
            .into_iter()
            .find(|(n, _)| n == "reference")
            .unwrap()
            .1;
        assert_eq!(
            reference["schema"]["pattern"],
            guichet::api::extract::REFERENCE_PATTERN,
            "{path}"
        );
    }
    for (path, schema) in [
        ("/v1/referrals/export", "ReferralCsv"),
        ("/v1/institutions/{institution_id}/stats/export", "StatsCsv"),
    ] {
        let ok = &doc["paths"][path]["get"]["responses"]["200"];
        let content = &ok["content"]["text/csv; charset=utf-8"];
        assert_eq!(
            content["schema"]["$ref"],
            format!("#/components/schemas/{schema}"),
            "{path}"
        );
        let example = doc["components"]["schemas"][schema]["example"]
            .as_str()
            .unwrap_or_default();
        assert!(
            example.contains("\r\n") && example.ends_with("\r\n"),
            "{schema}: {example:?}"
        );
        assert!(ok["headers"]["Content-Disposition"].is_object(), "{path}");
    }
}
