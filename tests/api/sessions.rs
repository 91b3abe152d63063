//! Sessions: series in the cohort's zone across DST, one-offs, moves, cancellations, splits,
//! RSVP, agenda, attendance, notes, and the phone's home screen.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

pub(crate) struct Cohort {
    pub id: String,
    pub organizer: TestUser,
    pub member: TestUser,
}

pub(crate) async fn cohort(app: &TestApp, zone: &str) -> Cohort {
    let organizer = app.user("ada@example.com").await;
    let response =
        app.post_json_as("/api/v1/cohorts", &organizer.access_token, &json!({"name": "C", "time_zone": zone})).await;
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let member = app.member(&organizer.access_token, &id, "max@example.com").await;
    Cohort { id, organizer, member }
}

pub(crate) fn in_days(app: &TestApp, days: i64) -> String {
    (app.clock_now() + chrono::Duration::days(days)).date_naive().to_string()
}

pub(crate) async fn weekly(app: &TestApp, c: &Cohort, starts_on: &str, time: &str) -> Value {
    let body = json!({"title": "Weekly", "rrule": "FREQ=WEEKLY", "starts_on": starts_on, "local_time": time, "duration_minutes": 90});
    let response =
        app.post_json_as(&format!("/api/v1/cohorts/{}/series", c.id), &c.organizer.access_token, &body).await;
    assert_eq!(response.status(), 201, "create series");
    response.json().await.unwrap()
}

