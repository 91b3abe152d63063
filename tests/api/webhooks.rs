//! Signed webhooks: registration and its checks, deliveries to a real receiver on loopback,
//! verified with the reference implementation of Standard Webhooks.

use serde_json::{Value, json};

use crate::helpers::{
    Options, ReceivedHook, TestApp, WebhookReceiver, assert_problem, spawn_app, spawn_app_with, spawn_replica_with,
    standardwebhooks_check,
};

fn allowing_private() -> Options {
    Options { webhook_allow_private: true, ..Options::default() }
}

async fn register(app: &TestApp, token: &str, cohort: &str, url: &str, events: Value) -> Value {
    let created = app
        .post_json_as(&format!("/api/v1/cohorts/{cohort}/webhooks"), token, &json!({"url": url, "events": events}))
        .await;
    assert_eq!(created.status(), 201, "register webhook");
    created.json().await.unwrap()
}

/// A cohort event anyone in the cohort may read: the cohort's description changes.
async fn touch(app: &TestApp, token: &str, cohort: &str, n: usize) {
    let path = format!("/api/v1/cohorts/{cohort}");
    let changed = app.patch_as(&path, token, &json!({"description": format!("take {n}")})).await;
    assert_eq!(changed.status(), 200);
}

/// Runs passes until the receiver holds `n` requests (a background pass may hold a delivery).
async fn until_received(app: &TestApp, receiver: &WebhookReceiver, n: usize) -> Vec<ReceivedHook> {
    for _ in 0..250 {
        if receiver.received().len() >= n {
            break;
        }
        pass(app).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let got = receiver.received();
    assert_eq!(got.len(), n, "requests received");
    got
}

async fn pass(app: &TestApp) -> roundtable::webhooks::deliver::PassReport {
    roundtable::webhooks::deliver::run_pass(&app.state).await.unwrap()
}

fn verified(secret: &str, hooks: &[ReceivedHook]) -> Vec<bool> {
    let items: Vec<(String, String, String, String, String)> = hooks
        .iter()
        .map(|h| {
            (
                secret.to_string(),
                h.headers["webhook-id"].clone(),
                h.headers["webhook-timestamp"].clone(),
                h.headers["webhook-signature"].clone(),
                h.body.clone(),
            )
        })
        .collect();
    standardwebhooks_check(&items)
}

fn bodies(hooks: &[ReceivedHook]) -> Vec<Value> {
    hooks.iter().map(|h| serde_json::from_str(&h.body).unwrap()).collect()
}

#[tokio::test]
async fn registration_checks_the_url_and_kinds_and_answers_the_secret_once() {
    let app = spawn_app().await;
    let organizer = app.user("org@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Hooks").await;
    let path = format!("/api/v1/cohorts/{cohort}/webhooks");
    let token = &organizer.access_token;
    for (url, code) in [
        ("http://127.0.0.1:9/hook", "not_public"),
        ("http://localhost:9/hook", "not_public"),
        ("http://[::1]:9/", "not_public"),
        ("http://169.254.169.254/latest", "not_public"),
        ("http://10.0.0.7/", "not_public"),
        ("ftp://example.org/", "unsupported_scheme"),
        ("not a url", "invalid_url"),
    ] {
        let refused = app.post_json_as(&path, token, &json!({"url": url, "events": ["*"]})).await;
        let problem = assert_problem(refused, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "url", "{url}");
        assert_eq!(problem["errors"][0]["code"], code, "{url}");
    }
    for (events, code) in [
        (json!(["session.exploded"]), "unknown_event_kind"),
        (json!(["invitation.sent"]), "event_kind_not_public"),
        (json!([]), "required"),
    ] {
        let refused = app.post_json_as(&path, token, &json!({"url": "http://127.0.0.1:9/", "events": events})).await;
        let problem = assert_problem(refused, 422, "validation_failed").await;
        assert!(problem["errors"].as_array().unwrap().iter().any(|e| e["field"] == "events" && e["code"] == code));
    }
    let conn = &mut app.db();
    use diesel::prelude::*;
    let stored: i64 = roundtable::db::schema::webhooks::table.count().get_result(conn).unwrap();
    assert_eq!(stored, 0, "nothing refused was written");
}

#[tokio::test]
async fn organizers_manage_webhooks_and_a_rotation_signs_with_both_secrets_for_a_day() {
    standardwebhooks_check(&[]); // installs the reference library before the server starts
    let app = spawn_app_with(allowing_private()).await;
    let organizer = app.user("org@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Hooks").await;
    let token = &organizer.access_token;
    let receiver = WebhookReceiver::up().await;
    let created = register(&app, token, &cohort, &receiver.url(), json!(["cohort.updated", "member.joined"])).await;
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(created["events"], json!(["cohort.updated", "member.joined"]));
    let id = created["id"].as_str().unwrap();
    let shown: Value = app.get_as(&format!("/api/v1/webhooks/{id}"), token).await.json().await.unwrap();
    assert!(shown.get("secret").is_none() && !shown.to_string().contains(&secret), "never listed");
    let listed: Value = app.get_as(&format!("/api/v1/cohorts/{cohort}/webhooks"), token).await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret));

    let rotated = app.patch_as(&format!("/api/v1/webhooks/{id}"), token, &json!({"rotate_secret": true})).await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert!(rotated["previous_secret_expires_at"].is_string());

    touch(&app, token, &cohort, 1).await;
    assert_eq!(pass(&app).await.delivered, 1);
    app.clock.advance(chrono::Duration::hours(25));
    let token = &app.sign_in("org@example.com").await;
    touch(&app, token, &cohort, 2).await;
    assert_eq!(pass(&app).await.delivered, 1);
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].headers["webhook-signature"].split(' ').count(), 2, "both during the overlap");
    assert_eq!(verified(&new_secret, &got), [true, true]);
    assert_eq!(verified(&secret, &got), [true, false], "the old secret stops signing after 24 h");

    // A ping goes out now, signed like any delivery, and shows in the log.
    let pinged = app.post_as(&format!("/api/v1/webhooks/{id}/ping"), token).await;
    assert_eq!(pinged.status(), 202);
    let got = until_received(&app, &receiver, 3).await;
    assert_eq!(bodies(&got)[2]["type"], "webhook.ping");
    assert_eq!(verified(&new_secret, &got[2..]), [true]);
    let log: Value = app.get_as(&format!("/api/v1/webhooks/{id}/deliveries"), token).await.json().await.unwrap();
    assert!(log["items"].as_array().unwrap().iter().any(|d| d["kind"] == "webhook.ping"));

    let off = app.patch_as(&format!("/api/v1/webhooks/{id}"), token, &json!({"events": ["nope"]})).await;
    assert_problem(off, 422, "validation_failed").await;
    assert_eq!(app.delete_as(&format!("/api/v1/webhooks/{id}"), token).await.status(), 204);
    assert_eq!(app.get_as(&format!("/api/v1/webhooks/{id}"), token).await.status(), 404);
}

