//! Sign-in, access tokens, refresh rotation with reuse detection, sign-out.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, spawn_app};

#[tokio::test]
async fn login_returns_bearer_tokens_that_open_me() {
    let app = spawn_app().await;
    app.signup("ada@example.com").await;
    let response = app.login("Ada@Example.com", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("rt_rf_"));
    let me: Value = app.get_as("/api/v1/me", tokens["access_token"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.com");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.signup("ada@example.com").await;
    let wrong =
        assert_problem(app.login("ada@example.com", "not the password").await, 401, "invalid_credentials").await;
    let unknown = assert_problem(app.login("nobody@example.com", PASSWORD).await, 401, "invalid_credentials").await;
    assert_eq!(wrong["detail"], unknown["detail"]);
}

#[tokio::test]
async fn requests_without_a_token_are_401_with_a_challenge() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/me").await;
    assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="roundtable""#);
    assert_problem(response, 401, "missing_token").await;

    let basic = app.client.get(app.url("/api/v1/me")).basic_auth("ada", Some("pw")).send().await.unwrap();
    assert_problem(basic, 401, "invalid_token").await;
}

#[tokio::test]
async fn tampered_tokens_are_401() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    let mut parts: Vec<String> = user.access_token.split('.').map(str::to_string).collect();
    // Claim to be someone else, keeping the old signature.
    parts[1] = parts[1].chars().rev().collect();
    let response = app.get_as("/api/v1/me", &parts.join(".")).await;
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(challenge.contains(r#"error="invalid_token""#), "{challenge}");
    assert_problem(response, 401, "invalid_token").await;
    assert_problem(app.get_as("/api/v1/me", "not.a.jwt").await, 401, "invalid_token").await;
}

#[tokio::test]
async fn access_tokens_expire_after_15_minutes() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    app.clock.advance(chrono::Duration::minutes(14));
    assert_eq!(app.get_as("/api/v1/me", &user.access_token).await.status(), 200);
    app.clock.advance(chrono::Duration::minutes(1));
    let response = app.get_as("/api/v1/me", &user.access_token).await;
    assert!(response.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    assert_problem(response, 401, "token_expired").await;
}

async fn refresh(app: &crate::helpers::TestApp, token: &str) -> reqwest::Response {
    app.post("/api/v1/auth/refresh", &json!({"refresh_token": token})).await
}

#[tokio::test]
async fn refresh_rotates_and_reuse_ends_the_whole_sign_in() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;

    let first: Value = refresh(&app, &user.refresh_token).await.json().await.unwrap();
    let second_refresh = first["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, user.refresh_token);
    let second_access = first["access_token"].as_str().unwrap().to_string();
    assert_eq!(app.get_as("/api/v1/me", &second_access).await.status(), 200);

    // The first refresh token again: someone kept a copy. The family is revoked.
    assert_problem(refresh(&app, &user.refresh_token).await, 401, "refresh_token_reused").await;
    assert_problem(refresh(&app, &second_refresh).await, 401, "invalid_refresh_token").await;
    assert_problem(app.get_as("/api/v1/me", &second_access).await, 401, "invalid_token").await;

    // Other sign-ins of the same user are untouched.
    let other: Value = app.login("ada@example.com", PASSWORD).await.json().await.unwrap();
    assert_eq!(app.get_as("/api/v1/me", other["access_token"].as_str().unwrap()).await.status(), 200);
}

#[tokio::test]
async fn unknown_and_expired_refresh_tokens_are_401() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    assert_problem(refresh(&app, "rt_rf_made_up").await, 401, "invalid_refresh_token").await;
    app.clock.advance(chrono::Duration::days(31));
    assert_problem(refresh(&app, &user.refresh_token).await, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn logout_ends_refresh_and_access_tokens() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    let response = app.post("/api/v1/auth/logout", &json!({"refresh_token": user.refresh_token})).await;
    assert_eq!(response.status(), 204);
    assert_problem(refresh(&app, &user.refresh_token).await, 401, "invalid_refresh_token").await;
    assert_problem(app.get_as("/api/v1/me", &user.access_token).await, 401, "invalid_token").await;
    // Signing out twice, or with an unknown token, is not an error.
    assert_eq!(app.post("/api/v1/auth/logout", &json!({"refresh_token": user.refresh_token})).await.status(), 204);
}

#[tokio::test]
async fn racing_refreshes_of_one_token_let_exactly_one_through() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    let (a, b) = tokio::join!(refresh(&app, &user.refresh_token), refresh(&app, &user.refresh_token));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 401]);
}

#[tokio::test]
async fn changing_the_password_keeps_this_sign_in_and_ends_the_others() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    let other: Value = app.login("ada@example.com", PASSWORD).await.json().await.unwrap();
    let other_access = other["access_token"].as_str().unwrap();

    let wrong = app
        .post_json_as(
            "/api/v1/me/password",
            &user.access_token,
            &json!({"current_password": "nope nope", "password": "new secret!"}),
        )
        .await;
    let problem = assert_problem(wrong, 422, "validation_failed").await;
    assert_eq!(
        (problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()),
        (Some("current_password"), Some("incorrect"))
    );

    let changed = app
        .post_json_as(
            "/api/v1/me/password",
            &user.access_token,
            &json!({"current_password": PASSWORD, "password": "new secret!"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(app.get_as("/api/v1/me", &user.access_token).await.status(), 200);
    assert_problem(app.get_as("/api/v1/me", other_access).await, 401, "invalid_token").await;
    assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 401);
    assert_eq!(app.login("ada@example.com", "new secret!").await.status(), 200);

    let token = app.personal_token(&user.access_token, &["cohorts:write"]).await;
    let by_token = app
        .post_json_as(
            "/api/v1/me/password",
            &token,
            &json!({"current_password": "new secret!", "password": "x".repeat(9)}),
        )
        .await;
    assert_problem(by_token, 403, "sign_in_required").await;
}
