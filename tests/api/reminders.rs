//! The reminder engine end to end, through a real SMTP server: planned ahead, sent once when due
//! with the headers a mail client needs, re-planned when a session moves, and notices written
//! from the event stream (a duty given, a cover asked, a charter adopted).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use roundtable::db::schema::notifications;
use roundtable::jobs::Jobs;
use serde_json::{Value, json};

use crate::helpers::{ReceivedMail, TestApp, spawn_app};
use crate::rota::{Cohort, cohort, plan, rota};

fn period() -> Duration {
    Duration::seconds(60)
}

/// Plans, reads the stream, queues what is due and sends it: one full turn of the engine.
pub(crate) async fn turn(app: &TestApp) {
    let jobs = Jobs::new(app.state.clone());
    jobs.reminders(period()).await;
    app.state.mailer.deliver_due().await.unwrap();
    app.outbox_settled().await;
}

pub(crate) fn mails_of_kind(app: &TestApp, to: &str, kind: &str) -> Vec<ReceivedMail> {
    app.mail().mails_to(to).into_iter().filter(|m| m.kind.as_deref() == Some(kind)).collect()
}

fn first_session(sessions: &[Value]) -> (String, DateTime<Utc>) {
    let s = &sessions[0];
    (s["session_id"].as_str().unwrap().to_string(), s["starts_at"].as_str().unwrap().parse().unwrap())
}

async fn planned_cohort(app: &TestApp) -> (Cohort, String, DateTime<Utc>) {
    let c = cohort(app, 3).await;
    plan(app, &c, 2).await;
    let (session, starts_at) = first_session(&rota(app, &c).await);
    (c, session, starts_at)
}

fn emails(c: &Cohort) -> Vec<String> {
    (0..c.members.len()).map(|i| format!("m{i}@example.com")).collect()
}

#[tokio::test]
async fn session_reminders_are_planned_ahead_and_sent_once_each_with_list_headers_and_links() {
    let app = spawn_app().await;
    let (c, session, starts_at) = planned_cohort(&app).await;
    turn(&app).await;

    // Planned well before they fall due, and listed for the member.
    let page: Value = app.get_as("/api/v1/me/notifications", &c.members[0].access_token).await.json().await.unwrap();
    let soon: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "session_soon" && n["subject"]["id"] == session.as_str())
        .collect();
    assert!(!soon.is_empty(), "planned: {page}");
    assert!(soon.iter().all(|n| n["status"] == "planned" && n["cohort"]["name"] == "Rota"));

    // An hour before the start: the "1 h before" goes out to each member, once.
    app.clock.advance(starts_at - Duration::minutes(59) - app.clock_now());
    turn(&app).await;
    turn(&app).await;
    for address in emails(&c) {
        let mails = mails_of_kind(&app, &address, "session_soon");
        let hour_before: Vec<&ReceivedMail> = mails.iter().filter(|m| m.subject.starts_with("Reminder:")).collect();
        assert_eq!(hour_before.len(), mails.len());
        assert!(!mails.is_empty(), "{address} got the reminder");
        let mail = mails.last().unwrap();
        assert!(mail.alternative, "multipart/alternative");
        assert!(mail.message_id.is_some());
        assert!(mail.list_id.as_deref().unwrap().contains(&format!("<{}.cohorts.", c.id)), "{:?}", mail.list_id);
        let unsubscribe = mail.list_unsubscribe.as_deref().unwrap();
        assert!(unsubscribe.starts_with('<') && unsubscribe.ends_with('>'));
        assert_eq!(mail.list_unsubscribe_post.as_deref(), Some("List-Unsubscribe=One-Click"));
        assert!(mail.link("I'll be there").is_some() && mail.link("I can't come").is_some(), "{}", mail.text);
        assert!(mail.html.contains("I&#39;ll be there") || mail.html.contains("I'll be there"));
        let calendar = app.client.get(mail.link("Add it to my calendar").expect("a calendar link")).send().await;
        let calendar = calendar.unwrap();
        assert_eq!(calendar.headers()["content-type"], "text/calendar; charset=utf-8");
        assert!(calendar.text().await.unwrap().contains(&format!("UID:session-{session}@")));
    }
    let sent_before = app.mail().mails_to("m0@example.com").len();
    turn(&app).await;
    assert_eq!(app.mail().mails_to("m0@example.com").len(), sent_before, "nothing twice");

    let token = app.sign_in("m0@example.com").await;
    let page: Value = app.get_as("/api/v1/me/notifications", &token).await.json().await.unwrap();
    let sent = page["items"].as_array().expect("a page").iter().find(|n| n["status"] == "sent").expect("one sent");
    assert!(sent["sent_at"].is_string() && sent["title"].as_str().unwrap().starts_with("Reminder:"));
}

