//! The rules of one session's life: no answers to a cancelled session, attendance only once it
//! has started, moves only into the future (by instant or by cohort-local time), ids in bodies
//! only of this cohort's active members, and an archived cohort off the home screen.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};
use crate::sessions::{cohort, in_days, one_off};

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_cancelled_session_takes_no_answers() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = one_off(&app, &c, &format!("{}T10:00", in_days(&app, 3)), 60).await;
    let id = session["id"].as_str().unwrap();
    let cancel = json!({"status": "cancelled", "cancel_reason": "Snow"});
    assert_eq!(app.patch_as(&format!("/api/v1/sessions/{id}"), &c.organizer.access_token, &cancel).await.status(), 200);
    let answer =
        app.put_as(&format!("/api/v1/sessions/{id}/rsvp"), &c.member.access_token, &json!({"response": "yes"})).await;
    assert_problem(answer, 409, "session_cancelled").await;
    let detail: Value =
        app.get_as(&format!("/api/v1/sessions/{id}"), &c.member.access_token).await.json().await.unwrap();
    assert!(detail["my_rsvp"].is_null());
}

#[tokio::test]
async fn attendance_is_recorded_once_the_session_has_started() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let months_away = one_off(&app, &c, &format!("{}T10:00", in_days(&app, 90)), 60).await;
    let records = json!({"records": [{"user_id": c.member.id, "status": "present"}]});
    let path = format!("/api/v1/sessions/{}/attendance", months_away["id"].as_str().unwrap());
    assert_problem(app.put_as(&path, &c.organizer.access_token, &records).await, 409, "session_not_started").await;

    let soon = one_off(&app, &c, &format!("{}T10:00", in_days(&app, 1)), 60).await;
    let path = format!("/api/v1/sessions/{}/attendance", soon["id"].as_str().unwrap());
    assert_problem(app.put_as(&path, &c.organizer.access_token, &records).await, 409, "session_not_started").await;
    let starts_at: chrono::DateTime<chrono::Utc> =
        chrono::DateTime::parse_from_rfc3339(soon["starts_at"].as_str().unwrap()).unwrap().into();
    app.clock.advance(starts_at - app.clock_now() + chrono::Duration::minutes(5));
    let token = app.sign_in("ada@example.com").await;
    let recorded = app.put_as(&path, &token, &records).await;
    assert_eq!(recorded.status(), 200, "five minutes in");
    // Later that week, the record is still kept.
    app.clock.advance(chrono::Duration::days(3));
    let token = app.sign_in("ada@example.com").await;
    let late = json!({"records": [{"user_id": c.member.id, "status": "late"}]});
    let body: Value = app.put_as(&path, &token, &late).await.json().await.unwrap();
    assert_eq!(body["details"]["attendance"][0]["status"], "late");
}

#[tokio::test]
async fn a_session_moves_into_the_future_only_by_instant_or_local_time() {
    let app = spawn_app().await;
    let c = cohort(&app, "Europe/Berlin").await;
    let session = one_off(&app, &c, &format!("{}T10:00", in_days(&app, 3)), 60).await;
    let path = format!("/api/v1/sessions/{}", session["id"].as_str().unwrap());
    let yesterday = app.clock_now() - chrono::Duration::days(1);
    let problem = assert_problem(
        app.patch_as(&path, &c.organizer.access_token, &json!({"starts_at": yesterday})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&problem), ["starts_at"]);
    assert_eq!(problem["errors"][0]["code"], "in_the_past");
    let past_local = format!("{}T10:00", in_days(&app, -2));
    let problem = assert_problem(
        app.patch_as(&path, &c.organizer.access_token, &json!({"local_start": past_local})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&problem), ["local_start"]);

    let local = format!("{}T19:15", in_days(&app, 5));
    let moved: Value =
        app.patch_as(&path, &c.organizer.access_token, &json!({"local_start": local})).await.json().await.unwrap();
    assert!(moved["local_start"].as_str().unwrap().starts_with(&format!("{local}:00+0")), "{moved}");
    assert_eq!(moved["status"], "moved");
    assert_eq!(moved["duration_minutes"], 60);

    let both = json!({"local_start": local, "starts_at": app.clock_now() + chrono::Duration::days(6)});
    let problem =
        assert_problem(app.patch_as(&path, &c.organizer.access_token, &both).await, 422, "validation_failed").await;
    assert_eq!(fields(&problem), ["local_start"]);
    for bad in [json!({"starts_at": "0001-01-01T00:00:00Z"}), json!({"local_start": "10000-01-01T10:00"})] {
        let problem =
            assert_problem(app.patch_as(&path, &c.organizer.access_token, &bad).await, 422, "validation_failed").await;
        assert_eq!(problem["errors"].as_array().unwrap().len(), 1, "{bad}: {problem}");
    }
    let far = json!({"starts_at": "0001-01-01T00:00:00Z", "duration_minutes": 60});
    let created =
        app.post_json_as(&format!("/api/v1/cohorts/{}/sessions", c.id), &c.organizer.access_token, &far).await;
    let problem = assert_problem(created, 422, "validation_failed").await;
    assert_eq!(fields(&problem), ["starts_at"]);
    let range = format!("/api/v1/cohorts/{}/sessions?from=0001-01-01T00:00:00Z", c.id);
    let problem = assert_problem(app.get_as(&range, &c.member.access_token).await, 422, "validation_failed").await;
    assert_eq!(fields(&problem), ["from"]);
}

