//! What every body and query string gets, whatever the route: unknown fields refused by name,
//! errors in plain words naming the field, empty parameters taken as absent, NUL refused.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

fn fields(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_string(), e["code"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn unknown_fields_are_refused_by_name_and_nothing_is_written() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let body = json!({"name": "Readers", "time_zone": "Europe/Berlin", "colour": "teal"});
    let response = app.post_json_as("/api/v1/cohorts", &ada.access_token, &body).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(fields(&problem), vec![("colour".to_string(), "unknown_field".to_string())]);
    let mine: Value = app.get_as("/api/v1/cohorts", &ada.access_token).await.json().await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 0, "no cohort was created");

    let cohort = app.cohort(&ada.access_token, "Readers").await;
    let patch = json!({"name": "Writers", "timezone": "Asia/Tokyo"});
    let response = app.patch_as(&format!("/api/v1/cohorts/{cohort}"), &ada.access_token, &patch).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(fields(&problem), vec![("timezone".to_string(), "unknown_field".to_string())]);
    let read: Value = app.get_as(&format!("/api/v1/cohorts/{cohort}"), &ada.access_token).await.json().await.unwrap();
    assert_eq!(read["name"], "Readers", "a refused PATCH changes nothing");
}

#[tokio::test]
async fn type_errors_name_the_field_in_plain_words() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let response =
        app.post_json_as("/api/v1/cohorts", &ada.access_token, &json!({"name": 3, "time_zone": "UTC"})).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "name");
    assert_eq!(problem["errors"][0]["message"], "must be text (a JSON string)");

    let response = app.post_json_as("/api/v1/cohorts", &ada.access_token, &json!({"time_zone": "UTC"})).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "name");

    let cohort = app.cohort(&ada.access_token, "Readers").await;
    for (query, field) in [("limit=ten", "limit"), ("limit=-1", "limit"), ("limit=99999999999", "limit")] {
        let response = app.get_as(&format!("/api/v1/cohorts/{cohort}/members?{query}"), &ada.access_token).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
        let text = problem.to_string();
        for rust in ["u32", "deserialize", "expected", "invalid digit"] {
            assert!(!text.contains(rust), "{query}: {text}");
        }
    }
    let response = app.get_as(&format!("/api/v1/cohorts/{cohort}/members?role=boss"), &ada.access_token).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "role");
    assert_eq!(problem["errors"][0]["message"], "must be one of: member, facilitator, organizer");
}

#[tokio::test]
async fn a_truncated_body_says_so() {
    let app = spawn_app().await;
    let response = app.post_raw("/api/v1/auth/login", "application/json", r#"{"email": "#).await;
    let problem = assert_problem(response, 400, "malformed_json").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("ends too early"), "{detail}");
    assert!(!detail.contains("EOF"), "{detail}");
}

#[tokio::test]
async fn an_empty_cursor_is_the_first_page() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Readers").await;
    for query in ["cursor=", "cursor=&limit=", "limit=&cursor="] {
        let response = app.get_as(&format!("/api/v1/cohorts/{cohort}/members?{query}"), &ada.access_token).await;
        assert_eq!(response.status(), 200, "{query}");
        let page: Value = response.json().await.unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 1, "{query}");
    }
}

#[tokio::test]
async fn nul_characters_are_refused_on_every_input() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let body = json!({"name": "Read\u{0}ers", "time_zone": "UTC"});
    let response = app.post_json_as("/api/v1/cohorts", &ada.access_token, &body).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(fields(&problem), vec![("name".to_string(), "invalid_characters".to_string())]);

    let cohort = app.cohort(&ada.access_token, "Readers").await;
    let response = app.get_as(&format!("/api/v1/cohorts/{cohort}/members?cursor=a%00b"), &ada.access_token).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "cursor");
    let response = app.get_as(&format!("/api/v1/cohorts/{cohort}%00x"), &ada.access_token).await;
    assert_problem(response, 404, "not_found").await;
    let response = app.get_as("/api/v1/experiments/%00", &ada.access_token).await;
    assert_problem(response, 404, "not_found").await;
}

#[tokio::test]
async fn dates_and_times_outside_the_years_1900_to_9999_are_refused_by_name() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Readers").await;
    let far = "+262142-01-01T00:00:00Z";
    let cases = [
        (format!("/api/v1/cohorts/{cohort}/invite-links"), json!({"expires_at": far}), "expires_at"),
        (
            "/api/v1/me/tokens".to_string(),
            json!({"name": "t", "scopes": ["cohorts:read"], "expires_at": far}),
            "expires_at",
        ),
        (
            format!("/api/v1/cohorts/{cohort}/experiments"),
            json!({"title": "t", "success_signal": "s", "due_on": "0001-01-01"}),
            "due_on",
        ),
        (format!("/api/v1/cohorts/{cohort}/absences"), json!({"from": "0001-01-01", "to": "0001-01-02"}), "from"),
    ];
    for (path, body, field) in cases {
        let response = app.post_json_as(&path, &ada.access_token, &body).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{path}");
        assert_eq!(problem["errors"][0]["code"], "out_of_range", "{path}");
    }
}
