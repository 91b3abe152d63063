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
