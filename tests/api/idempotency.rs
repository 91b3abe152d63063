//! `Idempotency-Key`: a retry happens exactly once and never gets stuck. The stored answer
//! commits with the handler's change; a claim whose holder died is freed by its lease; a failed
//! request frees its key. (Replays, mismatches and per-caller keys: tests/api/experiments.rs.)

use diesel::RunQueryDsl;
use diesel::sql_query;
use diesel::sql_types::{Text, Timestamp};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

struct Setup {
    ada: TestUser,
    check_ins: String,
}

async fn setup(app: &TestApp) -> Setup {
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Retries").await;
    let created = app
        .post_json_as(
            &format!("/api/v1/cohorts/{cohort}/experiments"),
            &ada.access_token,
            &json!({"title": "Offline phone", "success_signal": "Queue drains"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let experiment: Value = created.json().await.unwrap();
    let check_ins = format!("/api/v1/experiments/{}/check-ins", experiment["id"].as_str().unwrap());
    Setup { ada, check_ins }
}

async fn post(app: &TestApp, path: &str, token: &str, key: &str, body: &Value) -> reqwest::Response {
    app.client.post(app.url(path)).bearer_auth(token).header("idempotency-key", key).json(body).send().await.unwrap()
}

async fn count(app: &TestApp, s: &Setup) -> usize {
    count_as(app, s, &s.ada.access_token).await
}

async fn count_as(app: &TestApp, s: &Setup, token: &str) -> usize {
    let list: Value = app.get_as(&s.check_ins, token).await.json().await.unwrap();
    list["items"].as_array().unwrap().len()
}

fn replayed(response: &reqwest::Response) -> bool {
    response.headers().get("idempotent-replayed").is_some_and(|v| v == "true")
}

#[tokio::test]
async fn a_claim_whose_holder_died_answers_409_with_retry_after_until_its_lease_runs_out() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let body = json!({"done": "Drained the queue"});
    let first = post(&app, &s.check_ins, &s.ada.access_token, "k-crash", &body).await;
    assert_eq!(first.status(), 201);
    let check_in: Value = first.json().await.unwrap();
    // As a kill -9 between claim and commit leaves it: the claim held, nothing of the change.
    let mut db = app.db();
    sql_query("DELETE FROM experiment_check_ins WHERE id = $1")
        .bind::<Text, _>(check_in["id"].as_str().unwrap())
        .execute(&mut db)
        .unwrap();
    sql_query(
        "UPDATE idempotency_records SET status = NULL, body = NULL, claim_token = 'dead-worker', locked_until = $1 \
         WHERE idempotency_key = 'k-crash'",
    )
    .bind::<Timestamp, _>((app.clock_now() + chrono::Duration::seconds(10)).naive_utc())
    .execute(&mut db)
    .unwrap();
    assert_eq!(count(&app, &s).await, 0);

    let busy = post(&app, &s.check_ins, &s.ada.access_token, "k-crash", &body).await;
    let retry_after: i64 = busy.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry_after), "Retry-After {retry_after}");
    assert_problem(busy, 409, "request_in_progress").await;

    app.clock.advance(chrono::Duration::seconds(11));
    let again = post(&app, &s.check_ins, &s.ada.access_token, "k-crash", &body).await;
    assert_eq!(again.status(), 201, "the lease ran out: the retry runs");
    assert!(!replayed(&again));
    assert_eq!(count(&app, &s).await, 1);
    let replay = post(&app, &s.check_ins, &s.ada.access_token, "k-crash", &body).await;
    assert!(replayed(&replay));
    assert_eq!(count(&app, &s).await, 1, "and from then on it is answered, not run");
}

#[tokio::test]
async fn a_request_that_failed_with_5xx_keeps_nothing_and_frees_its_key() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let body = json!({"done": "Tried"});
    let mut db = app.db();
    sql_query("ALTER TABLE experiment_check_ins RENAME TO experiment_check_ins_away").execute(&mut db).unwrap();
    let failed = post(&app, &s.check_ins, &s.ada.access_token, "k-500", &body).await;
    assert_eq!(failed.status(), 500);
    sql_query("ALTER TABLE experiment_check_ins_away RENAME TO experiment_check_ins").execute(&mut db).unwrap();

    let retried = post(&app, &s.check_ins, &s.ada.access_token, "k-500", &body).await;
    assert_eq!(retried.status(), 201, "not poisoned: neither 409 nor the stored 500");
    assert!(!replayed(&retried));
    assert_eq!(count(&app, &s).await, 1);
}

#[tokio::test]
async fn a_key_past_its_24_hours_runs_again() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let body = json!({"done": "Day one"});
    assert_eq!(post(&app, &s.check_ins, &s.ada.access_token, "k-old", &body).await.status(), 201);
    app.clock.advance(chrono::Duration::hours(25));
    let token = app.sign_in("ada@example.com").await;
    let again = post(&app, &s.check_ins, &token, "k-old", &json!({"done": "Day two"})).await;
    assert_eq!(again.status(), 201, "another body is no mismatch once the key has expired");
    assert!(!replayed(&again));
    assert_eq!(count_as(&app, &s, &token).await, 2);
}

#[tokio::test]
async fn a_replay_keeps_the_status_location_and_content_type() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let body = json!({"name": "Replayed", "time_zone": "Europe/Berlin"});
    let send = || post(&app, "/api/v1/cohorts", &ada.access_token, "k-cohort", &body);
    let first = send().await;
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].clone();
    let first_body: Value = first.json().await.unwrap();
    let replay = send().await;
    assert_eq!(replay.status(), 201);
    assert!(replayed(&replay));
    assert_eq!(replay.headers()["location"], location);
    assert_eq!(replay.headers()["content-type"], "application/json");
    assert_eq!(replay.json::<Value>().await.unwrap(), first_body);
    let cohorts: Value = app.get_as("/api/v1/cohorts", &ada.access_token).await.json().await.unwrap();
    assert_eq!(cohorts["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_same_key_sent_at_once_many_times_writes_once() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let body = json!({"done": "Sent from a flaky train"});
    let sends = (0..12).map(|_| post(&app, &s.check_ins, &s.ada.access_token, "k-burst", &body));
    let answers = futures_util::future::join_all(sends).await;
    let mut ran = 0;
    for answer in answers {
        match answer.status().as_u16() {
            201 if !replayed(&answer) => ran += 1,
            201 => {}
            409 => {
                assert_problem(answer, 409, "request_in_progress").await;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ran, 1, "exactly one of them ran");
    assert_eq!(count(&app, &s).await, 1);
}