#[tokio::test]
async fn a_moved_session_withdraws_its_reminders_plans_new_ones_and_tells_the_members() {
    let app = spawn_app().await;
    let (c, session, starts_at) = planned_cohort(&app).await;
    turn(&app).await;
    let later = starts_at + Duration::hours(2);
    let moved = app
        .patch_as(&format!("/api/v1/sessions/{session}"), &c.organizer.access_token, &json!({"starts_at": later}))
        .await;
    assert_eq!(moved.status(), 200);
    turn(&app).await;

    let mut conn = app.db();
    let rows: Vec<(String, Option<chrono::NaiveDateTime>, String)> = notifications::table
        .filter(notifications::subject_id.eq(&session))
        .filter(notifications::kind.eq("session_soon"))
        .select((notifications::status, notifications::occurs_at, notifications::user_id))
        .load(&mut conn)
        .unwrap();
    let at = |t: DateTime<Utc>| Some(t.naive_utc());
    assert!(rows.iter().filter(|r| r.1 == at(starts_at)).all(|r| r.0 == "withdrawn"), "{rows:?}");
    assert!(rows.iter().any(|r| r.1 == at(later) && r.0 == "planned"), "{rows:?}");

    for address in emails(&c) {
        let notices = mails_of_kind(&app, &address, "session_changed");
        assert_eq!(notices.len(), 1, "{address}: one notice");
        assert!(notices[0].subject.starts_with("Moved:"), "{}", notices[0].subject);
        assert!(notices[0].text.contains(" moved from "), "{}", notices[0].text);
    }
    assert!(mails_of_kind(&app, "ada@example.com", "session_changed").is_empty(), "who moved it knows");

    // The hour before the new time: reminded once, at the new time only.
    app.clock.advance(later - Duration::minutes(30) - app.clock_now());
    turn(&app).await;
    let reminders = mails_of_kind(&app, "m0@example.com", "session_soon");
    assert_eq!(reminders.len(), 1, "{:?}", reminders.iter().map(|m| &m.subject).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_kind_turned_off_is_not_planned_and_not_sent() {
    let app = spawn_app().await;
    let (c, _session, starts_at) = planned_cohort(&app).await;
    let off = json!({"kinds": {"session_soon": {"email": false}, "duty_soon": {"email": false}}});
    let put = app.put_as("/api/v1/me/notification-preferences", &c.members[0].access_token, &off).await;
    assert_eq!(put.status(), 200);
    turn(&app).await;
    app.clock.advance(starts_at - Duration::minutes(59) - app.clock_now());
    turn(&app).await;
    assert!(mails_of_kind(&app, "m0@example.com", "session_soon").is_empty());
    assert!(!mails_of_kind(&app, "m1@example.com", "session_soon").is_empty());
}

/// The address of a person of the cohort.
fn email_of(c: &Cohort, id: &str) -> String {
    if c.organizer.id == id {
        return "ada@example.com".into();
    }
    let i = c.members.iter().position(|m| m.id == id).expect("a member");
    format!("m{i}@example.com")
}

fn everyone(c: &Cohort) -> Vec<String> {
    c.members.iter().map(|m| m.id.clone()).chain([c.organizer.id.clone()]).collect()
}

#[tokio::test]
async fn asks_and_answers_about_duties_reach_the_people_they_concern_with_links_that_act() {
    use crate::rota_swaps::{asks, duties, free_in};
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    let result = plan(&app, &c, 2).await;
    let all = duties(&result);
    turn(&app).await;

    // A cover asked of anyone: those free in that session are asked, not the asker, not those on duty.
    let mine = all[0].clone();
    let me = mine["user_id"].as_str().unwrap().to_string();
    let cover = app.post_json_as(&asks(&mine), c.token_of(&me), &json!({"kind": "cover"})).await;
    assert_eq!(cover.status(), 201);
    turn(&app).await;
    let on_duty: Vec<&str> =
        all.iter().filter(|d| d["session_id"] == mine["session_id"]).filter_map(|d| d["user_id"].as_str()).collect();
    for person in everyone(&c) {
        let got = mails_of_kind(&app, &email_of(&c, &person), "cover_needed");
        if on_duty.contains(&person.as_str()) {
            assert!(got.is_empty(), "{person} is on duty there");
        } else {
            assert_eq!(got.len(), 1, "{person} is free and is asked");
            assert!(got[0].subject.starts_with("Cover needed:"), "{}", got[0].subject);
            assert!(got[0].link(&format!("I'll be {}", mine["role"].as_str().unwrap())).is_some(), "{}", got[0].text);
        }
    }

    // A swap asked of one peer: only they hear of it, with accept and decline.
    let other = all.iter().find(|d| d["session_id"] != mine["session_id"]).unwrap().clone();
    let asker = other["user_id"].as_str().unwrap().to_string();
    let peer = free_in(&c, &all, &other["session_id"]);
    let peer_duty = all
        .iter()
        .find(|d| d["user_id"] == peer.as_str() && d["session_id"] != other["session_id"])
        .expect("the peer has a duty elsewhere");
    let swap = app
        .post_json_as(
            &asks(&other),
            c.token_of(&asker),
            &json!({"kind": "swap", "peer_id": peer, "peer_assignment_id": peer_duty["id"]}),
        )
        .await;
    assert_eq!(swap.status(), 201, "{:?}", swap.text().await);
    let swap: Value = swap.json().await.unwrap();
    turn(&app).await;
    let asked = mails_of_kind(&app, &email_of(&c, &peer), "swap_asked");
    assert_eq!(asked.len(), 1);
    assert!(asked[0].link("Accept the swap").is_some() && asked[0].link("Decline").is_some(), "{}", asked[0].text);

    // The peer declines: the asker is told who answered what.
    let decline = format!("/api/v1/swap-requests/{}/decline", swap["id"].as_str().unwrap());
    assert_eq!(app.post_as(&decline, c.token_of(&peer)).await.status(), 200);
    turn(&app).await;
    let answered = mails_of_kind(&app, &email_of(&c, &asker), "swap_answered");
    assert_eq!(answered.len(), 1);
    assert!(answered[0].subject.contains(" declined "), "{}", answered[0].subject);
    turn(&app).await;
    assert_eq!(mails_of_kind(&app, &email_of(&c, &asker), "swap_answered").len(), 1, "once");
}

#[tokio::test]
async fn an_adopted_charter_asks_each_member_to_accept_it_and_repeats_once_to_those_who_did_not() {
    let app = spawn_app().await;
    let c = cohort(&app, 2).await;
    let draft: Value = app
        .post_json_as(
            &c.path("/charter/versions"),
            &c.organizer.access_token,
            &json!({"mission": "Learn", "weekly_minutes": 60, "review_cadence": {"every": 3, "unit": "months"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(draft["id"].is_string(), "{draft}");
    let adopt = c.path(&format!("/charter/versions/{}/adopt", draft["id"].as_str().unwrap()));
    assert_eq!(app.post_as(&adopt, &c.organizer.access_token).await.status(), 200);
    turn(&app).await;
    for address in ["m0@example.com", "m1@example.com"] {
        let asked = mails_of_kind(&app, address, "charter_to_accept");
        assert_eq!(asked.len(), 1, "{address}");
        assert!(asked[0].link("Accept the charter").is_some());
    }
    // m0 accepts; a week later only m1 hears again.
    let accept = json!({"version_id": draft["id"]});
    assert_eq!(
        app.post_json_as(&c.path("/charter/acceptances"), &c.members[0].access_token, &accept).await.status(),
        201
    );
    app.clock.advance(Duration::days(7) + Duration::hours(1));
    turn(&app).await;
    assert_eq!(mails_of_kind(&app, "m0@example.com", "charter_to_accept").len(), 1);
    let again = mails_of_kind(&app, "m1@example.com", "charter_to_accept");
    assert_eq!(again.len(), 2);
    assert!(again[1].subject.starts_with("A gentle reminder"), "{}", again[1].subject);
    turn(&app).await;
    assert_eq!(mails_of_kind(&app, "m1@example.com", "charter_to_accept").len(), 2, "one repeat only");
}

#[tokio::test]
async fn two_replicas_planning_and_sending_at_once_send_each_reminder_once() {
    use crate::helpers::spawn_replica;
    let app = spawn_app().await;
    let replica = spawn_replica(&app).await;
    let (c, _session, starts_at) = planned_cohort(&app).await;
    let (a, b) = (Jobs::new(app.state.clone()), Jobs::new(replica.state.clone()));
    // Both plan with no lease between them (as if each thought the other was gone).
    let (db_a, db_b, now) = (app.state.db.clone(), replica.state.db.clone(), app.clock_now());
    let (pa, pb) = tokio::join!(
        db_a.write(move |conn| roundtable::notifications::engine::plan_sessions(conn, now, None)),
        db_b.write(move |conn| roundtable::notifications::engine::plan_sessions(conn, now, None)),
    );
    let (pa, pb) = (pa.unwrap(), pb.unwrap());
    assert!(pa.added > 0 || pb.added > 0);
    let stored: i64 = notifications::table.count().get_result(&mut app.db()).unwrap();
    assert_eq!(stored as usize, pa.added + pb.added, "each key stored once");

    app.clock.advance(starts_at - Duration::minutes(59) - app.clock_now());
    for _ in 0..3 {
        let (ra, rb) = tokio::join!(a.notify(), b.notify());
        ra.unwrap();
        rb.unwrap();
        let (da, db) = tokio::join!(app.state.mailer.deliver_due(), replica.state.mailer.deliver_due());
        da.unwrap();
        db.unwrap();
    }
    app.outbox_settled().await;
    for address in emails(&c) {
        let total = mails_of_kind(&app, &address, "session_soon").len()
            + mails_of_kind(&replica, &address, "session_soon").len();
        assert_eq!(total, 1, "{address}: sent once across both replicas");
    }
}

#[tokio::test]
async fn while_the_mail_server_refuses_reminders_wait_and_each_goes_out_once_when_it_is_back() {
    use std::sync::atomic::Ordering;
    let app = spawn_app().await;
    let (c, _session, starts_at) = planned_cohort(&app).await;
    turn(&app).await;
    app.mail().refuse.store(true, Ordering::SeqCst);
    // Ten minutes before the hour-before reminder until twenty after it, a turn a minute.
    app.clock.advance(starts_at - Duration::minutes(70) - app.clock_now());
    for _ in 0..30 {
        app.clock.advance(Duration::minutes(1));
        turn(&app).await;
    }
    assert!(mails_of_kind(&app, "m0@example.com", "session_soon").is_empty(), "nothing got through");
    let mut conn = app.db();
    let waiting: i64 = roundtable::db::schema::outbound_mail::table
        .filter(roundtable::db::schema::outbound_mail::kind.eq("session_soon"))
        .filter(roundtable::db::schema::outbound_mail::status.eq("pending"))
        .filter(roundtable::db::schema::outbound_mail::attempts.gt(1))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!(waiting >= emails(&c).len() as i64, "retried with back-off: {waiting}");

    app.mail().refuse.store(false, Ordering::SeqCst);
    for _ in 0..10 {
        app.clock.advance(Duration::minutes(2));
        turn(&app).await;
    }
    for address in emails(&c) {
        let got = mails_of_kind(&app, &address, "session_soon");
        assert_eq!(
            got.len(),
            1,
            "{address}: once, after the outage: {:?} starts {starts_at} now {}",
            got.iter().map(|m| m.subject.clone()).collect::<Vec<_>>(),
            app.clock_now()
        );
    }
}

#[tokio::test]
async fn a_quiet_experiment_asks_for_a_check_in_once_a_stretch_and_a_check_in_resets_it() {
    let app = spawn_app().await;
    let c = cohort(&app, 1).await;
    let body = json!({"title": "Ship daily", "success_signal": "It shows"});
    let experiment: Value =
        app.post_json_as(&c.path("/experiments"), &c.members[0].access_token, &body).await.json().await.unwrap();
    let id = experiment["id"].as_str().expect("committed").to_string();
    turn(&app).await;
    app.clock.advance(Duration::days(6));
    turn(&app).await;
    assert!(mails_of_kind(&app, "m0@example.com", "checkin_due").is_empty(), "not quiet long enough");
    app.clock.advance(Duration::days(1) + Duration::minutes(5));
    turn(&app).await;
    turn(&app).await;
    let asked = mails_of_kind(&app, "m0@example.com", "checkin_due");
    assert_eq!(asked.len(), 1);
    assert!(asked[0].subject.contains("Ship daily") && asked[0].link("Check in now").is_some(), "{}", asked[0].text);

    // A check-in starts a new stretch: nothing for six days, then one more.
    let token = app.sign_in("m0@example.com").await;
    let check_in =
        app.post_json_as(&format!("/api/v1/experiments/{id}/check-ins"), &token, &json!({"done": "Shipped"})).await;
    assert_eq!(check_in.status(), 201);
    app.clock.advance(Duration::days(6));
    turn(&app).await;
    assert_eq!(mails_of_kind(&app, "m0@example.com", "checkin_due").len(), 1);
    app.clock.advance(Duration::days(1) + Duration::minutes(5));
    turn(&app).await;
    assert_eq!(mails_of_kind(&app, "m0@example.com", "checkin_due").len(), 2);
}

/// Follows a link from a mail as a mail client and its reader would: GET shows a page with one
/// form and changes nothing; pressing its button POSTs the form.
pub(crate) async fn press(app: &TestApp, url: &str, form: &str) -> (u16, String) {
    let page = app.client.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200, "the link's page");
    assert!(page.text().await.unwrap().contains("method=\"post\""), "one button that POSTs");
    let done = app
        .client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .unwrap();
    (done.status().as_u16(), done.text().await.unwrap())
}

#[tokio::test]
async fn a_member_who_only_reads_mail_confirms_a_duty_and_unsubscribes_from_the_links_in_a_reminder() {
    let app = spawn_app().await;
    let mut c = cohort(&app, 3).await;
    plan(&app, &c, 2).await;
    // The second session: its "a day before" is still ahead.
    let second = rota(&app, &c).await[1].clone();
    let (session, starts_at): (String, DateTime<Utc>) =
        (second["session_id"].as_str().unwrap().into(), second["starts_at"].as_str().unwrap().parse().unwrap());
    turn(&app).await;
    app.clock.advance(starts_at - Duration::hours(24) + Duration::minutes(1) - app.clock_now());
    turn(&app).await;
    c.organizer.access_token = app.sign_in("ada@example.com").await;
    let first = rota(&app, &c).await.into_iter().find(|s| s["session_id"] == session.as_str()).unwrap();
    let i = c
        .members
        .iter()
        .position(|m| first["duties"].as_array().unwrap().iter().any(|d| d["user_id"] == m.id.as_str()))
        .expect("a member on duty");
    let address = format!("m{i}@example.com");
    let duty = mails_of_kind(&app, &address, "duty_soon");
    let duty = duty.first().expect("on duty in the first session and reminded a day before");
    let confirm = duty.text.lines().find_map(|l| l.strip_prefix("Confirm I'll be ").and_then(|r| r.split_once(": ")));
    let (role, url) = confirm.expect("a confirm link");
    let (status, page) = press(&app, url, "").await;
    assert_eq!(status, 200, "{page}");
    let rota = rota(&app, &c).await;
    let mine = rota
        .iter()
        .find(|s| s["session_id"] == session.as_str())
        .and_then(|s| {
            s["duties"].as_array().unwrap().iter().find(|d| d["user_id"] == c.members[i].id.as_str()).cloned()
        })
        .unwrap();
    assert_eq!(mine["confirmed"], true, "{mine}");
    assert_eq!(mine["role"], role.trim_end());

    // One-click unsubscribe from the header, as a mail client does it (RFC 8058).
    let header = duty.list_unsubscribe.as_deref().unwrap();
    let unsubscribe = header.trim_start_matches('<').trim_end_matches('>');
    let done = app
        .client
        .post(unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let token = app.sign_in(&address).await;
    let prefs: Value = app.get_as("/api/v1/me/notification-preferences", &token).await.json().await.unwrap();
    assert_eq!(prefs["kinds"]["duty_soon"]["email"], false);
    assert_eq!(prefs["kinds"]["session_soon"]["email"], true, "only that kind");
}

#[tokio::test]
async fn a_weekly_session_across_the_spring_dst_change_is_reminded_once_each_time_at_the_same_local_hour() {
    use chrono::TimeZone;
    let app = spawn_app().await;
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    // The week before Europe moves its clocks on (Sunday 28 March 2027).
    let start = berlin.with_ymd_and_hms(2027, 3, 15, 12, 0, 0).unwrap().with_timezone(&Utc);
    app.clock.advance(start - app.clock_now());
    let c = crate::sessions::cohort(&app, "Europe/Berlin").await;
    let zone = json!({"time_zone": "Europe/Berlin"});
    assert_eq!(app.patch_as("/api/v1/me", &c.member.access_token, &zone).await.status(), 200);
    crate::sessions::weekly(&app, &c, "2027-03-16", "18:00").await;
    for _ in 0..(24 * 23) {
        turn(&app).await;
        app.clock.advance(Duration::hours(1));
    }
    let mails = mails_of_kind(&app, "max@example.com", "session_soon");
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    // Tuesdays 16, 23, 30 March and 6 April: a day and an hour before each, each once, at 18:00
    // local in the subject whichever side of the change.
    assert_eq!(mails.len(), 8, "{subjects:#?}");
    for day in ["16 Mar", "23 Mar", "30 Mar", "6 Apr"] {
        let of_day: Vec<&&str> = subjects.iter().filter(|s| s.contains(&format!(" {day}, 18:00"))).collect();
        assert_eq!(of_day.len(), 2, "{day}: {subjects:#?}");
    }
    let planned: Vec<(String, chrono::NaiveDateTime)> = notifications::table
        .filter(notifications::kind.eq("session_soon"))
        .filter(notifications::user_id.eq(&c.member.id))
        .filter(notifications::status.eq("queued"))
        .select((notifications::key, notifications::planned_at))
        .load(&mut app.db())
        .unwrap();
    for (key, at) in planned {
        let local = at.and_utc().with_timezone(&berlin).format("%H:%M").to_string();
        let expected = if key.contains(":60:") { "17:00" } else { "18:00" };
        assert_eq!(local, expected, "{key}");
    }
}

#[tokio::test]
async fn a_notice_that_falls_in_quiet_hours_waits_for_their_end_in_the_recipients_zone() {
    use crate::rota_swaps::{asks, duties};
    use chrono::{TimeZone, Timelike};
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    let all = duties(&plan(&app, &c, 2).await);
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    // Everyone sleeps 22:00-07:00 Berlin time.
    for token in c.members.iter().map(|m| &m.access_token).chain([&c.organizer.access_token]) {
        assert_eq!(app.patch_as("/api/v1/me", token, &json!({"time_zone": "Europe/Berlin"})).await.status(), 200);
        let quiet = json!({"quiet_hours": {"start": "22:00", "end": "07:00"}});
        assert_eq!(app.put_as("/api/v1/me/notification-preferences", token, &quiet).await.status(), 200);
    }
    // A cover asked at 23:00 Berlin, for the second week's session.
    let local_now = app.clock_now().with_timezone(&berlin);
    let eleven = berlin.from_local_datetime(&local_now.date_naive().and_hms_opt(23, 0, 0).unwrap()).unwrap();
    let eleven = if eleven.with_timezone(&Utc) <= app.clock_now() { eleven + Duration::days(1) } else { eleven };
    app.clock.advance(eleven.with_timezone(&Utc) - app.clock_now());
    let later: Vec<&Value> = all.iter().filter(|d| d["session_id"] != all[0]["session_id"]).collect();
    let mine = later[0];
    let me = mine["user_id"].as_str().unwrap().to_string();
    let token =
        if me == c.organizer.id { app.sign_in("ada@example.com").await } else { app.sign_in(&email_of(&c, &me)).await };
    assert_eq!(app.post_json_as(&asks(mine), &token, &json!({"kind": "cover"})).await.status(), 201);
    turn(&app).await;
    app.clock.advance(Duration::hours(7) + Duration::minutes(30)); // 06:30
    turn(&app).await;
    let asked = |app: &TestApp| -> usize {
        everyone(&c).iter().map(|person| mails_of_kind(app, &email_of(&c, person), "cover_needed").len()).sum()
    };
    assert_eq!(asked(&app), 0, "held through the night");
    app.clock.advance(Duration::minutes(31)); // 07:01
    turn(&app).await;
    assert!(asked(&app) > 0, "sent when the quiet hours end");
    let planned: Vec<chrono::NaiveDateTime> = notifications::table
        .filter(notifications::kind.eq("cover_needed"))
        .select(notifications::planned_at)
        .load(&mut app.db())
        .unwrap();
    assert!(planned.iter().all(|t| t.and_utc().with_timezone(&berlin).hour() == 7), "{planned:?}");
}

/// The next `weekday` at `hour`:00 in Berlin after the app's clock.
fn next_berlin(app: &TestApp, weekday: chrono::Weekday, hour: u32) -> DateTime<Utc> {
    use chrono::{Datelike, TimeZone};
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let mut day = app.clock_now().with_timezone(&berlin).date_naive() + Duration::days(1);
    while day.weekday() != weekday {
        day += Duration::days(1);
    }
    berlin.from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap()).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn on_mondays_at_eight_each_member_gets_what_is_coming_and_what_is_owed() {
    let app = spawn_app().await;
    let c = crate::sessions::cohort(&app, "Europe/Berlin").await;
    let zone = json!({"time_zone": "Europe/Berlin"});
    assert_eq!(app.patch_as("/api/v1/me", &c.member.access_token, &zone).await.status(), 200);
    let monday = next_berlin(&app, chrono::Weekday::Mon, 8);
    let tuesday = (monday + Duration::days(1)).with_timezone(&chrono_tz::Europe::Berlin).date_naive().to_string();
    crate::sessions::weekly(&app, &c, &tuesday, "18:00").await;
    app.clock.advance(monday - Duration::hours(20) - app.clock_now());
    turn(&app).await;
    assert!(mails_of_kind(&app, "max@example.com", "digest").is_empty(), "not before Monday 08:00");
    app.clock.advance(monday + Duration::minutes(1) - app.clock_now());
    turn(&app).await;
    turn(&app).await;
    let digests = mails_of_kind(&app, "max@example.com", "digest");
    assert_eq!(digests.len(), 1);
    assert!(digests[0].text.contains("Coming up and owed:"), "{}", digests[0].text);
    assert!(digests[0].text.contains("18:00 (Europe/Berlin)"), "{}", digests[0].text);
    assert!(digests[0].list_unsubscribe.is_some());
}

#[tokio::test]
async fn a_member_on_a_daily_digest_gets_answers_and_notices_gathered_at_eight_not_one_by_one() {
    use crate::rota_swaps::{asks, duties, free_in};
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    let all = duties(&plan(&app, &c, 2).await);
    let mine = all.iter().find(|d| c.members.iter().any(|m| m.id == d["user_id"].as_str().unwrap())).unwrap().clone();
    let me = mine["user_id"].as_str().unwrap().to_string();
    let peer = free_in(&c, &all, &mine["session_id"]);
    let token = c.token_of(&me).to_string();
    let daily = json!({"digest": "daily"});
    assert_eq!(app.put_as("/api/v1/me/notification-preferences", &token, &daily).await.status(), 200);
    let ask = app.post_json_as(&asks(&mine), &token, &json!({"kind": "cover", "peer_id": peer})).await;
    let ask: Value = ask.json().await.unwrap();
    let decline = format!("/api/v1/swap-requests/{}/decline", ask["id"].as_str().unwrap());
    assert_eq!(app.post_as(&decline, c.token_of(&peer)).await.status(), 200);
    turn(&app).await;
    let address = email_of(&c, &me);
    assert!(mails_of_kind(&app, &address, "swap_answered").is_empty(), "gathered, not sent alone");
    // The member's zone is UTC (the default): the digest goes at 08:00 UTC.
    let eight = {
        let today = app.clock_now().date_naive();
        let at = today.and_hms_opt(8, 0, 0).unwrap().and_utc();
        if at > app.clock_now() { at } else { at + Duration::days(1) }
    };
    app.clock.advance(eight + Duration::minutes(1) - app.clock_now());
    turn(&app).await;
    let digests = mails_of_kind(&app, &address, "digest");
    assert_eq!(digests.len(), 1, "one digest");
    assert!(digests[0].text.contains(" declined your request"), "{}", digests[0].text);
    assert!(mails_of_kind(&app, &address, "swap_answered").is_empty());
    let mine: Value = app.get_as("/api/v1/me/notifications", &app.sign_in(&address).await).await.json().await.unwrap();
    let answered = mine["items"].as_array().unwrap().iter().find(|n| n["kind"] == "swap_answered").unwrap();
    assert_eq!(answered["status"], "sent", "{answered}");
}

/// The URL on the line of `mail` that starts with `label`.
fn link_starting(mail: &ReceivedMail, label: &str) -> String {
    mail.text
        .lines()
        .find(|l| l.starts_with(label))
        .and_then(|l| l.split_once(": ").map(|(_, url)| url.trim().to_string()))
        .unwrap_or_else(|| panic!("no {label:?} link in {}", mail.text))
}

#[tokio::test]
async fn a_member_who_never_opens_the_app_runs_their_weeks_from_the_links_in_their_mail() {
    let app = spawn_app().await;
    let mut c = cohort(&app, 3).await;
    let (address, who) = ("m1@example.com", c.members[1].id.clone());
    turn(&app).await;

    // Joining: the invitation mail links to the app's invitation page, served by the binary (one
    // button; the page POSTs the secret from the link's fragment, as below; tested in a browser in
    // pwa/tests/cohort.spec.ts). Opening the link changes nothing.
    let newcomer = app.user("newcomer@example.com").await;
    let invited = app
        .post_json_as(&c.path("/invitations"), &c.organizer.access_token, &json!({"emails": ["newcomer@example.com"]}))
        .await;
    assert_eq!(invited.status(), 201);
    app.outbox_settled().await;
    let invitation = mails_of_kind(&app, "newcomer@example.com", "invitation").pop().expect("the invitation mail");
    let link = invitation.text.split_whitespace().find(|w| w.contains("/app/invitation#token=")).expect("the link");
    let path = link[link.find("/app/").unwrap()..].split_once('#').unwrap().0;
    let page = app.get(path).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("id=\"app\""), "the app's page");
    let members: Value = app.get_as(&c.path("/members"), &c.organizer.access_token).await.json().await.unwrap();
    assert!(!members.to_string().contains(&newcomer.id), "opening the page joined nobody");
    let joined = app
        .post_json_as("/api/v1/invitations/accept", &newcomer.access_token, &json!({"token": invitation.link_token()}))
        .await;
    assert_eq!(joined.status(), 200, "the page's one button");
    let members: Value = app.get_as(&c.path("/members"), &c.organizer.access_token).await.json().await.unwrap();
    assert!(members.to_string().contains(&newcomer.id), "a member now: {members}");

    // The charter is adopted: the mail asks, the link accepts.
    let draft: Value = app
        .post_json_as(
            &c.path("/charter/versions"),
            &c.organizer.access_token,
            &json!({"mission": "Learn", "weekly_minutes": 60, "review_cadence": {"every": 3, "unit": "months"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let adopt = c.path(&format!("/charter/versions/{}/adopt", draft["id"].as_str().unwrap()));
    assert_eq!(app.post_as(&adopt, &c.organizer.access_token).await.status(), 200);
    turn(&app).await;
    let charter = &mails_of_kind(&app, address, "charter_to_accept")[0];
    assert!(press(&app, &charter.link("Accept the charter").unwrap(), "").await.0 < 300, "the link acted");
    let theirs = &mails_of_kind(&app, "newcomer@example.com", "charter_to_accept")[0];
    assert!(press(&app, &theirs.link("Accept the charter").unwrap(), "").await.0 < 300, "the newcomer's too");

    // The rota is planned: duties given by mail, one confirmed from its link, one handed on.
    plan(&app, &c, 2).await;
    turn(&app).await;
    let given = mails_of_kind(&app, address, "duty_changed");
    assert!(!given.is_empty(), "told of the duties given");
    assert!(press(&app, &link_starting(&given[0], "Confirm I'll be "), "").await.0 < 300, "the link acted");
    let duties: Vec<Value> =
        rota(&app, &c).await.iter().flat_map(|s| s["duties"].as_array().unwrap().clone()).collect();
    assert!(duties.iter().any(|d| d["user_id"] == who.as_str() && d["confirmed"] == true), "a duty confirmed");
    if given.len() > 1 {
        assert!(press(&app, &link_starting(&given[1], "I can't make it"), "").await.0 < 300, "the link acted");
        let asks: Value = app.get_as(&c.path("/swap-requests"), &c.organizer.access_token).await.json().await.unwrap();
        assert!(
            asks["items"].as_array().unwrap().iter().any(|a| a["requester_id"] == who.as_str() && a["kind"] == "cover"),
            "{asks}"
        );
    }

    // The session's reminder: "I'll be there".
    let (_session, starts_at) = first_session(&rota(&app, &c).await);
    app.clock.advance(starts_at - Duration::minutes(59) - app.clock_now());
    turn(&app).await;
    let soon = mails_of_kind(&app, address, "session_soon");
    assert!(press(&app, &soon[0].link("I'll be there").unwrap(), "").await.0 < 300, "the link acted");
    let home: Value =
        app.get_as("/api/v1/me/sessions?limit=1", &app.sign_in(address).await).await.json().await.unwrap();
    assert_eq!(home["items"][0]["my_rsvp"]["response"], "yes", "{}", home["items"][0]);

    // An experiment (committed in a session, by the facilitator's hand here) goes quiet: check in by mail.
    let token = app.sign_in(address).await;
    let experiment: Value = app
        .post_json_as(&c.path("/experiments"), &token, &json!({"title": "Ask for help", "success_signal": "I asked"}))
        .await
        .json()
        .await
        .unwrap();
    app.clock.advance(Duration::days(7) + Duration::minutes(5));
    turn(&app).await;
    let due = &mails_of_kind(&app, address, "checkin_due")[0];
    let form = "done=Asked+twice&next=Ask+in+the+session&blockers=";
    assert!(press(&app, &due.link("Check in now").unwrap(), form).await.0 < 300, "the link acted");

    // Everything happened, as the app shows it.
    c.organizer.access_token = app.sign_in("ada@example.com").await;
    let token = app.sign_in(address).await;
    let acceptances: Value =
        app.get_as(&c.path("/charter/acceptances"), &c.organizer.access_token).await.json().await.unwrap();
    assert!(acceptances.to_string().contains(&who), "charter accepted: {acceptances}");
    assert!(
        acceptances["accepted"].as_array().unwrap().iter().any(|a| a["user_id"] == newcomer.id.as_str()),
        "the newcomer accepted too: {acceptances}"
    );
    let check_ins: Value = app
        .get_as(&format!("/api/v1/experiments/{}/check-ins", experiment["id"].as_str().unwrap()), &token)
        .await
        .json()
        .await
        .unwrap();
    assert!(check_ins.to_string().contains("Asked twice"), "{check_ins}");
}

#[tokio::test]
async fn a_reminder_the_mail_server_could_not_take_before_the_session_began_is_not_sent_late() {
    use std::sync::atomic::Ordering;
    let app = spawn_app().await;
    let (_c, _session, starts_at) = planned_cohort(&app).await;
    turn(&app).await;
    app.mail().refuse.store(true, Ordering::SeqCst);
    app.clock.advance(starts_at - Duration::minutes(59) - app.clock_now());
    turn(&app).await;
    app.clock.advance(Duration::minutes(61)); // the session has begun
    app.mail().refuse.store(false, Ordering::SeqCst);
    turn(&app).await;
    assert!(mails_of_kind(&app, "m0@example.com", "session_soon").is_empty(), "not sent after the start");
    let token = app.sign_in("m0@example.com").await;
    let mine: Value = app.get_as("/api/v1/me/notifications", &token).await.json().await.unwrap();
    assert!(
        mine["items"].as_array().unwrap().iter().any(|n| n["kind"] == "session_soon" && n["status"] == "expired"),
        "{mine}"
    );
}

#[tokio::test]
async fn skill_shares_charter_reviews_and_due_experiments_are_mailed_to_whom_they_concern() {
    use crate::sessions::{cohort as zoned, in_days, one_off};
    use crate::skill_shares::{offered, sign_up};
    let app = spawn_app().await;
    let c = zoned(&app, "Europe/Berlin").await;
    let zoe = app.member(&c.organizer.access_token, &c.id, "zoe@example.com").await;
    let session = one_off(&app, &c, &format!("{}T18:00", in_days(&app, 3)), 90).await;
    let starts_at: DateTime<Utc> = session["starts_at"].as_str().unwrap().parse().unwrap();

    // A skill share of one place: the organizer has it, Zoe waits; the organizer leaves, Zoe is in.
    let slot =
        offered(&app, &session, &c.member.access_token, json!({"title": "Demo", "minutes": 20, "capacity": 1})).await;
    assert_eq!(sign_up(&app, &slot, &c.organizer.access_token).await.0, 201);
    assert_eq!(sign_up(&app, &slot, &zoe.access_token).await.1["status"], "waitlisted");
    let leave = format!("/api/v1/skill-shares/{}/signups/me", slot["id"].as_str().unwrap());
    assert_eq!(app.delete_as(&leave, &c.organizer.access_token).await.status(), 204);

    // An experiment due in two days (its due date, 09:00 in the cohort's zone).
    let due_on = in_days(&app, 2);
    let body = json!({"title": "Write it down", "success_signal": "Written", "due_on": due_on});
    assert_eq!(
        app.post_json_as(&format!("/api/v1/cohorts/{}/experiments", c.id), &zoe.access_token, &body).await.status(),
        201
    );
    turn(&app).await;
    let promoted = mails_of_kind(&app, "zoe@example.com", "skillshare_promoted");
    assert_eq!(promoted.len(), 1);
    assert!(promoted[0].subject.contains("Demo"), "{}", promoted[0].subject);

    // The day before: Zoe's experiment, then the presenter's skill share.
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let due_at = chrono::NaiveDate::parse_from_str(&due_on, "%Y-%m-%d").unwrap().and_hms_opt(9, 0, 0).unwrap();
    let due_at = roundtable::sessions::recurrence::instant(due_at, berlin);
    app.clock.advance(due_at - Duration::hours(24) + Duration::minutes(1) - app.clock_now());
    turn(&app).await;
    let due = mails_of_kind(&app, "zoe@example.com", "experiment_due");
    assert_eq!(due.len(), 1);
    assert!(due[0].subject.contains("Write it down"), "{}", due[0].subject);
    app.clock.advance(starts_at - Duration::hours(24) + Duration::minutes(1) - app.clock_now());
    turn(&app).await;
    let soon = mails_of_kind(&app, "max@example.com", "skillshare_soon");
    assert_eq!(soon.len(), 1);
    assert!(soon[0].text.contains("You present \"Demo\""), "{}", soon[0].text);
}

#[tokio::test]
async fn a_charter_review_that_falls_due_is_mailed_to_facilitators_and_organizers_only() {
    let app = spawn_app().await;
    let c = cohort(&app, 2).await;
    let body = json!({"mission": "Learn", "weekly_minutes": 60, "review_cadence": {"every": 1, "unit": "weeks"}});
    let draft: Value =
        app.post_json_as(&c.path("/charter/versions"), &c.organizer.access_token, &body).await.json().await.unwrap();
    let adopt = c.path(&format!("/charter/versions/{}/adopt", draft["id"].as_str().unwrap()));
    assert_eq!(app.post_as(&adopt, &c.organizer.access_token).await.status(), 200);
    app.clock.advance(Duration::days(8));
    let jobs = Jobs::new(app.state.clone());
    jobs.sweep(period()).await; // records the review as due
    turn(&app).await;
    let review = mails_of_kind(&app, "ada@example.com", "charter_review_due");
    assert_eq!(review.len(), 1);
    assert!(review[0].subject.contains("due for review"), "{}", review[0].subject);
    assert!(mails_of_kind(&app, "m0@example.com", "charter_review_due").is_empty(), "members are not asked");
}

#[tokio::test]
async fn mail_reads_times_in_the_recipients_locale_12_hours_month_first_for_en_us() {
    let app = spawn_app().await;
    let (c, _session, starts_at) = planned_cohort(&app).await;
    let us = app.patch_as("/api/v1/me", &c.members[0].access_token, &json!({"locale": "en-US"})).await;
    assert_eq!(us.status(), 200);
    turn(&app).await;
    app.clock.advance(starts_at - Duration::minutes(59) - app.clock_now());
    turn(&app).await;
    let local =
        |tz: &str, fmt: &str| starts_at.with_timezone(&tz.parse::<chrono_tz::Tz>().unwrap()).format(fmt).to_string();
    let american = &mails_of_kind(&app, "m0@example.com", "session_soon")[0];
    let expected = local("Europe/Berlin", "%a, %b %-d, %-I:%M %p");
    assert!(american.subject.contains(&expected), "{} has {expected}", american.subject);
    let european = &mails_of_kind(&app, "m1@example.com", "session_soon")[0];
    let expected = local("Europe/Berlin", "%a %-d %b, %H:%M");
    assert!(european.subject.contains(&expected), "{} has {expected}", european.subject);
}
