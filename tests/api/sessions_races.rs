//! Writes that race: the same "set my X" twice at once, twenty attendance registers at once,
//! twenty note-takers replacing the action items at once. Every request answers 200 and the
//! database holds one answer, one record per person, one list. (On SQLite the process
//! serialises writes; these tests earn their keep on PostgreSQL, where CI runs them too.)

use diesel::prelude::*;
use roundtable::db::schema::{session_action_items, session_attendance, session_rsvps};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::sessions::{cohort, in_days, one_off, sessions, weekly};

/// Sends `n` identical PUTs at once and answers their statuses.
async fn at_once(app: &TestApp, n: usize, path: &str, token: &str, body: &Value) -> Vec<u16> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (client, url, token, body) = (app.client.clone(), app.url(path), token.to_string(), body.clone());
            tokio::spawn(async move { client.put(url).bearer_auth(token).json(&body).send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().as_u16());
    }
    statuses
}

#[tokio::test]
async fn two_identical_first_rsvps_at_once_both_succeed() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    weekly(&app, &c, &in_days(&app, 1), "18:00").await;
    let list = sessions(&app, &c, &c.member.access_token).await;
    assert!(list.len() >= 20);
    for session in &list {
        let path = format!("/api/v1/sessions/{}/rsvp", session["id"].as_str().unwrap());
        let statuses = at_once(&app, 2, &path, &c.member.access_token, &json!({"response": "yes"})).await;
        assert_eq!(statuses, [200, 200], "{path}");
    }
    let conn = &mut app.db();
    let rows: i64 = session_rsvps::table.count().get_result(conn).unwrap();
    assert_eq!(rows, list.len() as i64, "one answer per session");
}

#[tokio::test]
async fn twenty_attendance_registers_at_once_all_succeed() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = one_off(&app, &c, &format!("{}T10:00", in_days(&app, 1)), 60).await;
    app.clock.advance(chrono::Duration::days(2));
    let token = app.sign_in("ada@example.com").await;
    let path = format!("/api/v1/sessions/{}/attendance", session["id"].as_str().unwrap());
    let body = json!({"records": [
        {"user_id": c.member.id, "status": "present"},
        {"user_id": c.organizer.id, "status": "late"}
    ]});
    let statuses = at_once(&app, 20, &path, &token, &body).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let conn = &mut app.db();
    let rows: i64 = session_attendance::table.count().get_result(conn).unwrap();
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn twenty_note_takers_at_once_leave_one_list_of_action_items() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = one_off(&app, &c, &format!("{}T10:00", in_days(&app, 1)), 60).await;
    let path = format!("/api/v1/sessions/{}/notes", session["id"].as_str().unwrap());
    let body = json!({"notes": "Notes", "action_items": [
        {"text": "One", "owner_id": c.member.id},
        {"text": "Two"},
        {"text": "Three", "owner_id": c.organizer.id}
    ]});
    let statuses = at_once(&app, 20, &path, &c.organizer.access_token, &body).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let conn = &mut app.db();
    let rows: i64 = session_action_items::table.count().get_result(conn).unwrap();
    assert_eq!(rows, 3, "the list was replaced, never merged");
}

#[tokio::test]
async fn members_saying_no_at_once_while_the_session_moves_all_succeed() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let mut members = vec![c.member.access_token.clone()];
    for i in 0..4 {
        members.push(app.member(&c.organizer.access_token, &c.id, &format!("m{i}@example.com")).await.access_token);
    }
    weekly(&app, &c, &in_days(&app, 1), "18:00").await;
    let planned = app
        .post_json_as(&format!("/api/v1/cohorts/{}/rota/plan", c.id), &c.organizer.access_token, &json!({"weeks": 2}))
        .await;
    assert_eq!(planned.status(), 200);
    let first = sessions(&app, &c, &c.member.access_token).await[0].clone();
    let id = first["id"].as_str().unwrap().to_string();
    let later = chrono::DateTime::parse_from_rfc3339(first["starts_at"].as_str().unwrap()).unwrap()
        + chrono::Duration::hours(1);
    let mut tasks = Vec::new();
    for token in &members {
        let (client, url, token) = (app.client.clone(), app.url(&format!("/api/v1/sessions/{id}/rsvp")), token.clone());
        tasks.push(tokio::spawn(async move {
            client.put(url).bearer_auth(token).json(&json!({"response": "no"})).send().await.unwrap().status().as_u16()
        }));
    }
    let (client, url, token) =
        (app.client.clone(), app.url(&format!("/api/v1/sessions/{id}")), c.organizer.access_token.clone());
    tasks.push(tokio::spawn(async move {
        client.patch(url).bearer_auth(token).json(&json!({"starts_at": later})).send().await.unwrap().status().as_u16()
    }));
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let detail: Value =
        app.get_as(&format!("/api/v1/sessions/{id}"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(detail["details"]["rsvp_counts"]["no"], members.len());
    assert_eq!(detail["status"], "moved");
}
