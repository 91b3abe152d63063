//! The event stream: typed kinds with their audience, numbered in commit order so that a
//! consumer reading "everything after N" never misses an event committed late, and reactors
//! that run in the transaction of the event that calls for them.

use std::collections::HashSet;
use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use roundtable::db::{AnyConnection, CohortId, UserId};
use roundtable::events::{self, Audience, Event, EventKind, NewEvent, kind as ev};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::rota::{cohort, holders, plan, rota};

fn stream(app: &TestApp, after: i64) -> Vec<Event> {
    events::after(&mut app.db(), after, 1000).expect("read the stream")
}

fn last_seq(app: &TestApp) -> i64 {
    stream(app, 0).last().map_or(0, |e| e.seq)
}

fn assert_contiguous(events: &[Event], from: i64) {
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    let expected: Vec<i64> = (from + 1..=from + events.len() as i64).collect();
    assert_eq!(seqs, expected, "one number per event, in order, none skipped");
}

#[tokio::test]
async fn every_change_is_numbered_in_order_with_its_cohort_and_audience() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Readers").await;
    let invite = app
        .post_json_as(
            &format!("/api/v1/cohorts/{cohort}/invitations"),
            &ada.access_token,
            &json!({"emails": ["bob@example.com"]}),
        )
        .await;
    assert_eq!(invite.status(), 201);
    for (title, visibility) in [("Mine", "private"), ("Ours", "cohort"), ("Shared", "buddy")] {
        let body = json!({"title": title, "success_signal": "It shows", "visibility": visibility});
        let response =
            app.post_json_as(&format!("/api/v1/cohorts/{cohort}/experiments"), &ada.access_token, &body).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }

    let all = stream(&app, 0);
    assert_contiguous(&all, 0);
    let seen: Vec<(EventKind, Audience, Option<&str>)> =
        all.iter().map(|e| (e.kind, e.audience, e.cohort_id.as_ref().map(CohortId::as_str))).collect();
    let c = Some(cohort.as_str());
    assert_eq!(
        seen,
        [
            (EventKind::UserSignedUp, Audience::Account, None),
            (EventKind::UserEmailVerified, Audience::Account, None),
            (EventKind::CohortCreated, Audience::Cohort, c),
            (EventKind::InvitationSent, Audience::Organizers, c),
            (EventKind::ExperimentCommitted, Audience::Private, c),
            (EventKind::ExperimentCommitted, Audience::Cohort, c),
            (EventKind::ExperimentCommitted, Audience::Buddy, c),
        ]
    );
    let created = &all[2];
    assert_eq!((created.subject_type.as_str(), created.subject_id.as_str()), ("cohort", cohort.as_str()));
    assert_eq!(created.actor_id.as_ref().map(UserId::as_str), Some(ada.id.as_str()));
    assert_eq!(created.typed(), Some(ev::CohortCreated {}.into()), "the stored payload reads back as its type");

    // "After N" is the rest of the stream, in the same order; a limit cuts it.
    let rest = stream(&app, all[3].seq);
    assert_eq!(rest, all[4..].to_vec());
    assert_eq!(events::after(&mut app.db(), 0, 2).unwrap(), all[..2].to_vec());
    assert!(stream(&app, all.last().unwrap().seq).is_empty());
}

#[tokio::test]
async fn a_transaction_that_fails_leaves_no_event_and_no_gap() {
    let app = spawn_app().await;
    let now = app.clock_now();
    let before = last_seq(&app);
    let failed = app
        .state
        .db
        .write(move |conn| {
            NewEvent::new(ev::TokenCreated {}, "t1").by(&UserId::new()).record(conn, now)?;
            Err::<(), _>(roundtable::error::ApiError::NotFound)
        })
        .await;
    assert!(failed.is_err());
    app.state
        .db
        .write(move |conn| NewEvent::new(ev::TokenRevoked {}, "t2").by(&UserId::new()).record(conn, now))
        .await
        .unwrap();
    let after = stream(&app, before);
    assert_eq!(after.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventKind::TokenRevoked]);
    assert_contiguous(&after, before);
}

/// One transaction on its own thread and connection, driven step by step, so that a test can
/// interleave two of them exactly.
struct Tx {
    steps: mpsc::Sender<Step>,
    done: mpsc::Receiver<()>,
}

enum Step {
    Begin,
    Append(&'static str),
    Number,
    Commit,
}

impl Tx {
    fn open(app: &TestApp) -> Self {
        let (steps, inbox) = mpsc::channel::<Step>();
        let (reply, done) = mpsc::channel();
        let mut conn = app.db();
        let now = app.clock_now();
        std::thread::spawn(move || {
            for step in inbox {
                match step {
                    Step::Begin => conn.batch_execute("BEGIN").unwrap(),
                    Step::Append(subject) => {
                        NewEvent::new(ev::TokenCreated {}, subject).record(&mut conn, now).unwrap()
                    }
                    Step::Number => events::before_commit(&mut conn).unwrap(),
                    Step::Commit => conn.batch_execute("COMMIT").unwrap(),
                }
                if reply.send(()).is_err() {
                    break;
                }
            }
        });
        Self { steps, done }
    }

