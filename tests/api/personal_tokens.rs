//! Personal access tokens: shown once, hashed, scoped, never more than their user, never able
//! to manage the account.

use diesel::prelude::*;
use roundtable::db::schema::personal_access_tokens;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn a_token_is_shown_once_stored_hashed_and_listed_without_its_secret() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let created = app
        .post_json_as("/api/v1/me/tokens", &ada.access_token, &json!({"name": "HR sync", "scopes": ["cohorts:read"]}))
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let secret = created["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("rt_pat_"));
    assert_eq!(created["scopes"], json!(["cohorts:read"]));
    assert!(secret.starts_with(created["token_hint"].as_str().unwrap().trim_end_matches('…')));

    let stored: Vec<String> =
        personal_access_tokens::table.select(personal_access_tokens::token_hash).load(&mut app.db()).unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&secret) && !secret.contains(&stored[0]), "only a hash is kept");

    let me: Value = app.get_as("/api/v1/me", &secret).await.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.com");
    let listed: Value = app.get_as("/api/v1/me/tokens", &ada.access_token).await.json().await.unwrap();
    let item = &listed["items"][0];
    assert_eq!(item["name"], "HR sync");
    assert!(item.get("token").is_none());
    assert!(item["last_used_at"].is_string(), "use is recorded");

    let id = item["id"].as_str().unwrap();
    assert_eq!(app.delete_as(&format!("/api/v1/me/tokens/{id}"), &ada.access_token).await.status(), 204);
    assert_problem(app.get_as("/api/v1/me", &secret).await, 401, "invalid_token").await;
    assert_problem(app.delete_as(&format!("/api/v1/me/tokens/{id}"), &ada.access_token).await, 404, "not_found").await;
}

#[tokio::test]
async fn token_requests_are_validated() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let body = json!({"name": "", "scopes": ["cohorts:read", "root"], "expires_at": "2001-01-01T00:00:00Z"});
    let problem =
        assert_problem(app.post_json_as("/api/v1/me/tokens", &ada.access_token, &body).await, 422, "validation_failed")
            .await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "scopes[1]", "expires_at"]);
    let none = app.post_json_as("/api/v1/me/tokens", &ada.access_token, &json!({"name": "x", "scopes": []})).await;
    assert_problem(none, 422, "validation_failed").await;
}

#[tokio::test]
async fn scopes_limit_what_a_token_reaches() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let reader = app.personal_token(&ada.access_token, &["cohorts:read"]).await;
    let writer = app.personal_token(&ada.access_token, &["cohorts:write"]).await;
    let path = format!("/api/v1/cohorts/{cohort}");
    assert_eq!(app.get_as(&path, &reader).await.status(), 200);
    assert_problem(app.patch_as(&path, &reader, &json!({"name": "x"})).await, 403, "insufficient_scope").await;
    assert_eq!(app.patch_as(&path, &writer, &json!({"name": "By script"})).await.status(), 200);
    assert_problem(app.get_as(&path, &writer).await, 403, "insufficient_scope").await;
    let created =
        app.post_json_as("/api/v1/cohorts", &writer, &json!({"name": "Made by a bot", "time_zone": "UTC"})).await;
    assert_eq!(created.status(), 201);
}

#[tokio::test]
async fn a_token_never_exceeds_its_user() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let bob = app.member(&ada.access_token, &cohort, "bob@example.com").await;
    let bobs = app.personal_token(&bob.access_token, &["cohorts:read", "cohorts:write"]).await;
    let adas_membership = format!("/api/v1/cohorts/{cohort}/members/{}", ada.id);
    assert_problem(app.delete_as(&adas_membership, &bobs).await, 403, "forbidden").await;
    let other = app.cohort(&ada.access_token, "Private").await;
    assert_problem(app.get_as(&format!("/api/v1/cohorts/{other}"), &bobs).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_token_cannot_manage_tokens_or_the_account() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let token = app.personal_token(&ada.access_token, &["cohorts:read", "cohorts:write"]).await;
    let mint =
        app.post_json_as("/api/v1/me/tokens", &token, &json!({"name": "more", "scopes": ["cohorts:read"]})).await;
    assert_problem(mint, 403, "sign_in_required").await;
    assert_problem(app.get_as("/api/v1/me/tokens", &token).await, 403, "sign_in_required").await;
    assert_problem(app.delete_as("/api/v1/me", &token).await, 403, "sign_in_required").await;
    assert_problem(app.patch_as("/api/v1/me", &token, &json!({"display_name": "x"})).await, 403, "sign_in_required")
        .await;
    assert_problem(app.get_as("/api/v1/me/sign-ins", &token).await, 403, "sign_in_required").await;
    // The password changes only through a reset link, which a token cannot receive; and the
    // account still works.
    assert_eq!(app.get_as("/api/v1/me", &ada.access_token).await.status(), 200);
}

#[tokio::test]
async fn expired_tokens_stop_working() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let in_an_hour = (app.clock_now() + chrono::Duration::hours(1)).to_rfc3339();
    let created: Value = app
        .post_json_as(
            "/api/v1/me/tokens",
            &ada.access_token,
            &json!({"name": "short", "scopes": ["cohorts:read"], "expires_at": in_an_hour}),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = created["token"].as_str().unwrap();
    assert_eq!(app.get_as("/api/v1/cohorts", secret).await.status(), 200);
    app.clock.advance(chrono::Duration::hours(1));
    assert_problem(app.get_as("/api/v1/cohorts", secret).await, 401, "invalid_token").await;
}
