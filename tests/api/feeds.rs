//! Calendar feeds (`/feeds/{token}.ics`, `POST /me/calendar-feed`, `POST
//! /cohorts/{cohort_id}/calendar-feed`, `GET /sessions/{session_id}/calendar.ics`). Every feed
//! is read back with an independent parser (the `ical` crate), not with the crate that writes it.

use ical::parser::ical::component::{IcalCalendar, IcalEvent};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

fn parse(body: &str) -> IcalCalendar {
    let mut calendars = ical::IcalParser::new(body.as_bytes());
    let calendar = calendars.next().expect("one VCALENDAR").expect("a calendar the parser reads");
    assert!(calendars.next().is_none(), "exactly one VCALENDAR");
    calendar
}

fn prop(properties: &[ical::property::Property], name: &str) -> Option<String> {
    properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone())
}

fn ev(event: &IcalEvent, name: &str) -> String {
    prop(&event.properties, name).unwrap_or_else(|| panic!("VEVENT without {name}"))
}

fn by_uid<'a>(calendar: &'a IcalCalendar, uid: &str) -> Option<&'a IcalEvent> {
    calendar.events.iter().find(|e| prop(&e.properties, "UID").as_deref() == Some(uid))
}

fn host(app: &TestApp) -> String {
    let base = app.state.base_url.clone();
    let rest = base.split_once("://").map(|(_, r)| r).unwrap_or(&base);
    rest.split('/').next().unwrap().split(':').next().unwrap().to_string()
}

fn session_uid(app: &TestApp, session_id: &str) -> String {
    format!("session-{session_id}@{}", host(app))
}

/// The path of a feed URL (`<base>/feeds/<token>.ics`).
fn path_of(url: &str, app: &TestApp) -> String {
    let path = url.strip_prefix(&app.state.base_url).expect("the URL starts with the base URL");
    assert!(path.starts_with("/feeds/") && path.ends_with(".ics"), "{url}");
    path.to_string()
}

async fn my_feed(app: &TestApp, user: &TestUser) -> String {
    let created = app.post_as("/api/v1/me/calendar-feed", &user.access_token).await;
    assert!(created.status() == 201 || created.status() == 200, "create my feed: {}", created.status());
    let body: Value = created.json().await.unwrap();
    path_of(body["url"].as_str().unwrap(), app)
}

async fn fetch(app: &TestApp, path: &str) -> IcalCalendar {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    parse(&response.text().await.unwrap())
}

