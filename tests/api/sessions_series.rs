//! Series changes that must keep what a cohort planned: a split keeps the number of sessions a
//! COUNT gives and never doubles a moved session; rules that give no session are refused; a
//! shorter session keeps an agenda that fits.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::sessions::{Cohort, cohort, in_days, one_off, sessions};

async fn series(app: &TestApp, c: &Cohort, rrule: &str, starts_on: &str) -> reqwest::Response {
    let body = json!({"rrule": rrule, "starts_on": starts_on, "local_time": "18:00", "duration_minutes": 90});
    app.post_json_as(&format!("/api/v1/cohorts/{}/series", c.id), &c.organizer.access_token, &body).await
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> impl std::future::Future<Output = reqwest::Response> {
    app.send(reqwest::Method::PUT, path, Some(token), Some(body))
}

#[tokio::test]
async fn a_split_keeps_the_count_and_the_moved_session() {
    let app = spawn_app().await;
    let c = cohort(&app, "Europe/Berlin").await;
    let created = series(&app, &c, "FREQ=WEEKLY;COUNT=6", &in_days(&app, 1)).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let before = sessions(&app, &c, &c.member.access_token).await;
    assert_eq!(before.len(), 6, "a six-session cohort");

    // The fourth session moves to the next day.
    let fourth = before[3]["id"].as_str().unwrap().to_string();
    let next_day = (chrono::DateTime::parse_from_rfc3339(before[3]["starts_at"].as_str().unwrap()).unwrap()
        + chrono::Duration::days(1))
    .with_timezone(&chrono::Utc);
    let moved = app
        .patch_as(&format!("/api/v1/sessions/{fourth}"), &c.organizer.access_token, &json!({"starts_at": next_day}))
        .await;
    assert_eq!(moved.status(), 200);

    // From the third session on, the cohort meets at 19:30.
    let third = before[2]["id"].as_str().unwrap();
    let path = format!("/api/v1/cohorts/{}/series/{}", c.id, created["id"].as_str().unwrap());
    let changed =
        app.patch_as(&path, &c.organizer.access_token, &json!({"from_session_id": third, "local_time": "19:30"})).await;
    assert_eq!(changed.status(), 200);
    let continued: Value = changed.json().await.unwrap();
    assert!(continued["rrule"].as_str().unwrap().contains("COUNT=4"), "COUNT counts what remains: {continued}");

    let after = sessions(&app, &c, &c.member.access_token).await;
    let running: Vec<&Value> = after.iter().filter(|s| s["status"] != "cancelled").collect();
    assert_eq!(running.len(), 6, "still six sessions: {after:#?}");
    assert_eq!(after.len(), 6, "nothing added, nothing cancelled");
    let mut days: Vec<&str> = after.iter().map(|s| &s["local_start"].as_str().unwrap()[..10]).collect();
    days.dedup();
    assert_eq!(days.len(), 6, "never two sessions on one day");
    let moved_now = after.iter().find(|s| s["id"] == fourth.as_str()).expect("the moved session is still there");
    assert_eq!(moved_now["status"], "moved");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(moved_now["starts_at"].as_str().unwrap()).unwrap(),
        next_day,
        "the moved session keeps the time it was moved to"
    );
    assert_eq!(moved_now["series_id"], continued["id"], "and belongs to the series that continues");
    for s in after.iter().skip(2).filter(|s| s["id"] != fourth.as_str()) {
        assert_eq!(&s["local_start"].as_str().unwrap()[11..16], "19:30");
    }

    // A second change from the fifth on keeps the count again (two remain).
    let fifth = after[4]["id"].as_str().unwrap();
    let path = format!("/api/v1/cohorts/{}/series/{}", c.id, continued["id"].as_str().unwrap());
    let again =
        app.patch_as(&path, &c.organizer.access_token, &json!({"from_session_id": fifth, "title": "Later"})).await;
    let again: Value = again.json().await.unwrap();
    assert!(again["rrule"].as_str().unwrap().contains("COUNT=2"), "{again}");
    assert_eq!(sessions(&app, &c, &c.member.access_token).await.len(), 6);
}

