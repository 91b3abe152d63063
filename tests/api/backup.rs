//! `roundtable backup` taken while the binary is under write load, `roundtable restore` into a
//! fresh database, a server started on it: every write acknowledged before the backup began is
//! there, and nothing is half-written (each cohort has its organizer membership).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Binary, PASSWORD, fresh_database, run_binary};

const WRITERS: usize = 6;

fn start(database_url: &str) -> Binary {
    Binary::start(
        database_url,
        &[
            ("ROUNDTABLE_RATE_LIMIT_IP_PER_MINUTE", "100000"),
            ("ROUNDTABLE_RATE_LIMIT_ACCOUNT_PER_HOUR", "100000"),
            ("ROUNDTABLE_LOG", "error"),
        ],
    )
}

async fn sign_in(client: &reqwest::Client, base: &str, email: &str, signup: bool) -> String {
    if signup {
        let body = json!({"email": email, "password": PASSWORD, "display_name": email, "time_zone": "UTC"});
        let answer = client.post(format!("{base}/api/v1/auth/signup")).json(&body).send().await.unwrap();
        assert_eq!(answer.status(), 201);
    }
    let login = json!({"email": email, "password": PASSWORD});
    let answer = client.post(format!("{base}/api/v1/auth/login")).json(&login).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{email} signs in");
    answer.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

/// A cohort acknowledged with 201: its id, its name, its writer's user id, when the answer came.
#[derive(Clone)]
struct Acked {
    id: String,
    name: String,
    owner: String,
    at: Instant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_write_load_restores_every_write_acknowledged_before_it_began() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, _admin) = fresh_database(dir.path());
    let server = start(&database_url);
    let base = server.address.clone();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let email = format!("writer{w}@example.com");
        let token = sign_in(&client, &base, &email, true).await;
        let me: Value =
            client.get(format!("{base}/api/v1/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        writers.push((email, token, me["id"].as_str().unwrap().to_string()));
    }

    // Each writer creates cohorts (a cohort, its organizer membership and an event in one
    // transaction) until told to stop, and records every 201 and when it arrived.
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tasks: Vec<_> = writers
        .iter()
        .enumerate()
        .map(|(w, (_, token, user_id))| {
            let (client, base, token, owner) = (client.clone(), base.clone(), token.clone(), user_id.clone());
            let (acked, stop) = (acked.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let name = format!("w{w}-{n}");
                    let answer = client
                        .post(format!("{base}/api/v1/cohorts"))
                        .bearer_auth(&token)
                        .json(&json!({"name": name, "time_zone": "UTC"}))
                        .send()
                        .await
                        .unwrap();
                    if answer.status() == 201 {
                        let id = answer.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
                        acked.lock().unwrap().push(Acked { id, name, owner: owner.clone(), at: Instant::now() });
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let backup = dir.path().join("backup.bin");
    let began = Instant::now();
    let taken = {
        let (url, path) = (database_url.clone(), backup.display().to_string());
        tokio::task::spawn_blocking(move || run_binary(&url, &["backup", &path])).await.unwrap()
    };
    let finished = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let stdout = String::from_utf8_lossy(&taken.stdout);
    assert!(taken.status.success(), "backup failed: {}", String::from_utf8_lossy(&taken.stderr));
    assert!(stdout.starts_with("backup written: ") && stdout.contains("latest migration 2026"), "{stdout}");
    let acked = acked.lock().unwrap().clone();
    let before: Vec<&Acked> = acked.iter().filter(|a| a.at < began).collect();
    let during = acked.iter().filter(|a| a.at >= began && a.at < finished).count();
    eprintln!(
        "{} cohorts acknowledged before the backup began, {during} while it ran ({:?}), {} in all",
        before.len(),
        finished - began,
        acked.len()
    );
    assert!(before.len() >= WRITERS * 3, "the load got going: {} writes", before.len());

    // A second backup onto the same file is refused without --force.
    let again = run_binary(&database_url, &["backup", &backup.display().to_string()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    // A restore over the database the server has open is refused, even with --force.
    let busy = run_binary(&database_url, &["restore", &backup.display().to_string(), "--force"]);
    assert!(!busy.status.success(), "restored under a running server");
    assert!(String::from_utf8_lossy(&busy.stderr).contains("stop it"), "{}", String::from_utf8_lossy(&busy.stderr));
    drop(server);

    // Restored into a fresh database, on a server of its own.
    let restored_dir = tempfile::tempdir().unwrap();
    let (restored_url, _admin) = fresh_database(restored_dir.path());
    let restored = run_binary(&restored_url, &["restore", &backup.display().to_string()]);
    assert!(restored.status.success(), "restore failed: {}", String::from_utf8_lossy(&restored.stderr));
    assert!(String::from_utf8_lossy(&restored.stdout).contains("it was up to date"));
    let server = start(&restored_url);
    let base = server.address.clone();

    let mut found: HashMap<String, Value> = HashMap::new();
    for (email, _, _) in &writers {
        let token = sign_in(&client, &base, email, false).await;
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{base}/api/v1/cohorts?limit=100");
            if let Some(cursor) = &cursor {
                url.push_str(&format!("&cursor={cursor}"));
            }
            let page: Value = client.get(url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
            for cohort in page["items"].as_array().unwrap() {
                // No half-written cohort: each has exactly its organizer as member.
                let id = cohort["id"].as_str().unwrap();
                let members: Value = client
                    .get(format!("{base}/api/v1/cohorts/{id}/members"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let members = members["items"].as_array().unwrap();
                assert_eq!(members.len(), 1, "cohort {id}: {members:?}");
                assert_eq!(members[0]["role"], "organizer");
                found.insert(id.to_string(), json!({"name": cohort["name"], "owner": members[0]["user_id"]}));
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
    }
    let missing: Vec<&str> = before.iter().filter(|a| !found.contains_key(&a.id)).map(|a| a.name.as_str()).collect();
    assert!(missing.is_empty(), "acknowledged before the backup but not restored: {missing:?}");
    for a in &before {
        assert_eq!(found[&a.id], json!({"name": a.name, "owner": a.owner}), "cohort {} restored as written", a.id);
    }
    let known: HashMap<&str, &Acked> = acked.iter().map(|a| (a.id.as_str(), a)).collect();
    for (id, cohort) in &found {
        // Anything else restored is a write of the load too (one answered during the backup),
        // never something else.
        let written = known.get(id.as_str()).unwrap_or_else(|| panic!("restored cohort {id} was never acknowledged"));
        assert_eq!(cohort["name"], written.name.as_str());
    }
    drop(server);
}