/// A weekly Tuesday 18:00 series in Europe/Berlin across the spring change (2027-03-28), and its
/// sessions.
async fn weekly(app: &TestApp, token: &str, cohort: &str) -> Vec<Value> {
    let body = json!({"title": "Weekly circle", "rrule": "FREQ=WEEKLY;BYDAY=TU", "starts_on": "2027-03-16",
        "local_time": "18:00", "duration_minutes": 90, "location": "Room 4"});
    let created = app.post_json_as(&format!("/api/v1/cohorts/{cohort}/series"), token, &body).await;
    assert_eq!(created.status(), 201);
    let list: Value = app
        .get_as(&format!("/api/v1/cohorts/{cohort}/sessions?from=2027-03-01T00:00:00Z&limit=10"), token)
        .await
        .json()
        .await
        .unwrap();
    list["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_weekly_session_keeps_its_local_time_across_dst_and_the_feed_is_well_formed() {
    let app = spawn_app().await;
    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Circle").await;
    let sessions = weekly(&app, &organizer.access_token, &cohort).await;
    let feed = my_feed(&app, &organizer).await;

    let response = app.get(&feed).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/calendar; charset=utf-8");
    assert_eq!(headers["cache-control"], "private, max-age=300");
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong ETag: {etag}");
    let body = response.text().await.unwrap();
    for line in body.split("\r\n") {
        assert!(line.len() <= 75, "a line longer than 75 octets: {line}");
    }
    let calendar = parse(&body);
    assert_eq!(prop(&calendar.properties, "VERSION").as_deref(), Some("2.0"));
    assert_eq!(prop(&calendar.properties, "CALSCALE").as_deref(), Some("GREGORIAN"));
    assert_eq!(prop(&calendar.properties, "REFRESH-INTERVAL").as_deref(), Some("PT1H"));
    assert_eq!(prop(&calendar.properties, "X-PUBLISHED-TTL").as_deref(), Some("PT1H"));
    assert!(prop(&calendar.properties, "PRODID").is_some());
    assert!(prop(&calendar.properties, "X-WR-CALNAME").is_some());

    // 2027-03-23 is CET (UTC+1), 2027-03-30 CEST (UTC+2): 18:00 local both times.
    let on = |day: &str| sessions.iter().find(|s| s["local_start"].as_str().unwrap().starts_with(day)).unwrap();
    let before = by_uid(&calendar, &session_uid(&app, on("2027-03-23")["id"].as_str().unwrap())).unwrap();
    let after = by_uid(&calendar, &session_uid(&app, on("2027-03-30")["id"].as_str().unwrap())).unwrap();
    assert_eq!(ev(before, "DTSTART"), "20270323T170000Z");
    assert_eq!(ev(after, "DTSTART"), "20270330T160000Z");
    assert_eq!(ev(after, "DTEND"), "20270330T173000Z");
    assert_eq!(ev(after, "LOCATION"), "Room 4");
    assert!(ev(after, "SUMMARY").starts_with("Weekly circle"));
    let description = ev(after, "DESCRIPTION");
    assert!(description.contains("Circle"), "the cohort is named: {description}");
    assert!(description.contains(&format!("/app/sessions/{}", on("2027-03-30")["id"].as_str().unwrap())));
    let mut uids = std::collections::HashSet::new();
    for event in &calendar.events {
        for name in ["DTSTAMP", "DTSTART", "UID", "SEQUENCE", "LAST-MODIFIED"] {
            assert!(prop(&event.properties, name).is_some(), "a VEVENT without {name}");
        }
        assert!(uids.insert(ev(event, "UID")), "UIDs are unique");
    }

    // The same body again: 304 on a matching ETag, 200 on another.
    let again = app.client.get(app.url(&feed)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    let other = app.client.get(app.url(&feed)).header("if-none-match", "\"other\"").send().await.unwrap();
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn a_moved_session_keeps_its_uid_with_a_higher_sequence_and_a_cancelled_one_stays() {
    let app = spawn_app().await;
    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Circle").await;
    let sessions = weekly(&app, &organizer.access_token, &cohort).await;
    let feed = my_feed(&app, &organizer).await;
    let (moved, cancelled) = (sessions[0]["id"].as_str().unwrap(), sessions[1]["id"].as_str().unwrap());
    let first = fetch(&app, &feed).await;
    let seq_before: i64 = ev(by_uid(&first, &session_uid(&app, moved)).unwrap(), "SEQUENCE").parse().unwrap();

    let change = app
        .patch_as(
            &format!("/api/v1/sessions/{moved}"),
            &organizer.access_token,
            &json!({"starts_at": "2027-03-17T17:00:00Z"}),
        )
        .await;
    assert_eq!(change.status(), 200);
    let cancel = app
        .patch_as(
            &format!("/api/v1/sessions/{cancelled}"),
            &organizer.access_token,
            &json!({"status": "cancelled", "cancel_reason": "Holiday"}),
        )
        .await;
    assert_eq!(cancel.status(), 200);

    let second = fetch(&app, &feed).await;
    let event = by_uid(&second, &session_uid(&app, moved)).expect("the moved session keeps its UID");
    assert_eq!(ev(event, "DTSTART"), "20270317T170000Z");
    let seq_after: i64 = ev(event, "SEQUENCE").parse().unwrap();
    assert!(seq_after > seq_before, "SEQUENCE {seq_before} -> {seq_after}");
    let gone = by_uid(&second, &session_uid(&app, cancelled)).expect("a cancelled session stays in the feed");
    assert_eq!(ev(gone, "STATUS"), "CANCELLED");

    // A rename is a change too.
    let seq_moved = seq_after;
    let renamed = app
        .patch_as(&format!("/api/v1/sessions/{moved}"), &organizer.access_token, &json!({"title": "Special circle"}))
        .await;
    assert_eq!(renamed.status(), 200);
    let third = fetch(&app, &feed).await;
    let event = by_uid(&third, &session_uid(&app, moved)).unwrap();
    assert!(ev(event, "SUMMARY").starts_with("Special circle"));
    assert!(ev(event, "SEQUENCE").parse::<i64>().unwrap() > seq_moved);

    // 31 days after the cancellation it has left the feed.
    app.clock.advance(chrono::Duration::days(31));
    let later = fetch(&app, &feed).await;
    assert!(by_uid(&later, &session_uid(&app, cancelled)).is_none());
}

#[tokio::test]
async fn my_duty_is_in_the_summary_and_the_cohort_feed_names_every_duty_holder() {
    let app = spawn_app().await;
    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Circle").await;
    let member = app.member(&organizer.access_token, &cohort, "member@example.com").await;
    // The rota is planned some weeks ahead: a series starting next week.
    let in_a_week = (app.clock_now() + chrono::Duration::days(7)).date_naive().to_string();
    let series = json!({"title": "Weekly circle", "rrule": "FREQ=WEEKLY", "starts_on": in_a_week,
        "local_time": "18:00", "duration_minutes": 90});
    let created = app.post_json_as(&format!("/api/v1/cohorts/{cohort}/series"), &organizer.access_token, &series).await;
    assert_eq!(created.status(), 201);
    let plan: Value = app
        .post_json_as(&format!("/api/v1/cohorts/{cohort}/rota/plan"), &organizer.access_token, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let duty = plan["duties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["user_id"] == member.id.as_str())
        .expect("the member holds a duty")
        .clone();
    let feed = my_feed(&app, &member).await;
    let calendar = fetch(&app, &feed).await;
    let session_id = duty["session_id"].as_str().unwrap();
    let event = by_uid(&calendar, &session_uid(&app, session_id)).unwrap();
    let role = duty["role"].as_str().unwrap();
    let summary = ev(event, "SUMMARY");
    assert!(summary.starts_with("Weekly circle — you are ") && summary.contains(role), "{summary}");
    assert!(ev(event, "DESCRIPTION").contains(role));

    // The cohort feed: organizers only; every session with its duty holders.
    let path = format!("/api/v1/cohorts/{cohort}/calendar-feed");
    assert_problem(app.post_as(&path, &member.access_token).await, 403, "forbidden").await;
    let created = app.post_as(&path, &organizer.access_token).await;
    assert_eq!(created.status(), 201);
    let url: Value = created.json().await.unwrap();
    let cohort_feed = fetch(&app, &path_of(url["url"].as_str().unwrap(), &app)).await;
    let event = by_uid(&cohort_feed, &session_uid(&app, session_id)).unwrap();
    assert!(ev(event, "DESCRIPTION").contains(&format!("{role}: Test Person")), "{}", ev(event, "DESCRIPTION"));
    let rotated = app.post_as(&path, &organizer.access_token).await;
    assert_eq!(rotated.status(), 200);
}

#[tokio::test]
async fn experiments_show_only_my_own_and_never_another_members_private_one() {
    let app = spawn_app().await;
    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Circle").await;
    let member = app.member(&organizer.access_token, &cohort, "member@example.com").await;
    let due_on = (app.clock_now() + chrono::Duration::days(20)).date_naive().to_string();
    let experiments = format!("/api/v1/cohorts/{cohort}/experiments");
    let theirs = app
        .post_json_as(
            &experiments,
            &member.access_token,
            &json!({"title": "Secret plan", "success_signal": "S", "due_on": due_on, "visibility": "private"}),
        )
        .await;
    assert_eq!(theirs.status(), 201);
    let shared = app
        .post_json_as(
            &experiments,
            &member.access_token,
            &json!({"title": "Open plan", "success_signal": "S", "due_on": due_on, "visibility": "cohort"}),
        )
        .await;
    assert_eq!(shared.status(), 201);
    let mine: Value = app
        .post_json_as(
            &experiments,
            &organizer.access_token,
            &json!({"title": "My plan", "success_signal": "S", "due_on": due_on, "visibility": "private"}),
        )
        .await
        .json()
        .await
        .unwrap();

    let body = app.get(&my_feed(&app, &organizer).await).await.text().await.unwrap();
    assert!(!body.contains("Secret plan"), "another member's private experiment leaked");
    assert!(!body.contains("Open plan"), "only my own experiments are in my feed");
    let calendar = parse(&body);
    let uid = format!("experiment-{}@{}", mine["id"].as_str().unwrap(), host(&app));
    let event = by_uid(&calendar, &uid).expect("my experiment's due date");
    assert!(ev(event, "SUMMARY").contains("My plan"));
    assert_eq!(ev(event, "DTSTART"), due_on.replace('-', ""));

    // The cohort feed holds sessions only: no experiment of anybody's.
    let created: Value = app
        .post_as(&format!("/api/v1/cohorts/{cohort}/calendar-feed"), &organizer.access_token)
        .await
        .json()
        .await
        .unwrap();
    let body = app.get(&path_of(created["url"].as_str().unwrap(), &app)).await.text().await.unwrap();
    assert!(!body.contains("Secret plan") && !body.contains("My plan"));
}

#[tokio::test]
async fn rotation_kills_the_old_url_and_a_feed_token_reads_nothing_else() {
    let app = spawn_app().await;
    let user = app.user("user@example.com").await;
    let first = app.post_as("/api/v1/me/calendar-feed", &user.access_token).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let old = path_of(first["url"].as_str().unwrap(), &app);
    assert_eq!(app.get(&old).await.status(), 200);

    let token = old.trim_start_matches("/feeds/").trim_end_matches(".ics").to_string();
    assert_problem(app.get_as("/api/v1/me", &token).await, 401, "invalid_token").await;
    assert_problem(app.get_as("/api/v1/me/sessions", &token).await, 401, "invalid_token").await;

    let second = app.post_as("/api/v1/me/calendar-feed", &user.access_token).await;
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    let new = path_of(second["url"].as_str().unwrap(), &app);
    assert_ne!(new, old);
    assert_problem(app.get(&old).await, 404, "not_found").await;
    assert_eq!(app.get(&new).await.status(), 200);
    assert_problem(app.get("/feeds/rt_feed_unknown.ics").await, 404, "not_found").await;

    // A personal token may not mint feed URLs: they are credentials of the account.
    let pat = app.personal_token(&user.access_token, &["sessions:read", "sessions:write"]).await;
    assert_problem(app.post_as("/api/v1/me/calendar-feed", &pat).await, 403, "sign_in_required").await;
}

#[tokio::test]
async fn a_member_who_left_sees_nothing_of_that_cohort() {
    let app = spawn_app().await;
    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Circle").await;
    let member = app.member(&organizer.access_token, &cohort, "member@example.com").await;
    let sessions = weekly(&app, &organizer.access_token, &cohort).await;
    let feed = my_feed(&app, &member).await;
    let uid = session_uid(&app, sessions[0]["id"].as_str().unwrap());
    assert!(by_uid(&fetch(&app, &feed).await, &uid).is_some());

    let removed =
        app.delete_as(&format!("/api/v1/cohorts/{cohort}/members/{}", member.id), &organizer.access_token).await;
    assert!(removed.status().is_success(), "remove: {}", removed.status());
    let calendar = fetch(&app, &feed).await;
    assert!(calendar.events.is_empty(), "a member who left still sees {} events", calendar.events.len());
}

#[tokio::test]
async fn one_session_downloads_as_an_ics_for_members_only() {
    let app = spawn_app().await;
    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Circle").await;
    let sessions = weekly(&app, &organizer.access_token, &cohort).await;
    let session_id = sessions[0]["id"].as_str().unwrap();
    let path = format!("/api/v1/sessions/{session_id}/calendar.ics");

    let response = app.get_as(&path, &organizer.access_token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/calendar; charset=utf-8");
    assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"Weekly circle.ics\"");
    let calendar = parse(&response.text().await.unwrap());
    assert_eq!(calendar.events.len(), 1);
    assert_eq!(ev(&calendar.events[0], "UID"), session_uid(&app, session_id));
    assert_eq!(ev(&calendar.events[0], "DTSTART"), "20270316T170000Z");

    let pat = app.personal_token(&organizer.access_token, &["sessions:read"]).await;
    assert_eq!(app.get_as(&path, &pat).await.status(), 200);
    let stranger = app.user("stranger@example.com").await;
    assert_problem(app.get_as(&path, &stranger.access_token).await, 404, "not_found").await;
    assert_problem(app.get(&path).await, 401, "missing_token").await;
}

/// The "Add it to my calendar" link of a session's mail: a GET (no sign-in, as a mail reader
/// clicks it) downloads the same VEVENT as the member's own download, changes nothing, works
/// again, and stops working when its recipient leaves the cohort.
#[tokio::test]
async fn a_mails_add_to_calendar_link_downloads_the_session_for_its_recipient_only() {
    use roundtable::db::UserId;
    use roundtable::notifications::links::{self, LinkAction};
    let app = spawn_app().await;
    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Circle").await;
    let member = app.member(&organizer.access_token, &cohort, "member@example.com").await;
    let sessions = weekly(&app, &organizer.access_token, &cohort).await;
    let session_id = sessions[0]["id"].as_str().unwrap();
    let url = links::issue(
        &mut app.db(),
        &app.base,
        &UserId::from_untyped(&member.id),
        LinkAction::AddToCalendar,
        session_id,
        app.clock_now(),
    )
    .expect("issue a link");
    let own = app.get_as(&format!("/api/v1/sessions/{session_id}/calendar.ics"), &member.access_token).await;
    let own = own.text().await.unwrap();

    for _ in 0..2 {
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/calendar; charset=utf-8");
        assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"Weekly circle.ics\"");
        let body = response.text().await.unwrap();
        assert_eq!(body, own, "the same file as the member's own download");
        let calendar = parse(&body);
        assert_eq!(ev(&calendar.events[0], "UID"), session_uid(&app, session_id));
    }
    // A POST to it does nothing and says so.
    let pressed = app.client.post(&url).header("content-type", "application/x-www-form-urlencoded").send().await;
    let pressed = pressed.unwrap();
    assert_eq!(pressed.status(), 200);
    assert!(pressed.text().await.unwrap().contains("Nothing to do"));

    let removed =
        app.delete_as(&format!("/api/v1/cohorts/{cohort}/members/{}", member.id), &organizer.access_token).await;
    assert!(removed.status().is_success(), "remove: {}", removed.status());
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    assert!(!response.text().await.unwrap().contains("BEGIN:VCALENDAR"));
}
