//! The committed OpenAPI document is exactly what the server serves. After changing a route,
//! regenerate it with `cargo run -- openapi > openapi/openapi.json`.

use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_committed_spec_matches_the_served_one() {
    let app = spawn_app().await;
    let served: Value = app.client.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap(),
    )
    .unwrap();
    assert!(served == committed, "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`");
    assert_eq!(served["openapi"], "3.1.0");
}

#[tokio::test]
async fn every_operation_documents_its_problems_and_security() {
    let app = spawn_app().await;
    let spec: Value = app.client.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(spec["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key("500"), "{method} {path} documents 500");
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{method} {path} documents {status}");
                }
            }
            if operation.get("security").is_some() {
                assert!(responses.contains_key("401"), "{method} {path} documents 401");
            }
        }
    }
    assert!(operations >= 17, "found {operations} operations");
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;
    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(!html.contains("https://"), "no external resources");
    let config = app.client.get(app.url("/docs/swagger-initializer.js")).send().await.unwrap().text().await.unwrap();
    assert!(config.contains("/api/openapi.json"));
    assert!(config.contains(r#""validatorUrl": "none""#), "{config}");
    let bundle = app.client.get(app.url("/docs/swagger-ui-bundle.js")).send().await.unwrap();
    assert_eq!(bundle.status(), 200);
}

#[tokio::test]
async fn operation_ids_are_unique_in_the_whole_document() {
    let app = spawn_app().await;
    let spec: Value = app.client.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut seen = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has an operationId"));
            seen.entry(id.to_string()).or_default().push(format!("{method} {path}"));
        }
    }
    let shared: Vec<_> = seen.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(shared.is_empty(), "operationIds used more than once: {shared:?}");
}
