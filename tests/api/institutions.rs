//! Institutions (public), the taxonomy, and contacts (staff).

use serde_json::json;

use guichet::domain::taxonomy::Role;

use crate::support::TestApp;

#[actix_web::test]
async fn the_four_founding_institutions_are_listed_with_their_strengths() {
    let app = TestApp::new().await;
    let res = app.get("/v1/institutions").send().await;
    assert_eq!(res.status, 200, "{}", res.body);
    let ids: Vec<&str> = res.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["aphp", "curie", "gustave-roussy", "pasteur"]);
    assert_eq!(res.body["next_cursor"], serde_json::Value::Null);

    let curie = app.get("/v1/institutions/curie").send().await;
    assert_eq!(curie.body["name"], "Institut Curie");
    let areas = curie.body["strong_therapeutic_areas"].as_array().unwrap();
    assert!(areas.contains(&json!("breast")) && areas.contains(&json!("pediatric")));
    assert!(
        curie.body["strong_modalities"]
            .as_array()
            .unwrap()
            .contains(&json!("radiotherapy"))
    );
    assert!(
        curie.body.get("routing_profile").is_none(),
        "weights stay internal"
    );

    let pasteur = app.get("/v1/institutions/pasteur").send().await;
    let types = pasteur.body["accepted_inquiry_types"].as_array().unwrap();
    assert!(!types.contains(&json!("clinical_trial")));
}

#[actix_web::test]
async fn institutions_page_with_a_cursor() {
    let app = TestApp::new().await;
    let first = app.get("/v1/institutions?limit=3").send().await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 3);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get(&format!("/v1/institutions?limit=3&cursor={cursor}"))
        .send()
        .await;
    assert_eq!(second.body["items"][0]["id"], "pasteur");
    assert_eq!(second.body["next_cursor"], serde_json::Value::Null);
    app.get("/v1/institutions?limit=0")
        .send()
        .await
        .assert_problem(400, "invalid_limit");
    app.get("/v1/institutions?limit=lots")
        .send()
        .await
        .assert_problem(400, "invalid_query");
    app.get("/v1/institutions?cursor=%%%")
        .send()
        .await
        .assert_problem(400, "invalid_cursor");
    app.get("/v1/institutions?color=red")
        .send()
        .await
        .assert_problem(400, "invalid_query");
}

