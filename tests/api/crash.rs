//! The binary killed with SIGKILL in the middle of a burst of writes: after a restart, every
//! write a client sent with an `Idempotency-Key` can be retried to an answer, and each one
//! happened exactly once (the phone's offline queue never gets stuck and never doubles).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl, sql_query};
use roundtable::db::AnyConnection;
use serde_json::{Value, json};

use crate::helpers::Binary;

const WRITERS: usize = 16;

fn start(database_url: &str) -> (Binary, String) {
    let server = Binary::start(
        database_url,
        &[
            ("ROUNDTABLE_JWT_SECRET", "a-test-secret-that-is-long-enough-0123456789"),
            ("ROUNDTABLE_RATE_LIMIT_IP_PER_MINUTE", "100000"),
            ("ROUNDTABLE_RATE_LIMIT_ACCOUNT_PER_HOUR", "100000"),
            ("ROUNDTABLE_LOG", "error"),
        ],
    );
    let address = server.address.clone();
    (server, address)
}

#[derive(QueryableByName)]
struct Tally {
    #[diesel(sql_type = Text)]
    done: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_kill_9_every_retried_key_is_answered_and_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, _admin) = crate::helpers::fresh_database(dir.path());
    let (mut server, base) = start(&database_url);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let signup = json!({"email": "ada@example.com", "password": crate::helpers::PASSWORD, "display_name": "Ada", "time_zone": "UTC"});
    assert_eq!(client.post(format!("{base}/api/v1/auth/signup")).json(&signup).send().await.unwrap().status(), 201);
    let login = json!({"email": "ada@example.com", "password": crate::helpers::PASSWORD});
    let tokens: Value =
        client.post(format!("{base}/api/v1/auth/login")).json(&login).send().await.unwrap().json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap().to_string();
    let create = |path: String, body: Value| {
        let request = client.post(format!("{base}{path}")).bearer_auth(&token).json(&body);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let cohort = create("/api/v1/cohorts".into(), json!({"name": "Crash", "time_zone": "UTC"})).await;
    let experiment = create(
        format!("/api/v1/cohorts/{}/experiments", cohort["id"].as_str().unwrap()),
        json!({"title": "Survive", "success_signal": "Nothing lost"}),
    )
    .await;
    let path = format!("/api/v1/experiments/{}/check-ins", experiment["id"].as_str().unwrap());

    // 16 writers post check-ins with fresh keys until the server dies under them.
    let sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (client, url, token, sent) = (client.clone(), format!("{base}{path}"), token.clone(), sent.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let key = format!("w{writer}-{n}");
                    sent.lock().unwrap().push(key.clone());
                    let answer = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("idempotency-key", &key)
                        .json(&json!({"done": key}))
                        .send()
                        .await;
                    if answer.is_err() {
                        break; // the server is gone
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill();
    for writer in writers {
        writer.await.unwrap();
    }
    let sent = sent.lock().unwrap().clone();
    assert!(sent.len() > WRITERS * 3, "the burst got going ({} sent)", sent.len());

    // Restarted, the client retries every key it ever sent until it gets an answer.
    let (server, base) = start(&database_url);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut answers: HashMap<u16, usize> = HashMap::new();
    for key in &sent {
        loop {
            let answer = client
                .post(format!("{base}{path}"))
                .bearer_auth(&token)
                .header("idempotency-key", key)
                .json(&json!({"done": key}))
                .send()
                .await
                .unwrap();
            if answer.status() != 409 {
                *answers.entry(answer.status().as_u16()).or_default() += 1;
                break;
            }
            assert!(Instant::now() < deadline, "key {key} still answers 409");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    eprintln!("{} keys sent before the kill; answers after the restart: {answers:?}", sent.len());
    assert_eq!(answers.get(&201), Some(&sent.len()), "every key answered 201: {answers:?}");

    let url = database_url.strip_prefix("sqlite://").unwrap_or(&database_url);
    let mut db = AnyConnection::establish(url).unwrap();
    let tallies: Vec<Tally> =
        sql_query("SELECT done, COUNT(*) AS n FROM experiment_check_ins GROUP BY done").load(&mut db).unwrap();
    let doubled: Vec<_> = tallies.iter().filter(|t| t.n != 1).map(|t| &t.done).collect();
    assert!(doubled.is_empty(), "written more than once: {doubled:?}");
    assert_eq!(tallies.len(), sent.len(), "each key written exactly once");
    drop(server);
}
