//! The built binary, as a self-hoster runs it: prints where it listens, serves, stops cleanly.

use std::process::Command;

#[tokio::test]
async fn the_binary_serves_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = crate::helpers::Binary::start(
        &format!("sqlite://{}", dir.path().join("data/rt.db").display()),
        &[("ROUNDTABLE_LOG", "warn")],
    );
    let address = server.address.clone();
    assert!(address.starts_with("http://127.0.0.1:"));
    let health = reqwest::get(format!("{address}/readyz")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(dir.path().join("data/rt.db").exists(), "the SQLite file and its folder are created");

    // SIGTERM: the server drains and exits 0.
    let killed = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = server.child.wait().unwrap();
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

/// The contract's spelling: `roundtable backup PATH --database-url URL` (the flag after the
/// subcommand, as after `migrate` or `restore`), not only before it.
#[test]
fn database_url_is_taken_after_the_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("rt.db").display());
    let backup = dir.path().join("backup.db");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_roundtable"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env("ROUNDTABLE_LOG", "error")
            .output()
            .unwrap()
    };
    let migrated = run(&["migrate", "--database-url", &db]);
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    let made = run(&["backup", &backup.display().to_string(), "--database-url", &db]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(backup.exists());
    let target = format!("sqlite://{}", dir.path().join("restored.db").display());
    let restored = run(&["restore", &backup.display().to_string(), "--database-url", &target]);
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
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

#[test]
fn two_binaries_started_at_the_same_moment_on_an_empty_database_both_serve() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, _admin) = crate::helpers::fresh_database(dir.path());
    let start = || {
        let url = database_url.clone();
        std::thread::spawn(move || crate::helpers::Binary::start(&url, &[("ROUNDTABLE_LOG", "warn")]))
    };
    // Each start waits for its "listening on" line, which comes only after migrating.
    let (first, second) = (start(), start());
    let servers = [first.join().expect("the first came up"), second.join().expect("the second came up")];
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for server in &servers {
        let ready = runtime.block_on(reqwest::get(format!("{}/readyz", server.address))).unwrap();
        assert_eq!(ready.status(), 200, "{} is ready", server.address);
    }
}
