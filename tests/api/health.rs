use diesel::connection::SimpleConnection;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn healthz_answers_and_every_response_has_a_request_id() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let generated = response.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&generated).is_ok());
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "ok");

    let echoed = app.client.get(app.url("/healthz")).header("x-request-id", "trace-42").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-42");

    let unsafe_id = app.client.get(app.url("/healthz")).header("x-request-id", "a b\tc").send().await.unwrap();
    assert_ne!(unsafe_id.headers()["x-request-id"], "a b\tc");
}

#[tokio::test]
async fn readyz_reports_the_backend_when_ready() {
    let app = spawn_app().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let expected = if app.pg_admin_url.is_some() { "postgres" } else { "sqlite" };
    assert_eq!(body["backend"], expected);
}

#[tokio::test]
async fn readyz_is_503_when_migrations_are_missing() {
    let app = spawn_app().await;
    app.db().batch_execute("DROP TABLE __diesel_schema_migrations").unwrap();
    let body = assert_problem(app.get("/readyz").await, 503, "not_ready").await;
    assert_eq!(body["detail"], "Database migrations are not applied.");
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    match &app.pg_admin_url {
        Some(admin_url) => {
            use diesel::Connection;
            let name = app.database_url.rsplit('/').next().unwrap().to_string();
            let mut admin = diesel::PgConnection::establish(admin_url).unwrap();
            admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)")).unwrap();
        }
        None => {
            // Overwrite the file in place: open connections now read garbage, not a database.
            let path = app.database_url.strip_prefix("sqlite://").unwrap().to_string();
            std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
            let _ = std::fs::remove_file(format!("{path}-wal"));
            let _ = std::fs::remove_file(format!("{path}-shm"));
        }
    }
    let response = app.get("/readyz").await;
    assert_problem(response, 503, "not_ready").await;
}

#[tokio::test]
async fn requests_answer_503_within_about_a_second_when_no_connection_comes() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    // Hold every pooled connection (the test app has 4) for 4 seconds.
    let holders: Vec<_> = (0..4)
        .map(|_| {
            let db = app.state.db.clone();
            tokio::spawn(async move {
                db.read(|_| {
                    std::thread::sleep(std::time::Duration::from_secs(4));
                    Ok(())
                })
                .await
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let response = app.get_as("/api/v1/cohorts", &user.access_token).await;
    let waited = started.elapsed();
    assert_problem(response, 503, "database_unavailable").await;
    assert!(waited < std::time::Duration::from_millis(2500), "answered after {waited:?}");
    for holder in holders {
        holder.await.unwrap().unwrap();
    }
}