#[actix_web::test]
async fn an_unknown_institution_is_a_404() {
    let app = TestApp::new().await;
    app.get("/v1/institutions/mayo")
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn seeded_routing_profiles_are_the_documented_ones() {
    let app = TestApp::new().await;
    let expected = guichet::domain::routing::initial_profiles().unwrap();
    let stored = guichet::service::institutions::institution_list(&app.g)
        .await
        .unwrap();
    assert_eq!(stored.len(), 4);
    for inst in stored {
        assert_eq!(Some(&inst.profile), expected.get(&inst.id), "{}", inst.id);
        assert_eq!(inst.profile_version, 1);
        assert!(
            inst.description.len() > 100,
            "{} has a real description",
            inst.id
        );
    }
}

#[actix_web::test]
async fn the_taxonomy_serves_every_vocabulary_with_labels() {
    let app = TestApp::new().await;
    let res = app.get("/v1/taxonomy").send().await;
    assert_eq!(res.status, 200);
    let count = |k: &str| res.body[k].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(count("inquiry_types"), 8);
    assert_eq!(count("therapeutic_areas"), 16);
    assert_eq!(count("modalities"), 14);
    assert_eq!(count("stages"), 7);
    assert_eq!(count("decline_reasons"), 8);
    assert_eq!(count("organization_types"), 6);
    let first = &res.body["modalities"][6];
    assert_eq!(first["value"], "radiopharmaceutical");
    assert_eq!(first["label"], "Radiopharmaceutical");
}

fn contact_body() -> serde_json::Value {
    json!({
        "name": "Dr Claire Martin",
        "title": "Partnerships, breast cancer",
        "email": "Claire.Martin@curie.fr",
        "expertise": {"inquiry_types": ["licensing"], "therapeutic_areas": ["breast"], "modalities": ["radiotherapy"]}
    })
}

#[actix_web::test]
async fn an_admin_manages_contacts_and_deactivates_instead_of_deleting() {
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let res = app
        .post("/v1/institutions/curie/contacts")
        .token(&admin)
        .json(contact_body())
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id = res.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        res.header("location").as_deref(),
        Some(format!("/v1/institutions/curie/contacts/{id}").as_str())
    );
    assert_eq!(res.body["email"], "claire.martin@curie.fr");
    assert_eq!(res.body["active"], true);

    let res = app
        .patch(&format!("/v1/institutions/curie/contacts/{id}"))
        .token(&admin)
        .json(json!({"active": false, "title": "Director of partnerships"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["active"], false);
    assert_eq!(res.body["title"], "Director of partnerships");
    assert_eq!(res.body["name"], "Dr Claire Martin");

    let got = app
        .get(&format!("/v1/institutions/curie/contacts/{id}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(got.body["active"], false);
    let list = app
        .get("/v1/institutions/curie/contacts")
        .token(&admin)
        .send()
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn contacts_page_in_creation_order_without_gaps() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let mut created = Vec::new();
    for i in 0..5 {
        let res = app
            .post("/v1/institutions/aphp/contacts")
            .token(&op)
            .json(json!({"name": format!("Contact {i}"), "email": format!("c{i}@aphp.fr")}))
            .send()
            .await;
        created.push(res.body["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/institutions/aphp/contacts?limit=2&cursor={c}"),
            None => "/v1/institutions/aphp/contacts?limit=2".to_owned(),
        };
        let page = app.get(&path).token(&op).send().await;
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, created);
    app.get("/v1/institutions/aphp/contacts?cursor=bm9wZQ")
        .token(&op)
        .send()
        .await
        .assert_problem(400, "invalid_cursor");
}

#[actix_web::test]
async fn contact_validation_reports_every_wrong_field() {
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let res = app
        .post("/v1/institutions/curie/contacts")
        .token(&admin)
        .json(json!({
            "title": "t".repeat(201),
            "email": "claire",
            "expertise": {"therapeutic_areas": ["breast", "lungs"], "modalities": ["laser"]},
            "phone": "+33 1 00 00 00 00"
        }))
        .send()
        .await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(
        res.field_errors(),
        vec![
            ("/email".into(), "invalid_email".into()),
            ("/expertise/modalities/0".into(), "invalid_enum".into()),
            (
                "/expertise/therapeutic_areas/1".into(),
                "invalid_enum".into()
            ),
            ("/name".into(), "required".into()),
            ("/phone".into(), "unknown_field".into()),
            ("/title".into(), "too_long".into()),
        ]
    );
}

#[actix_web::test]
async fn a_second_contact_with_the_same_email_is_a_conflict() {
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    for expected in [201, 409] {
        let res = app
            .post("/v1/institutions/curie/contacts")
            .token(&admin)
            .json(contact_body())
            .send()
            .await;
        assert_eq!(res.status, expected, "{}", res.body);
    }
}

#[actix_web::test]
async fn triagers_read_contacts_but_do_not_manage_them() {
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let created = app
        .post("/v1/institutions/curie/contacts")
        .token(&admin)
        .json(contact_body())
        .send()
        .await;
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        app.get("/v1/institutions/curie/contacts")
            .token(&triager)
            .send()
            .await
            .status,
        200
    );
    app.post("/v1/institutions/curie/contacts")
        .token(&triager)
        .json(contact_body())
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.patch(&format!("/v1/institutions/curie/contacts/{id}"))
        .token(&triager)
        .json(json!({"active": false}))
        .send()
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn staff_get_404_for_contacts_of_another_institution() {
    let app = TestApp::new().await;
    let curie_admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let aphp_admin = app
        .staff("admin@aphp.fr", Role::InstitutionAdmin, Some("aphp"))
        .await;
    let created = app
        .post("/v1/institutions/curie/contacts")
        .token(&curie_admin)
        .json(contact_body())
        .send()
        .await;
    let id = created.body["id"].as_str().unwrap();
    let missing = app
        .get("/v1/institutions/curie/contacts/01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f")
        .token(&curie_admin)
        .send()
        .await;
    missing.assert_problem(404, "not_found");
    let cases = [
        app.get("/v1/institutions/curie/contacts")
            .token(&aphp_admin)
            .send()
            .await,
        app.get(&format!("/v1/institutions/curie/contacts/{id}"))
            .token(&aphp_admin)
            .send()
            .await,
        app.get(&format!("/v1/institutions/aphp/contacts/{id}"))
            .token(&aphp_admin)
            .send()
            .await,
        app.patch(&format!("/v1/institutions/curie/contacts/{id}"))
            .token(&aphp_admin)
            .json(json!({"active": false}))
            .send()
            .await,
        app.post("/v1/institutions/curie/contacts")
            .token(&aphp_admin)
            .json(contact_body())
            .send()
            .await,
    ];
    for res in cases {
        res.assert_problem(404, "not_found");
    }
    // Identical to a missing one, apart from the request id.
    let other = app
        .get(&format!("/v1/institutions/curie/contacts/{id}"))
        .token(&aphp_admin)
        .send()
        .await;
    assert_eq!(other.body["detail"], missing.body["detail"]);
}
