//! The sign-in throttle: one budget for all replicas (its counters are in the database), and the
//! client's address taken from `X-Forwarded-For` only when the TCP peer is a trusted proxy.

use serde_json::json;

use crate::helpers::{Binary, Options, TestApp, assert_problem, fresh_database, spawn_app_with};

async fn wrong_password(client: &reqwest::Client, base: &str) -> u16 {
    client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "ada@example.com", "password": "not the password"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn two_server_processes_on_one_database_share_one_budget() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, _admin) = fresh_database(dir.path());
    let env = [("ROUNDTABLE_RATE_LIMIT_ACCOUNT_PER_HOUR", "3"), ("ROUNDTABLE_RATE_LIMIT_IP_PER_MINUTE", "1000")];
    let first = Binary::start(&database_url, &env);
    let second = Binary::start(&database_url, &env);
    let client = reqwest::Client::new();
    let mut answers = Vec::new();
    for attempt in 0..6 {
        let server = if attempt % 2 == 0 { &first } else { &second };
        answers.push(wrong_password(&client, &server.address).await);
    }
    // Three wrong passwords for this account from this address per hour, wherever they land;
    // with a budget per process it would have been six.
    assert_eq!(answers, [401, 401, 401, 429, 429, 429]);
    let refused = client
        .post(format!("{}/api/v1/auth/login", second.address))
        .json(&json!({"email": "ada@example.com", "password": "not the password"}))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    assert_problem(refused, 429, "rate_limited").await;
}

/// A magic-link request (a throttled endpoint that spends the client's budget) for a new
/// address each time, sent with this `X-Forwarded-For`.
async fn link_request(app: &TestApp, n: usize, forwarded_for: &str) -> u16 {
    app.client
        .post(app.url("/api/v1/auth/magic-links"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": format!("person{n}@example.com")}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn options(trusted_proxies: &[&str]) -> Options {
    Options {
        rate_limit_ip_per_minute: 2,
        trusted_proxies: trusted_proxies.iter().map(|p| p.to_string()).collect(),
        ..Options::default()
    }
}

#[tokio::test]
async fn a_direct_client_naming_other_addresses_does_not_get_a_fresh_budget() {
    // No trusted proxies (the default), or proxies the test client is not among.
    for trusted in [&[][..], &["10.0.0.0/8", "192.0.2.1"][..]] {
        let app = spawn_app_with(options(trusted)).await;
        assert_eq!(link_request(&app, 0, "203.0.113.1").await, 202);
        assert_eq!(link_request(&app, 1, "203.0.113.2").await, 202);
        assert_eq!(link_request(&app, 2, "203.0.113.3").await, 429, "trusted: {trusted:?}");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    // The test client connects from loopback: it plays the proxy.
    let app = spawn_app_with(options(&["127.0.0.1", "::1"])).await;
    assert_eq!(link_request(&app, 0, "203.0.113.1").await, 202);
    assert_eq!(link_request(&app, 1, "203.0.113.1").await, 202);
    assert_eq!(link_request(&app, 2, "203.0.113.1").await, 429, "that client's budget is spent");
    assert_eq!(link_request(&app, 3, "203.0.113.2").await, 202, "another client behind the proxy");
    // What the client wrote itself (left of what the proxy appended) is not believed.
    assert_eq!(link_request(&app, 4, "198.51.100.9, 203.0.113.1").await, 429);
    // A chain of trusted proxies: the rightmost untrusted address is the client.
    assert_eq!(link_request(&app, 5, "203.0.113.1, 127.0.0.1").await, 429);
    assert_eq!(link_request(&app, 6, "203.0.113.2, 127.0.0.1").await, 202);
}
