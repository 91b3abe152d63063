//! Upgrades never lose data. The fixtures in tests/upgrade/fixtures were written by the oldest
//! migration set that shipped (commit 766acf1, the end of the first work session), filled
//! through THAT version's API and dumped as SQL (tests/upgrade/make-fixture.sh). Each is loaded
//! into a fresh database of the backend under test, the current binary starts on it (migrating
//! at start), and everything the old version answered is read back: every field it answered is
//! still there with the same value (new fields may be added; the contract forbids renames), and
//! the passwords it stored still sign in.

use diesel::Connection;
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use crate::helpers::{Binary, fresh_database};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/upgrade/fixtures");

/// Where `new` differs from `old`, for every field of `old`: objects must hold each of old's
/// keys (more are allowed), lists of objects with ids must hold each old item (matched by id),
/// other lists match item by item, instants compare as instants, other values by equality.
/// `relative` keys depend on who asks (a sign-in's `current`) and are not compared.
fn differences(old: &Value, new: &Value, at: &str, relative: &[&str], out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            for (key, value) in old.iter().filter(|(k, _)| !relative.contains(&k.as_str())) {
                match new.get(key) {
                    Some(now) => differences(value, now, &format!("{at}.{key}"), relative, out),
                    None => out.push(format!("{at}.{key} is gone (was {value})")),
                }
            }
        }
        (Value::Array(old), Value::Array(new)) if old.iter().all(|item| item.get("id").is_some()) => {
            for item in old {
                match new.iter().find(|n| n.get("id") == item.get("id")) {
                    Some(now) => differences(item, now, &format!("{at}[id={}]", item["id"]), relative, out),
                    None => out.push(format!("{at}: item {} is gone", item["id"])),
                }
            }
        }
        (Value::Array(old), Value::Array(new)) => {
            if old.len() != new.len() {
                out.push(format!("{at}: {} items, was {}", new.len(), old.len()));
            }
            for (i, (o, n)) in old.iter().zip(new).enumerate() {
                differences(o, n, &format!("{at}[{i}]"), relative, out);
            }
        }
        (Value::String(o), Value::String(n)) if o != n => {
            let instant = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
            if instant(o).is_none() || instant(o) != instant(n) {
                out.push(format!("{at}: {new}, was {old}"));
            }
        }
        (old, new) if old != new => out.push(format!("{at}: {new}, was {old}")),
        _ => {}
    }
}

#[test]
fn the_subset_check_finds_a_lost_field_a_changed_value_and_a_lost_item() {
    let old =
        json!({"a": 1, "t": "2026-11-21T10:00:00Z", "items": [{"id": "x", "v": 1}, {"id": "y", "current": true}]});
    let same = json!({"a": 1, "b": 2, "t": "2026-11-21T10:00:00.000Z", "items": [{"id": "y", "current": false}, {"id": "x", "v": 1}]});
    let mut out = Vec::new();
    differences(&old, &same, "", &["current"], &mut out);
    assert!(out.is_empty(), "{out:?}");
    let changed = json!({"t": "2026-11-21T10:00:01Z", "items": [{"id": "x", "v": 2}]});
    differences(&old, &changed, "", &["current"], &mut out);
    assert_eq!(out.len(), 4, "{out:?}"); // a gone, t changed, x.v changed, y gone
}

#[tokio::test]
async fn the_current_binary_reads_back_everything_the_oldest_version_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, _admin) = fresh_database(dir.path());
    let backend = if database_url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let dump = std::fs::read_to_string(format!("{FIXTURES}/{backend}.sql")).unwrap();
    let answers: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/{backend}.answers.json")).unwrap()).unwrap();
    match backend {
        "postgres" => diesel::PgConnection::establish(&database_url).unwrap().batch_execute(&dump).unwrap(),
        _ => diesel::SqliteConnection::establish(database_url.strip_prefix("sqlite://").unwrap())
            .unwrap()
            .batch_execute(&dump)
            .unwrap(),
    }

    let server = Binary::start(
        &database_url,
        &[("ROUNDTABLE_RATE_LIMIT_IP_PER_MINUTE", "100000"), ("ROUNDTABLE_RATE_LIMIT_ACCOUNT_PER_HOUR", "100000")],
    );
    let base = server.address.clone();
    let client = reqwest::Client::new();
    let login = |email: &Value, password: &Value| {
        client.post(format!("{base}/api/v1/auth/login")).json(&json!({"email": email, "password": password})).send()
    };
    let accounts = answers["accounts"].as_array().unwrap();
    assert!(accounts.len() >= 4, "the fixture holds the old accounts");
    let mut found = Vec::new();
    for account in accounts {
        let answer = login(&account["email"], &account["password"]).await.unwrap();
        assert_eq!(answer.status(), 200, "{} signs in with the password the old version stored", account["email"]);
        let token = answer.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
        for (path, old) in [("/me", &account["me"]), ("/me/sign-ins", &account["sign_ins"])] {
            let answer = client.get(format!("{base}/api/v1{path}")).bearer_auth(&token).send().await.unwrap();
            assert_eq!(answer.status(), 200, "{path}");
            let new: Value = answer.json().await.unwrap();
            differences(old, &new, &format!("{} {path}", account["email"]), &["current"], &mut found);
        }
    }
    assert!(found.is_empty(), "the upgrade lost or changed data:\n{}", found.join("\n"));
    assert!(
        accounts.iter().any(|a| a["sign_ins"]["items"].as_array().unwrap().len() > 2),
        "the fixture has someone signed in on several devices"
    );
    for refused in answers["refused"].as_array().unwrap() {
        let answer = login(&refused["email"], &refused["password"]).await.unwrap();
        assert_eq!(answer.status(), 401, "{} no longer signs in: {}", refused["email"], refused["why"]);
    }
    drop(server);
}
