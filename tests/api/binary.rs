//! The built binary, as a self-hoster runs it: prints where it listens, serves, stops cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_binary_serves_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_roundtable"))
        .args(["--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", format!("sqlite://{}", dir.path().join("data/rt.db").display()))
        .env_remove("ROUNDTABLE_SMTP_URL")
        .env_remove("ROUNDTABLE_JWT_SECRET")
        .env("ROUNDTABLE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let address = line.trim().strip_prefix("listening on ").expect("prints where it listens").to_string();
    assert!(address.starts_with("http://127.0.0.1:"));
    let health = reqwest::get(format!("{address}/readyz")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(dir.path().join("data/rt.db").exists(), "the SQLite file and its folder are created");

    // SIGTERM: the server drains and exits 0.
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
}

#[test]
fn openapi_subcommand_prints_the_committed_document() {
    let output = Command::new(env!("CARGO_BIN_EXE_roundtable")).arg("openapi").output().unwrap();
    assert!(output.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap(),
    )
    .unwrap();
    assert!(printed == committed);
}

#[test]
fn migrate_subcommand_prepares_a_fresh_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_roundtable"))
            .arg("migrate")
            .env("DATABASE_URL", path.display().to_string())
            .env("ROUNDTABLE_LOG", "info")
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success());
    assert_eq!(String::from_utf8_lossy(&first.stdout).trim(), "migrations applied");
    assert!(String::from_utf8_lossy(&first.stderr).contains("applied migration"));
    let second = run();
    assert!(second.status.success());
    assert!(!String::from_utf8_lossy(&second.stderr).contains("applied migration"), "nothing left to apply");
}
