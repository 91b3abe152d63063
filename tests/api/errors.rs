//! Every error status of the contract, with its problem+json body.

use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use crate::helpers::{Options, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn unknown_routes_are_404() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/v1/no-such-thing")).send().await.unwrap();
    assert_problem(response, 404, "not_found").await;
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let app = spawn_app().await;
    let response = app.client.delete(app.url("/api/v1/auth/login")).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    assert_problem(response, 405, "method_not_allowed").await;

    let response = app.client.put(app.url("/api/v1/me")).send().await.unwrap();
    let allow = response.headers()["allow"].to_str().unwrap().to_string();
    assert_eq!(allow, "GET, DELETE, PATCH");
    assert_problem(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let response = app.post_raw("/api/v1/auth/login", "application/json", "{\"email\": ").await;
    assert_problem(response, 400, "malformed_json").await;
}

#[tokio::test]
async fn other_content_types_are_415() {
    let app = spawn_app().await;
    let response = app.post_raw("/api/v1/auth/login", "text/plain", "email=a@example.com").await;
    assert_problem(response, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = spawn_app().await;
    let huge = json!({"email": "a@example.com", "password": "x".repeat(20 * 1024)});
    assert_problem(app.post("/api/v1/auth/login", &huge).await, 413, "payload_too_large").await;
}

#[tokio::test]
async fn invalid_fields_are_422_all_named_at_once() {
    let app = spawn_app().await;
    let response = app
        .post("/api/v1/auth/signup", &json!({"email": "not-mail", "password": "short", "time_zone": "Mars/Base"}))
        .await;
    let body = assert_problem(response, 422, "validation_failed").await;
    let fields: Vec<(String, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_string(), e["code"].as_str().unwrap().to_string()))
        .collect();
    let expected = [
        ("email", "invalid_format"),
        ("password", "too_short"),
        ("display_name", "required"),
        ("time_zone", "unknown_time_zone"),
    ];
    assert_eq!(fields, expected.map(|(f, c)| (f.to_string(), c.to_string())));

    let wrong_type = app.post("/api/v1/auth/login", &json!({"email": 42, "password": "x"})).await;
    let body = assert_problem(wrong_type, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "email");
}

#[tokio::test]
async fn duplicate_emails_are_409_whatever_their_case() {
    let app = spawn_app().await;
    assert_eq!(app.signup("ada@example.com").await.status(), 201);
    assert_problem(app.signup("ADA@Example.com").await, 409, "email_taken").await;
}

#[tokio::test]
async fn repeated_sign_in_attempts_are_429_with_retry_after() {
    let app = spawn_app_with(Options { rate_limit_account_per_hour: 3, ..Options::default() }).await;
    for _ in 0..3 {
        assert_eq!(app.login("ada@example.com", "wrong password").await.status(), 401);
    }
    let response = app.login("ada@example.com", "wrong password").await;
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    assert_problem(response, 429, "rate_limited").await;
    // Another account from the same address still has its own budget.
    assert_eq!(app.login("bob@example.com", "wrong password").await.status(), 401);
}

#[tokio::test]
async fn password_failures_never_block_the_owners_sign_in_links() {
    let app = spawn_app_with(Options { rate_limit_account_per_hour: 3, ..Options::default() }).await;
    app.user("ada@example.com").await;
    for _ in 0..4 {
        app.login("ada@example.com", "wrong password").await;
    }
    assert_eq!(app.login("ada@example.com", "wrong password").await.status(), 429);
    // The sign-in link and the reset have their own budget, which guessing does not spend.
    assert_eq!(app.post("/api/v1/auth/magic-links", &json!({"email": "ada@example.com"})).await.status(), 202);
    assert_eq!(app.post("/api/v1/auth/password-resets", &json!({"email": "ada@example.com"})).await.status(), 202);
}

#[tokio::test]
async fn the_ip_budget_covers_every_account() {
    let app = spawn_app_with(Options { rate_limit_ip_per_minute: 2, ..Options::default() }).await;
    assert_eq!(app.post("/api/v1/auth/magic-links", &json!({"email": "a@example.com"})).await.status(), 202);
    assert_eq!(app.post("/api/v1/auth/password-resets", &json!({"email": "b@example.com"})).await.status(), 202);
    let response = app.login("c@example.com", "whatever password").await;
    assert_problem(response, 429, "rate_limited").await;
}

#[tokio::test]
async fn unexpected_failures_are_500_without_internals_and_write_nothing() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    // Break the event outbox: the profile change and its event must both fail.
    app.db().batch_execute("DROP TABLE events").unwrap();
    let response = app.patch_as("/api/v1/me", &user.access_token, &json!({"display_name": "Changed"})).await;
    let body = assert_problem(response, 500, "internal").await;
    let detail = body["detail"].as_str().unwrap().to_lowercase();
    for internal in ["events", "no such table", "relation", "sql", "diesel"] {
        assert!(!body.to_string().contains(internal) && !detail.contains(internal), "leaks internals: {body}");
    }

    let me: Value = app.get_as("/api/v1/me", &user.access_token).await.json().await.unwrap();
    assert_eq!(me["display_name"], "Test Person", "the failed request changed nothing");
}

#[tokio::test]
async fn racing_sign_ups_for_one_address_create_one_account() {
    let app = spawn_app().await;
    let (a, b) = tokio::join!(app.signup("ada@example.com"), app.signup("Ada@example.com"));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = crate::helpers::spawn_app().await;
    for path in ["/healthz", "/api/v1/me", "/docs/", "/nowhere"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
    let docs = app.get("/docs/").await;
    let csp = docs.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"), "{csp}");
    let user = app.user("ada@example.com").await;
    let me = app.get_as("/api/v1/me", &user.access_token).await;
    assert_eq!(me.headers()["cache-control"], "no-store");
    let login = app.login("ada@example.com", crate::helpers::PASSWORD).await;
    assert_eq!(login.headers()["cache-control"], "no-store", "tokens are never cached");
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let closed = crate::helpers::spawn_app().await;
    let preflight = |app: &crate::helpers::TestApp, origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let none = preflight(&closed, "https://app.example.org").await.unwrap();
    assert!(none.headers().get("access-control-allow-origin").is_none(), "closed by default");

    let open = crate::helpers::spawn_app_with(crate::helpers::Options {
        cors_origins: vec!["https://app.example.org".into()],
        ..crate::helpers::Options::default()
    })
    .await;
    let allowed = preflight(&open, "https://app.example.org").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example.org");
    assert!(allowed.headers().get("access-control-allow-credentials").is_none(), "never with credentials");
    let other = preflight(&open, "https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let user = open.user("ada@example.com").await;
    let get = open
        .client
        .get(open.url("/api/v1/me"))
        .bearer_auth(&user.access_token)
        .header("origin", "https://app.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(get.headers()["access-control-allow-origin"], "https://app.example.org");
    assert!(get.headers()["access-control-expose-headers"].to_str().unwrap().contains("x-request-id"));
}