    /// Runs a step and waits for it to finish.
    fn run(&self, step: Step) {
        self.start(step);
        self.finished(Duration::from_secs(10)).expect("the step finishes");
    }

    fn start(&self, step: Step) {
        self.steps.send(step).unwrap();
    }

    fn finished(&self, within: Duration) -> Result<(), mpsc::RecvTimeoutError> {
        self.done.recv_timeout(within)
    }
}

fn subjects(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.subject_id.as_str()).collect()
}

#[tokio::test]
async fn an_event_committed_late_is_never_numbered_behind_what_a_reader_has_seen() {
    let app = spawn_app().await;
    let start = last_seq(&app);
    let (a, b) = (Tx::open(&app), Tx::open(&app));
    if app.pg_admin_url.is_none() {
        // SQLite lets one transaction write at a time: the only order is one after the other.
        for (tx, subject) in [(&a, "a"), (&b, "b")] {
            tx.run(Step::Begin);
            tx.run(Step::Append(subject));
            tx.run(Step::Number);
            tx.run(Step::Commit);
        }
        let all = stream(&app, start);
        assert_eq!(subjects(&all), ["a", "b"]);
        assert_contiguous(&all, start);
        return;
    }

    // A appends first and commits last.
    a.run(Step::Begin);
    a.run(Step::Append("a"));
    b.run(Step::Begin);
    b.run(Step::Append("b"));
    b.run(Step::Number);
    b.run(Step::Commit);
    let first_read = stream(&app, start);
    assert_eq!(subjects(&first_read), ["b"], "the reader sees what has committed");
    let cursor = first_read[0].seq;
    a.run(Step::Number);
    a.run(Step::Commit);
    let second_read = stream(&app, cursor);
    assert_eq!(subjects(&second_read), ["a"], "the late commit comes after the cursor, not behind it");
    let all = stream(&app, start);
    assert_eq!(subjects(&all), ["b", "a"]);
    assert_contiguous(&all, start);

    // Numbered but not yet committed: a later transaction waits to number until it commits,
    // and a reader in between sees neither.
    let start = all.last().unwrap().seq;
    a.run(Step::Begin);
    a.run(Step::Append("c"));
    a.run(Step::Number);
    b.run(Step::Begin);
    b.run(Step::Append("d"));
    b.start(Step::Number);
    assert!(b.finished(Duration::from_millis(300)).is_err(), "the second numbering waits for the first commit");
    assert!(stream(&app, start).is_empty(), "nothing committed yet");
    a.run(Step::Commit);
    b.finished(Duration::from_secs(10)).expect("the second numbering goes on once the first committed");
    assert_eq!(subjects(&stream(&app, start)), ["c"], "d is numbered, not committed");
    b.run(Step::Commit);
    let all = stream(&app, start);
    assert_eq!(subjects(&all), ["c", "d"]);
    assert_contiguous(&all, start);
}

#[tokio::test]
async fn a_transaction_whose_connection_moved_to_another_thread_is_numbered_at_its_commit() {
    // A transaction held across awaits may append on one thread and commit on another.
    let app = spawn_app().await;
    let start = last_seq(&app);
    let now = app.clock_now();
    let mut conn = app.db();
    let conn = std::thread::spawn(move || {
        conn.batch_execute("BEGIN").unwrap();
        NewEvent::new(ev::TokenCreated {}, "moved").record(&mut conn, now).unwrap();
        conn
    })
    .join()
    .unwrap();
    std::thread::spawn(move || {
        let mut conn = conn;
        events::before_commit(&mut conn).unwrap();
        conn.batch_execute("COMMIT").unwrap();
    })
    .join()
    .unwrap();
    let all = stream(&app, start);
    assert_eq!(subjects(&all), ["moved"]);
    assert_contiguous(&all, start);
}

#[tokio::test]
async fn many_writers_at_once_make_one_gap_free_stream() {
    let app = spawn_app().await;
    let start = last_seq(&app);
    let now = app.clock_now();
    let writers = 12;
    let per_writer = 8;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let db = app.state.db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                db.write(move |conn| {
                    // Two events per transaction: they stay together and in order.
                    let first = format!("{w}-{i}-1");
                    let second = format!("{w}-{i}-2");
                    NewEvent::new(ev::TokenCreated {}, &first).record(conn, now)?;
                    NewEvent::new(ev::TokenRevoked {}, &second).record(conn, now)
                })
                .await
                .expect("write");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let all = stream(&app, start);
    assert_eq!(all.len(), writers * per_writer * 2);
    assert_contiguous(&all, start);
    let distinct: HashSet<&str> = all.iter().map(|e| e.subject_id.as_str()).collect();
    assert_eq!(distinct.len(), all.len(), "every event once");
    for pair in all.chunks(2) {
        let (first, second) = (&pair[0].subject_id, &pair[1].subject_id);
        assert_eq!(first.strip_suffix("-1"), second.strip_suffix("-2"), "one transaction's events are adjacent");
    }
}