#[tokio::test]
async fn rules_that_give_no_session_are_refused_on_the_rrule() {
    let app = spawn_app().await;
    let c = cohort(&app, "Europe/Berlin").await;
    for rrule in ["FREQ=DAILY;UNTIL=00010101", "FREQ=WEEKLY;INTERVAL=0", "FREQ=DAILY;UNTIL=20000101"] {
        let problem = assert_problem(series(&app, &c, rrule, &in_days(&app, 1)).await, 422, "validation_failed").await;
        assert_eq!(fields(&problem), ["rrule"], "{rrule}: {problem}");
    }
    let problem = assert_problem(
        series(&app, &c, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", &in_days(&app, 1)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&problem), ["rrule"], "30 February never comes");
    for starts_on in ["0001-01-01", "1899-12-31", "+10000-01-01"] {
        let problem = assert_problem(series(&app, &c, "FREQ=WEEKLY", starts_on).await, 422, "validation_failed").await;
        assert_eq!(fields(&problem), ["starts_on"], "{starts_on}");
    }
    // Changing a series to such a rule is refused the same way.
    let created: Value = series(&app, &c, "FREQ=WEEKLY", &in_days(&app, 1)).await.json().await.unwrap();
    let first = sessions(&app, &c, &c.member.access_token).await[0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/cohorts/{}/series/{}", c.id, created["id"].as_str().unwrap());
    let problem = assert_problem(
        app.patch_as(
            &path,
            &c.organizer.access_token,
            &json!({"from_session_id": first, "rrule": "FREQ=DAILY;UNTIL=19990101"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&problem), ["rrule"]);
    assert!(sessions(&app, &c, &c.member.access_token).await.iter().all(|s| s["status"] == "scheduled"));
}

#[tokio::test]
async fn a_shorter_session_keeps_an_agenda_that_fits() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = one_off(&app, &c, &format!("{}T10:00", in_days(&app, 2)), 90).await;
    let id = session["id"].as_str().unwrap();
    let shorter: Value = app
        .patch_as(&format!("/api/v1/sessions/{id}"), &c.organizer.access_token, &json!({"duration_minutes": 45}))
        .await
        .json()
        .await
        .unwrap();
    let minutes: Vec<u64> =
        shorter["agenda"].as_array().unwrap().iter().map(|i| i["minutes"].as_u64().unwrap()).collect();
    assert!(minutes.iter().sum::<u64>() <= 45, "{minutes:?}");
    let ids = |agenda: &Value| -> Vec<String> {
        agenda.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(&shorter["agenda"]), ids(&session["agenda"]), "the same boxes, shrunk");
    // The API accepts back the agenda it shows.
    let again = put(
        &app,
        &format!("/api/v1/sessions/{id}/agenda"),
        &c.organizer.access_token,
        &json!({"items": shorter["agenda"]}),
    )
    .await;
    assert_eq!(again.status(), 200);

    // The same through a series change of duration.
    let created: Value = series(&app, &c, "FREQ=WEEKLY", &in_days(&app, 1)).await.json().await.unwrap();
    let list = sessions(&app, &c, &c.member.access_token).await;
    let weekly: Vec<&Value> = list.iter().filter(|s| s["series_id"] == created["id"]).collect();
    let from = weekly[1]["id"].as_str().unwrap();
    let path = format!("/api/v1/cohorts/{}/series/{}", c.id, created["id"].as_str().unwrap());
    let changed =
        app.patch_as(&path, &c.organizer.access_token, &json!({"from_session_id": from, "duration_minutes": 30})).await;
    assert_eq!(changed.status(), 200);
    let now: Value =
        app.get_as(&format!("/api/v1/sessions/{from}"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(now["duration_minutes"], 30);
    let total: u64 = now["agenda"].as_array().unwrap().iter().map(|i| i["minutes"].as_u64().unwrap()).sum();
    assert!(total <= 30, "{}", now["agenda"]);
    let again = put(
        &app,
        &format!("/api/v1/sessions/{from}/agenda"),
        &c.organizer.access_token,
        &json!({"items": now["agenda"]}),
    )
    .await;
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn a_split_never_doubles_a_moved_session() {
    let app = spawn_app().await;
    let c = cohort(&app, "Europe/Berlin").await;
    let created: Value = series(&app, &c, "FREQ=WEEKLY", &in_days(&app, 1)).await.json().await.unwrap();
    let before = sessions(&app, &c, &c.member.access_token).await;
    let second = before[1]["id"].as_str().unwrap().to_string();
    let local = format!("{}T09:00", &before[1]["local_start"].as_str().unwrap()[..10]);
    let morning = chrono::DateTime::parse_from_rfc3339(before[1]["starts_at"].as_str().unwrap()).unwrap()
        - chrono::Duration::hours(9);
    let moved = app
        .patch_as(&format!("/api/v1/sessions/{second}"), &c.organizer.access_token, &json!({"starts_at": morning}))
        .await;
    assert_eq!(moved.status(), 200, "moved to the morning of its day");
    let path = format!("/api/v1/cohorts/{}/series/{}", c.id, created["id"].as_str().unwrap());
    let from = before[0]["id"].as_str().unwrap();
    let changed =
        app.patch_as(&path, &c.organizer.access_token, &json!({"from_session_id": from, "location": "Room 2"})).await;
    assert_eq!(changed.status(), 200);
    let after = sessions(&app, &c, &c.member.access_token).await;
    assert_eq!(after.len(), before.len(), "no session added");
    let on_that_day: Vec<&Value> =
        after.iter().filter(|s| s["local_start"].as_str().unwrap().starts_with(&local[..10])).collect();
    assert_eq!(on_that_day.len(), 1, "one session on the moved session's day: {on_that_day:#?}");
    assert_eq!(on_that_day[0]["id"], second.as_str());
    assert_eq!(&on_that_day[0]["local_start"].as_str().unwrap()[11..16], "09:00", "still where it was moved");
}