#[tokio::test]
async fn ids_in_bodies_must_name_active_members_of_this_cohort() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let stranger = app.user("eve@example.com").await;
    app.cohort(&stranger.access_token, "Elsewhere").await;
    let leaver = app.member(&c.organizer.access_token, &c.id, "lea@example.com").await;
    let leave = app.delete_as(&format!("/api/v1/cohorts/{}/members/{}", c.id, leaver.id), &leaver.access_token).await;
    assert!(leave.status().is_success(), "{}", leave.status());
    let session = one_off(&app, &c, &format!("{}T10:00", in_days(&app, 1)), 60).await;
    let id = session["id"].as_str().unwrap();

    let notes = json!({"notes": "n", "action_items": [
        {"text": "Mine", "owner_id": c.member.id},
        {"text": "Random", "owner_id": "not-a-user"},
        {"text": "Theirs", "owner_id": stranger.id},
        {"text": "Gone", "owner_id": leaver.id}
    ]});
    let path = format!("/api/v1/sessions/{id}/notes");
    let problem =
        assert_problem(app.put_as(&path, &c.organizer.access_token, &notes).await, 422, "validation_failed").await;
    assert_eq!(fields(&problem), ["action_items[1].owner_id", "action_items[2].owner_id", "action_items[3].owner_id"]);
    let detail: Value =
        app.get_as(&format!("/api/v1/sessions/{id}"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(detail["details"]["notes"], "", "nothing written");

    app.clock.advance(chrono::Duration::days(2));
    let token = app.sign_in("ada@example.com").await;
    let records = json!({"records": [
        {"user_id": c.member.id, "status": "present"},
        {"user_id": c.organizer.id, "status": "present"},
        {"user_id": "x", "status": "absent"},
        {"user_id": stranger.id, "status": "absent"},
        {"user_id": leaver.id, "status": "absent"}
    ]});
    let path = format!("/api/v1/sessions/{id}/attendance");
    let problem = assert_problem(app.put_as(&path, &token, &records).await, 422, "validation_failed").await;
    assert_eq!(fields(&problem), ["records[2].user_id", "records[3].user_id", "records[4].user_id"]);
    let detail: Value = app.get_as(&format!("/api/v1/sessions/{id}"), &token).await.json().await.unwrap();
    assert_eq!(detail["details"]["attendance"], json!([]), "nothing recorded");
}

#[tokio::test]
async fn an_archived_cohort_leaves_the_home_screen() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    one_off(&app, &c, &format!("{}T10:00", in_days(&app, 1)), 60).await;
    let home: Value = app.get_as("/api/v1/me/sessions", &c.member.access_token).await.json().await.unwrap();
    assert_eq!(home["items"].as_array().unwrap().len(), 1);
    let archived = app.delete_as(&format!("/api/v1/cohorts/{}", c.id), &c.organizer.access_token).await;
    assert!(archived.status().is_success());
    let home: Value = app.get_as("/api/v1/me/sessions", &c.member.access_token).await.json().await.unwrap();
    assert_eq!(home["items"], json!([]), "{home}");
}