pub(crate) async fn sessions(app: &TestApp, c: &Cohort, token: &str) -> Vec<Value> {
    let page: Value =
        app.get_as(&format!("/api/v1/cohorts/{}/sessions?limit=200", c.id), token).await.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

/// A one-off session at a cohort-local start, made by the organizer.
pub(crate) async fn one_off(app: &TestApp, c: &Cohort, local_start: &str, minutes: u32) -> Value {
    let body = json!({"local_start": local_start, "duration_minutes": minutes});
    let response =
        app.post_json_as(&format!("/api/v1/cohorts/{}/sessions", c.id), &c.organizer.access_token, &body).await;
    assert_eq!(response.status(), 201, "one-off session");
    response.json().await.unwrap()
}

pub(crate) async fn extend(app: &TestApp) -> usize {
    roundtable::sessions::materialize::extend_all(&app.state.db, app.clock_now()).await.unwrap()
}

#[tokio::test]
async fn a_weekly_series_keeps_its_local_time_through_the_year() {
    let app = spawn_app().await;
    let c = cohort(&app, "Europe/Berlin").await;
    weekly(&app, &c, &in_days(&app, 1), "18:00").await;
    let stored = sessions(&app, &c, &c.member.access_token).await;
    assert!((26..=27).contains(&stored.len()), "26 weeks ahead, got {}", stored.len());

    // Thirty weeks on, the daily job adds the next ones (never past ones), none twice.
    app.clock.advance(chrono::Duration::weeks(30));
    assert!((25..=27).contains(&extend(&app).await));
    assert_eq!(extend(&app).await, 0);
    let token = app.sign_in("max@example.com").await;
    let all = sessions(&app, &c, &token).await;
    assert!(all.len() >= 52);
    let offsets: std::collections::BTreeSet<String> =
        all.iter().map(|s| s["local_start"].as_str().unwrap()[19..].to_string()).collect();
    assert_eq!(offsets, ["+01:00", "+02:00"].map(String::from).into(), "both sides of the clock changes");
    assert!(all.iter().all(|s| s["local_start"].as_str().unwrap()[11..19] == *"18:00:00"), "always 18:00 in Berlin");
    assert!(all.iter().all(|s| s["time_zone"] == "Europe/Berlin" && s["duration_minutes"] == 90));
    let instants: Vec<&str> = all.iter().map(|s| s["starts_at"].as_str().unwrap()).collect();
    assert!(instants.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn series_and_sessions_are_validated() {
    let app = spawn_app().await;
    let c = cohort(&app, "Europe/Berlin").await;
    let body = json!({"rrule": "FREQ=HOURLY", "starts_on": "tomorrow", "local_time": "25:00", "duration_minutes": 5});
    let response =
        app.post_json_as(&format!("/api/v1/cohorts/{}/series", c.id), &c.organizer.access_token, &body).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["rrule", "starts_on", "local_time", "duration_minutes"]);
    let both = json!({"local_start": "2030-01-01T10:00", "starts_at": "2030-01-01T09:00:00Z", "duration_minutes": 60});
    let response =
        app.post_json_as(&format!("/api/v1/cohorts/{}/sessions", c.id), &c.organizer.access_token, &both).await;
    assert_problem(response, 422, "validation_failed").await;
    let by_member = app
        .post_json_as(
            &format!("/api/v1/cohorts/{}/sessions", c.id),
            &c.member.access_token,
            &json!({"local_start": "2030-01-01T10:00", "duration_minutes": 60}),
        )
        .await;
    assert_problem(by_member, 403, "forbidden").await;
}

#[tokio::test]
async fn one_off_sessions_move_and_cancel_and_regeneration_keeps_that() {
    let app = spawn_app().await;
    let c = cohort(&app, "America/New_York").await;
    let local = format!("{}T09:30", in_days(&app, 3));
    let created = app
        .post_json_as(
            &format!("/api/v1/cohorts/{}/sessions", c.id),
            &c.organizer.access_token,
            &json!({"title": "Kick-off", "local_start": local, "duration_minutes": 60}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let one_off: Value = created.json().await.unwrap();
    assert!(one_off["local_start"].as_str().unwrap().starts_with(&format!("{local}:00-0")));
    assert_eq!(one_off["agenda"].as_array().unwrap().len(), 4, "the default phases, shrunk to an hour");

    weekly(&app, &c, &in_days(&app, 1), "18:00").await;
    let list = sessions(&app, &c, &c.member.access_token).await;
    let (first, second) = (list[0]["id"].as_str().unwrap().to_string(), list[2]["id"].as_str().unwrap().to_string());
    let later = (chrono::DateTime::parse_from_rfc3339(list[0]["starts_at"].as_str().unwrap()).unwrap()
        + chrono::Duration::hours(2))
    .to_rfc3339();
    let moved = app
        .patch_as(&format!("/api/v1/sessions/{first}"), &c.organizer.access_token, &json!({"starts_at": later}))
        .await;
    assert_eq!(moved.json::<Value>().await.unwrap()["status"], "moved");
    let no_reason = app
        .patch_as(&format!("/api/v1/sessions/{second}"), &c.organizer.access_token, &json!({"status": "cancelled"}))
        .await;
    assert_problem(no_reason, 422, "validation_failed").await;
    let cancelled = app
        .patch_as(
            &format!("/api/v1/sessions/{second}"),
            &c.organizer.access_token,
            &json!({"status": "cancelled", "cancel_reason": "Holiday"}),
        )
        .await;
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(
        (cancelled["status"].as_str(), cancelled["cancel_reason"].as_str()),
        (Some("cancelled"), Some("Holiday"))
    );

    app.clock.advance(chrono::Duration::weeks(1));
    extend(&app).await;
    let token = app.sign_in("max@example.com").await;
    let first_again: Value = app.get_as(&format!("/api/v1/sessions/{first}"), &token).await.json().await.unwrap();
    assert_eq!(
        first_again["starts_at"].as_str().unwrap(),
        chrono::DateTime::parse_from_rfc3339(&later)
            .unwrap()
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    let second_again: Value = app.get_as(&format!("/api/v1/sessions/{second}"), &token).await.json().await.unwrap();
    assert_eq!(second_again["status"], "cancelled", "regenerating the series never loses a cancellation");

    // The past never changes.
    let organizer = app.sign_in("ada@example.com").await;
    let past = app.patch_as(&format!("/api/v1/sessions/{first}"), &organizer, &json!({"title": "Renamed"})).await;
    assert_problem(past, 409, "session_started").await;
}

#[tokio::test]
async fn changing_a_series_splits_it_and_keeps_the_sessions_people_answered() {
    let app = spawn_app().await;
    let c = cohort(&app, "Europe/Berlin").await;
    let series = weekly(&app, &c, &in_days(&app, 1), "18:00").await;
    let before = sessions(&app, &c, &c.member.access_token).await;
    let third = before[2]["id"].as_str().unwrap().to_string();
    let rsvp = app
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/sessions/{third}/rsvp"),
            Some(&c.member.access_token),
            Some(&json!({"response": "yes"})),
        )
        .await;
    assert_eq!(rsvp.status(), 200);

    let path = format!("/api/v1/cohorts/{}/series/{}", c.id, series["id"].as_str().unwrap());
    let changed =
        app.patch_as(&path, &c.organizer.access_token, &json!({"from_session_id": third, "local_time": "19:30"})).await;
    assert_eq!(changed.status(), 200);
    let new_series: Value = changed.json().await.unwrap();
    assert_ne!(new_series["id"], series["id"]);
    assert_eq!(new_series["local_time"], "19:30");

    let after = sessions(&app, &c, &c.member.access_token).await;
    assert_eq!(after.len(), before.len());
    assert_eq!(after[0]["id"], before[0]["id"]);
    assert_eq!(&after[1]["local_start"].as_str().unwrap()[11..16], "18:00", "earlier sessions keep their time");
    assert_eq!(after[2]["id"], third.as_str(), "the same session, with what hangs on it");
    assert_eq!(&after[2]["local_start"].as_str().unwrap()[11..16], "19:30");
    assert_eq!(after[2]["my_rsvp"]["response"], "yes");
    assert_eq!(after[2]["series_id"], new_series["id"]);
    let old: Value = app.get_as(&path, &c.member.access_token).await.json().await.unwrap();
    assert!(old["ends_before"].is_string());

    // Moving the weekday: sessions on days the new rule does not use are cancelled, not lost.
    let weekday = chrono::NaiveDate::parse_from_str(&in_days(&app, 2), "%Y-%m-%d").unwrap().format("%a").to_string()
        [..2]
        .to_uppercase();
    let new_path = format!("/api/v1/cohorts/{}/series/{}", c.id, new_series["id"].as_str().unwrap());
    let fifth = after[4]["id"].as_str().unwrap().to_string();
    let moved_day = app
        .patch_as(
            &new_path,
            &c.organizer.access_token,
            &json!({"from_session_id": fifth, "rrule": format!("FREQ=WEEKLY;BYDAY={weekday}")}),
        )
        .await;
    assert_eq!(moved_day.status(), 200);
    let fifth_now: Value =
        app.get_as(&format!("/api/v1/sessions/{fifth}"), &c.member.access_token).await.json().await.unwrap();
    assert_eq!(fifth_now["status"], "cancelled");
    let all = sessions(&app, &c, &c.member.access_token).await;
    let running: Vec<&Value> = all.iter().filter(|s| s["status"] != "cancelled").collect();
    assert!(running.len() >= 25);
}

#[tokio::test]
async fn rsvps_show_on_the_home_screen_across_cohorts() {
    let app = spawn_app().await;
    let c = cohort(&app, "Europe/Berlin").await;
    weekly(&app, &c, &in_days(&app, 2), "18:00").await;
    let other = app.cohort(&c.organizer.access_token, "Other").await;
    let code = app.invite_code(&c.organizer.access_token, &other).await;
    app.post_json_as("/api/v1/invite-links/join", &c.member.access_token, &json!({"code": code})).await;
    let local = format!("{}T08:00", in_days(&app, 1));
    app.post_json_as(
        &format!("/api/v1/cohorts/{other}/sessions"),
        &c.organizer.access_token,
        &json!({"local_start": local, "duration_minutes": 45}),
    )
    .await;

    let home: Value = app.get_as("/api/v1/me/sessions?limit=3", &c.member.access_token).await.json().await.unwrap();
    let items = home["items"].as_array().unwrap();
    assert_eq!(items[0]["cohort_id"], other.as_str(), "the earliest first, whatever the cohort");
    assert_eq!(items[1]["cohort_id"], c.id.as_str());
    let first_weekly = items[1]["id"].as_str().unwrap().to_string();
    let answer = json!({"response": "no", "note": "Travelling"});
    app.send(
        reqwest::Method::PUT,
        &format!("/api/v1/sessions/{first_weekly}/rsvp"),
        Some(&c.member.access_token),
        Some(&answer),
    )
    .await;
    let home: Value = app.get_as("/api/v1/me/sessions?limit=3", &c.member.access_token).await.json().await.unwrap();
    assert_eq!(home["items"][1]["my_rsvp"], json!({"response": "no", "note": "Travelling"}));
    assert!(home["items"][0]["my_rsvp"].is_null());
    let detail: Value =
        app.get_as(&format!("/api/v1/sessions/{first_weekly}"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(detail["details"]["rsvp_counts"], json!({"yes": 0, "no": 1, "maybe": 0}));
    let bad = app
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/sessions/{first_weekly}/rsvp"),
            Some(&c.member.access_token),
            Some(&json!({"response": "perhaps"})),
        )
        .await;
    assert_problem(bad, 422, "validation_failed").await;
}

#[tokio::test]
async fn agendas_must_fit_and_templates_shape_new_sessions() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let local = format!("{}T10:00", in_days(&app, 2));
    let session: Value = one_off(&app, &c, &local, 90).await;
    let titles: Vec<&str> =
        session["agenda"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Check-in", "Learning activity", "Practice", "Reflection"]);
    let path = format!("/api/v1/sessions/{}/agenda", session["id"].as_str().unwrap());
    let too_long = json!({"items": [
        {"kind": "phase", "title": "Check-in", "minutes": 30},
        {"kind": "skill_share", "title": "Ada on tracing", "minutes": 50},
        {"kind": "phase", "title": "Reflection", "minutes": 20}
    ]});
    let problem = assert_problem(
        app.send(reqwest::Method::PUT, &path, Some(&c.organizer.access_token), Some(&too_long)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "items[2].minutes");
    let fits = json!({"items": [
        {"kind": "skill_share", "title": "Ada on tracing", "minutes": 30},
        {"kind": "phase", "title": "Check-in", "minutes": 10}
    ]});
    let saved: Value =
        app.send(reqwest::Method::PUT, &path, Some(&c.organizer.access_token), Some(&fits)).await.json().await.unwrap();
    assert_eq!(saved["agenda"][0]["kind"], "skill_share");
    assert!(!saved["agenda"][0]["id"].as_str().unwrap().is_empty());
    assert_problem(
        app.send(reqwest::Method::PUT, &path, Some(&c.member.access_token), Some(&fits)).await,
        403,
        "forbidden",
    )
    .await;

    let template_path = format!("/api/v1/cohorts/{}/agenda-template", c.id);
    let template = json!({"items": [{"kind": "phase", "title": "Open", "minutes": 20}, {"kind": "phase", "title": "Work", "minutes": 100}]});
    assert_eq!(
        app.send(reqwest::Method::PUT, &template_path, Some(&c.organizer.access_token), Some(&template)).await.status(),
        200
    );
    let short: Value = one_off(&app, &c, &local, 60).await;
    let minutes: Vec<i64> =
        short["agenda"].as_array().unwrap().iter().map(|i| i["minutes"].as_i64().unwrap()).collect();
    assert_eq!(minutes, [10, 50], "the template, shrunk to fit an hour");
}

#[tokio::test]
async fn attendance_and_notes_are_kept_by_facilitators() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let local = format!("{}T10:00", in_days(&app, 1));
    let session: Value = one_off(&app, &c, &local, 60).await;
    let id = session["id"].as_str().unwrap();
    // Attendance is taken once the session has started.
    app.clock.advance(chrono::Duration::days(2));
    let organizer = app.sign_in("ada@example.com").await;
    let member = app.sign_in("max@example.com").await;
    let attendance = json!({"records": [{"user_id": c.member.id, "status": "late"}, {"user_id": c.organizer.id, "status": "present"}]});
    let recorded: Value = app
        .send(reqwest::Method::PUT, &format!("/api/v1/sessions/{id}/attendance"), Some(&organizer), Some(&attendance))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(recorded["details"]["attendance"].as_array().unwrap().len(), 2);
    let stranger = json!({"records": [{"user_id": uuid::Uuid::new_v4(), "status": "present"}]});
    let problem = assert_problem(
        app.send(reqwest::Method::PUT, &format!("/api/v1/sessions/{id}/attendance"), Some(&organizer), Some(&stranger))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "records[0].user_id");

    let notes = json!({
        "notes": "## Decisions\n<script>alert(1)</script>",
        "action_items": [{"text": "Write the RFC", "owner_id": c.member.id, "due_on": in_days(&app, 7)}],
        "publish": true
    });
    let written: Value = app
        .send(reqwest::Method::PUT, &format!("/api/v1/sessions/{id}/notes"), Some(&organizer), Some(&notes))
        .await
        .json()
        .await
        .unwrap();
    assert!(written["details"]["notes_published_at"].is_string());
    let seen: Value = app.get_as(&format!("/api/v1/sessions/{id}"), &member).await.json().await.unwrap();
    assert_eq!(seen["details"]["action_items"][0]["text"], "Write the RFC");
    let html = seen["details"]["notes_html"].as_str().unwrap();
    assert!(html.contains("<h2>Decisions</h2>") && !html.contains("<script"));
    let by_member =
        app.send(reqwest::Method::PUT, &format!("/api/v1/sessions/{id}/notes"), Some(&member), Some(&notes)).await;
    assert_problem(by_member, 403, "forbidden").await;
}

#[tokio::test]
async fn a_due_charter_review_puts_a_charter_check_on_the_next_session() {
    let app = spawn_app().await;
    let c = cohort(&app, "Europe/Berlin").await;
    let body = json!({"mission": "M", "weekly_minutes": 60, "review_cadence": {"every": 1, "unit": "weeks"}});
    let draft: Value = app
        .post_json_as(&format!("/api/v1/cohorts/{}/charter/versions", c.id), &c.organizer.access_token, &body)
        .await
        .json()
        .await
        .unwrap();
    app.post_as(
        &format!("/api/v1/cohorts/{}/charter/versions/{}/adopt", c.id, draft["id"].as_str().unwrap()),
        &c.organizer.access_token,
    )
    .await;
    weekly(&app, &c, &in_days(&app, 1), "18:00").await;

    app.clock.advance(chrono::Duration::days(8));
    let (db, now) = (app.state.db.clone(), app.clock_now());
    let due = db.write(move |conn| roundtable::charter::notices::record_due_reviews(conn, now)).await.unwrap();
    assert_eq!(due, 1);
    let token = app.sign_in("max@example.com").await;
    let home: Value = app.get_as("/api/v1/me/sessions?limit=3", &token).await.json().await.unwrap();
    // The home screen also lists a session still under way; the check goes on the next to start.
    let upcoming: Vec<&Value> = home["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["starts_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap() > now)
        .collect();
    let kinds: Vec<&str> =
        upcoming[0]["agenda"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["phase", "phase", "phase", "charter_check", "phase"]);
    let after: Vec<&str> =
        upcoming[1]["agenda"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert!(!after.contains(&"charter_check"), "only the next session");
}

#[tokio::test]
async fn notes_stay_with_facilitators_until_published() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let local = format!("{}T10:00", in_days(&app, 1));
    let session: Value = one_off(&app, &c, &local, 60).await;
    let id = session["id"].as_str().unwrap();
    let draft = json!({"notes": "Draft thoughts", "action_items": [{"text": "Follow up"}]});
    app.send(
        reqwest::Method::PUT,
        &format!("/api/v1/sessions/{id}/notes"),
        Some(&c.organizer.access_token),
        Some(&draft),
    )
    .await;
    let hidden: Value =
        app.get_as(&format!("/api/v1/sessions/{id}"), &c.member.access_token).await.json().await.unwrap();
    assert_eq!(
        (hidden["details"]["notes"].as_str(), hidden["details"]["action_items"].as_array().map(Vec::len)),
        (Some(""), Some(0))
    );
    let own: Value =
        app.get_as(&format!("/api/v1/sessions/{id}"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(own["details"]["notes"], "Draft thoughts");
    app.send(
        reqwest::Method::PUT,
        &format!("/api/v1/sessions/{id}/notes"),
        Some(&c.organizer.access_token),
        Some(&json!({"publish": true})),
    )
    .await;
    let shown: Value =
        app.get_as(&format!("/api/v1/sessions/{id}"), &c.member.access_token).await.json().await.unwrap();
    assert_eq!(shown["details"]["notes"], "Draft thoughts");
    assert_eq!(shown["details"]["action_items"][0]["text"], "Follow up");
}

#[tokio::test]
async fn a_new_time_zone_keeps_series_at_their_local_time() {
    let app = spawn_app().await;
    let c = cohort(&app, "Europe/Berlin").await;
    weekly(&app, &c, &in_days(&app, 1), "18:00").await;
    let local = format!("{}T09:00", in_days(&app, 2));
    let one_off: Value = one_off(&app, &c, &local, 60).await;
    let changed = app
        .patch_as(
            &format!("/api/v1/cohorts/{}", c.id),
            &c.organizer.access_token,
            &json!({"time_zone": "America/New_York"}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let all = sessions(&app, &c, &c.member.access_token).await;
    for s in all.iter().filter(|s| s["series_id"].is_string()) {
        assert_eq!(&s["local_start"].as_str().unwrap()[11..16], "18:00", "{}", s["local_start"]);
        assert!(
            s["local_start"].as_str().unwrap().ends_with("-05:00")
                || s["local_start"].as_str().unwrap().ends_with("-04:00")
        );
    }
    let kept: Value = app
        .get_as(&format!("/api/v1/sessions/{}", one_off["id"].as_str().unwrap()), &c.member.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["starts_at"], one_off["starts_at"], "a one-off keeps its instant");
}