#[tokio::test]
async fn a_session_moved_and_cancelled_at_once_is_planned_around_once() {
    let app = spawn_app().await;
    // Two people for three roles each week: every planned session has a gap.
    let c = cohort(&app, 1).await;
    plan(&app, &c, 6).await;
    let before = last_seq(&app);
    let second = rota(&app, &c).await[1]["session_id"].as_str().unwrap().to_string();
    let later = (app.clock_now() + chrono::Duration::days(10)).to_rfc3339();
    let body = json!({"starts_at": later, "status": "cancelled", "cancel_reason": "Holiday"});
    let response = app.patch_as(&format!("/api/v1/sessions/{second}"), &c.organizer.access_token, &body).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    let recorded = stream(&app, before);
    let kinds: Vec<EventKind> = recorded.iter().map(|e| e.kind).take(2).collect();
    assert_eq!(kinds, [EventKind::SessionMoved, EventKind::SessionCancelled]);
    let gaps: Vec<(String, Value)> = recorded
        .iter()
        .filter(|e| e.kind == EventKind::DutyGap)
        .map(|e| (e.subject_id.clone(), e.payload["role_id"].clone()))
        .collect();
    assert!(!gaps.is_empty(), "the cohort is short of people: the re-plan reports gaps");
    let distinct: HashSet<&(String, Value)> = gaps.iter().collect();
    assert_eq!(distinct.len(), gaps.len(), "one re-plan: each gap reported once, not once per event");
}

#[tokio::test]
async fn removing_an_absence_gives_the_duty_back_through_the_re_plan() {
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    plan(&app, &c, 4).await;
    let first = rota(&app, &c).await[0].clone();
    let absent = holders(&first)[0].clone().unwrap();
    let token = c.token_of(&absent).to_string();
    let response = app.post_json_as(&c.path("/absences"), &token, &json!({"session_id": first["session_id"]})).await;
    assert_eq!(response.status(), 201);
    let absence: Value = response.json().await.unwrap();
    let before = last_seq(&app);
    let removed = app.delete_as(&c.path(&format!("/absences/{}", absence["id"].as_str().unwrap())), &token).await;
    assert_eq!(removed.status(), 204);
    let recorded = stream(&app, before);
    assert_eq!(recorded[0].kind, EventKind::AbsenceRemoved);
    assert_eq!(recorded[0].audience, Audience::Cohort);
    assert_eq!(recorded[0].subject_id, absence["id"].as_str().unwrap());
}

#[tokio::test]
async fn the_document_names_every_kind_with_its_payload() {
    let app = spawn_app().await;
    let spec: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let schemas = &spec["components"]["schemas"];
    let kinds: Vec<&str> =
        schemas["EventKind"]["enum"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    let expected: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(kinds, expected);
    let variants = schemas["EventPayload"]["oneOf"].as_array().unwrap();
    assert_eq!(variants.len(), EventKind::ALL.len());
    for variant in variants {
        let payload = variant["properties"]["payload"]["$ref"].as_str().unwrap();
        let name = payload.rsplit('/').next().unwrap();
        assert!(schemas[name].is_object(), "{name} is a component");
    }
    assert_eq!(schemas["DutyGap"]["properties"]["role_id"]["type"], "string");
    assert_eq!(schemas["Event"]["properties"]["kind"]["$ref"], "#/components/schemas/EventKind");
    let audiences = schemas["Audience"]["enum"].as_array().unwrap();
    assert_eq!(audiences.len(), 5);
}

#[test]
fn a_stored_string_that_is_no_kind_is_refused_when_read() {
    // Kinds can only be recorded through their payload types; a row written otherwise is an
    // error for the reader, never a silent skip.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let db = roundtable::db::Db::connect(path.to_str().unwrap(), 1).unwrap();
    drop(db);
    let mut conn: AnyConnection = diesel::Connection::establish(path.to_str().unwrap()).unwrap();
    conn.batch_execute(
        "INSERT INTO events (id, kind, subject_type, subject_id, payload, created_at, seq, audience) \
         VALUES ('x', 'session.exploded', 'session', 's', '{}', '2026-01-01 00:00:00', 1, 'cohort')",
    )
    .unwrap();
    assert!(events::after(&mut conn, 0, 10).is_err());
}