#[tokio::test]
async fn receiver_down_then_up_gets_every_event_once_in_order_signed() {
    standardwebhooks_check(&[]); // installs the reference library before the server starts
    let app = spawn_app_with(allowing_private()).await;
    let organizer = app.user("org@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Hooks").await;
    let token = &organizer.access_token;
    let mut receiver = WebhookReceiver::down();
    let created = register(&app, token, &cohort, &receiver.url(), json!(["*"])).await;
    let (id, secret) = (created["id"].as_str().unwrap(), created["secret"].as_str().unwrap());
    for n in 0..4 {
        touch(&app, token, &cohort, n).await;
    }
    let first = pass(&app).await;
    assert_eq!((first.delivered, first.retrying), (0, 1), "only the first is tried: the rest wait behind it");
    let log: Value = app.get_as(&format!("/api/v1/webhooks/{id}/deliveries"), token).await.json().await.unwrap();
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(items[0]["attempts"], 1);
    assert_eq!(items[0]["status"], "pending");
    assert!(items[0]["last_error"].is_string() && items[0]["next_attempt_at"].is_string());
    assert_eq!(items[1]["attempts"], 0);
    // Not due yet: nothing is tried.
    assert_eq!(pass(&app).await.retrying, 0);

    receiver.start().await;
    app.clock.advance(chrono::Duration::minutes(2));
    let later = pass(&app).await;
    assert_eq!(later.delivered, 4);
    assert_eq!(pass(&app).await.delivered, 0, "nothing is sent twice");
    let got = receiver.received();
    assert_eq!(got.len(), 4);
    let seqs: Vec<i64> = bodies(&got).iter().map(|b| b["data"]["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in stream order: {seqs:?}");
    assert!(bodies(&got).iter().all(|b| b["type"] == "cohort.updated"));
    assert_eq!(verified(secret, &got), [true; 4]);
    let log: Value = app.get_as(&format!("/api/v1/webhooks/{id}/deliveries"), token).await.json().await.unwrap();
    assert!(log["items"].as_array().unwrap().iter().all(|d| d["status"] == "delivered" && d["response_status"] == 200));

    // Redeliver one: the same webhook-id again.
    let one = log["items"][1]["id"].as_str().unwrap();
    let again = app.post_as(&format!("/api/v1/webhooks/{id}/deliveries/{one}/redeliver"), token).await;
    assert_eq!(again.status(), 202);
    let got = until_received(&app, &receiver, 5).await;
    assert_eq!(got[4].headers["webhook-id"], got[1].headers["webhook-id"]);
}

#[tokio::test]
async fn gone_turns_the_webhook_off_at_once_and_its_organizers_are_told() {
    let app = spawn_app_with(allowing_private()).await;
    let organizer = app.user("org@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Hooks").await;
    let token = &organizer.access_token;
    let receiver = WebhookReceiver::up().await;
    receiver.answer(410);
    let created = register(&app, token, &cohort, &receiver.url(), json!(["cohort.updated"])).await;
    let id = created["id"].as_str().unwrap();
    touch(&app, token, &cohort, 1).await;
    touch(&app, token, &cohort, 2).await;
    let report = pass(&app).await;
    assert_eq!(report.failed, 1);
    assert_eq!(receiver.received().len(), 1, "nothing more after 410");
    let shown: Value = app.get_as(&format!("/api/v1/webhooks/{id}"), token).await.json().await.unwrap();
    assert_eq!(shown["enabled"], false);
    assert!(shown["disabled_reason"].as_str().unwrap().contains("410"));
    app.state.mailer.deliver_due().await.unwrap();
    app.mail().wait_for_subject("org@example.com", "A webhook of Hooks was turned off").await;
    // Turned on again, the endpoint gets what it missed.
    receiver.answer(200);
    let on = app.patch_as(&format!("/api/v1/webhooks/{id}"), token, &json!({"enabled": true})).await;
    assert_eq!(on.status(), 200);
    until_received(&app, &receiver, 2).await;
}

#[tokio::test]
async fn a_private_experiment_s_events_never_reach_a_webhook() {
    let app = spawn_app_with(allowing_private()).await;
    let organizer = app.user("org@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Hooks").await;
    let member = app.member(&organizer.access_token, &cohort, "m@example.com").await;
    let receiver = WebhookReceiver::up().await;
    register(&app, &organizer.access_token, &cohort, &receiver.url(), json!(["*"])).await;
    let path = format!("/api/v1/cohorts/{cohort}/experiments");
    for visibility in ["private", "buddy", "cohort"] {
        let made = app
            .post_json_as(
                &path,
                &member.access_token,
                &json!({"title": format!("T {visibility}"), "success_signal": "S", "visibility": visibility}),
            )
            .await;
        assert_eq!(made.status(), 201, "{visibility}");
    }
    pass(&app).await;
    let got = bodies(&receiver.received());
    let experiments: Vec<&Value> = got.iter().filter(|b| b["type"] == "experiment.committed").collect();
    assert_eq!(experiments.len(), 1, "only the one shared with the cohort: {got:?}");
    assert!(!serde_json::to_string(&got).unwrap().contains("T private"));
}

#[tokio::test]
async fn two_servers_deliver_each_event_once() {
    let app = spawn_app_with(allowing_private()).await;
    let replica = spawn_replica_with(&app, allowing_private()).await;
    let organizer = app.user("org@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Hooks").await;
    let receivers = [WebhookReceiver::up().await, WebhookReceiver::up().await, WebhookReceiver::up().await];
    for receiver in &receivers {
        register(&app, &organizer.access_token, &cohort, &receiver.url(), json!(["cohort.updated"])).await;
    }
    let token = &organizer.access_token;
    for n in 0..6 {
        touch(&app, token, &cohort, n).await;
    }
    for _ in 0..3 {
        let (a, b) = tokio::join!(pass(&app), pass(&replica));
        let _ = (a, b);
    }
    for receiver in &receivers {
        let got = receiver.received();
        let ids: Vec<String> = got.iter().map(|h| h.headers["webhook-id"].clone()).collect();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((ids.len(), unique.len()), (6, 6), "each event once: {ids:?}");
        let seqs: Vec<i64> = bodies(&got).iter().map(|b| b["data"]["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    }
}
