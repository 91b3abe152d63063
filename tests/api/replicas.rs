//! Several replicas on one database (run on PostgreSQL in CI, and on SQLite): they start together
//! on an empty database, share the periodic work (each job under its lease, each effect keyed
//! unique) and never send a mail twice.

use chrono::Duration;
use diesel::prelude::*;
use roundtable::db::schema::{coaching_cycles, coaching_pairs, events, outbound_mail};
use roundtable::jobs::{Job, Jobs, Outcome, lease};
use roundtable::mail::outbox;
use serde_json::{Value, json};

use crate::helpers::{Options, TestApp, spawn_app_with, spawn_replica, spawn_replicas};
use crate::rota::cohort;

#[tokio::test]
async fn replicas_started_at_the_same_moment_on_an_empty_database_all_come_up() {
    let (replicas, _dir) = spawn_replicas(4).await;
    for replica in &replicas {
        let ready = replica.get("/readyz").await;
        assert_eq!(ready.status(), 200, "every replica is ready: {:?}", ready.text().await);
    }
    // One database, one access-token secret: an account made on one replica signs in on another.
    assert_eq!(replicas[0].signup("ada@example.com").await.status(), 201);
    let token = replicas[1].sign_in("ada@example.com").await;
    assert_eq!(replicas[2].get_as("/api/v1/me", &token).await.status(), 200);
}

/// A cohort of an organizer and three members whose coaching cycles start every two sessions.
async fn cohort_with_cycles_due(app: &TestApp) -> crate::rota::Cohort {
    let c = cohort(app, 3).await;
    let set = app
        .send(
            reqwest::Method::PUT,
            &c.path("/pairs/settings"),
            Some(&c.organizer.access_token),
            Some(&json!({"every_sessions": 2})),
        )
        .await;
    assert_eq!(set.status(), 200);
    c
}

fn count_cycles(app: &TestApp) -> (i64, i64, i64) {
    let mut conn = app.db();
    let cycles: i64 = coaching_cycles::table.count().get_result(&mut conn).unwrap();
    let pairs: i64 = coaching_pairs::table.count().get_result(&mut conn).unwrap();
    let formed: i64 = events::table.filter(events::kind.eq("pairs.formed")).count().get_result(&mut conn).unwrap();
    (cycles, pairs, formed)
}

#[tokio::test]
async fn two_replicas_sweeping_the_same_due_work_create_each_row_once() {
    let app = spawn_app_with(Options::default()).await;
    let replica = spawn_replica(&app).await;
    cohort_with_cycles_due(&app).await;
    let (a, b) = (Jobs::new(app.state.clone()), Jobs::new(replica.state.clone()));
    let period = Duration::seconds(60);

    let (swept_a, swept_b) = tokio::join!(a.sweep(period), b.sweep(period));
    let ran = |swept: &[(Job, Outcome)]| swept.iter().find(|(job, _)| *job == Job::CoachingCycles).unwrap().1;
    let mut outcomes = [ran(&swept_a), ran(&swept_b)];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [Outcome::Done(1), Outcome::Skipped], "one replica formed the cycle, the other skipped");
    let (cycles, pairs, formed) = count_cycles(&app);
    assert_eq!((cycles, formed), (1, 1), "cycle 1 formed once, announced once");
    assert_eq!(pairs, 2, "four people: two pairs");

    // The lease ran out: the other replica may sweep now, and finds nothing due.
    app.clock.advance(Duration::seconds(61));
    let again = tokio::join!(a.sweep(period), b.sweep(period));
    let mut outcomes = [ran(&again.0), ran(&again.1)];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [Outcome::Done(0), Outcome::Skipped]);
    assert_eq!(count_cycles(&app), (1, 2, 1));
}

#[tokio::test]
async fn without_the_lease_the_cohort_lock_and_the_cycle_key_still_form_a_cycle_once() {
    let app = spawn_app_with(Options::default()).await;
    let replica = spawn_replica(&app).await;
    let c = cohort_with_cycles_due(&app).await;
    let now = app.clock_now();
    // Both replicas run the job itself at the same moment, several times over, bypassing leases.
    let runs = (0..4)
        .flat_map(|_| [app.state.db.clone(), replica.state.db.clone()])
        .map(|db| async move { roundtable::rota::cycles::form_due(&db, now).await.unwrap() });
    let formed: usize = futures_util::future::join_all(runs).await.into_iter().sum();
    assert_eq!(formed, 1);
    assert_eq!(count_cycles(&app), (1, 2, 1));
    // And a facilitator's "next cycle" after that is cycle 2, not a second cycle 1.
    let next: Value = replica.post_as(&c.path("/pairs"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(next["cycle"], 2, "{next}");
}

#[tokio::test]
async fn a_job_lease_has_one_holder_until_it_runs_out() {
    let app = spawn_app_with(Options { background_jobs: false, ..Options::default() }).await;
    let mut conn = app.db();
    let now = app.clock_now();
    let ttl = Duration::seconds(30);
    assert!(lease::claim(&mut conn, "test.job", "replica-a", now, ttl).unwrap());
    assert!(!lease::claim(&mut conn, "test.job", "replica-b", now + Duration::seconds(29), ttl).unwrap());
    assert!(lease::claim(&mut conn, "test.job", "replica-a", now + Duration::seconds(29), ttl).unwrap(), "renewed");
    assert!(!lease::claim(&mut conn, "test.job", "replica-b", now + Duration::seconds(31), ttl).unwrap());
    assert!(lease::claim(&mut conn, "test.job", "replica-b", now + Duration::seconds(60), ttl).unwrap(), "ran out");
    assert!(!lease::claim(&mut conn, "test.job", "replica-a", now + Duration::seconds(61), ttl).unwrap());
}

fn mail_row(app: &TestApp, id: &str) -> (String, i32, Option<String>) {
    outbound_mail::table
        .find(id)
        .select((outbound_mail::status, outbound_mail::attempts, outbound_mail::claim_token))
        .first(&mut app.db())
        .unwrap()
}

#[tokio::test]
async fn a_mail_claimed_by_a_worker_that_dies_is_not_sent_again() {
    let app = spawn_app_with(Options { background_jobs: false, ..Options::default() }).await;
    let replica = spawn_replica(&app).await;
    assert_eq!(app.signup("ada@example.com").await.status(), 201);
    let id: String = outbound_mail::table.select(outbound_mail::id).first(&mut app.db()).unwrap();

    // A worker claims the mail, then dies before it finishes (it may or may not have sent it).
    let dead = outbox::claim(&mut app.db(), &id, app.clock_now()).unwrap().expect("claimed");
    assert_eq!(mail_row(&app, &id).0, "sending");
    assert!(outbox::claim(&mut app.db(), &id, app.clock_now()).unwrap().is_none(), "held: nobody else takes it");

    // Its lease runs out. The other replica's worker does not send it; it marks it unknown.
    app.clock.advance(Duration::seconds(301));
    let report = replica.state.mailer.deliver_due().await.unwrap();
    assert_eq!((report.delivered, report.unknown), (0, 1));
    assert_eq!(mail_row(&app, &id), ("unknown".to_string(), 1, None));
    app.clock.advance(Duration::hours(3));
    assert_eq!(replica.state.mailer.deliver_due().await.unwrap(), Default::default(), "and never by itself");
    assert_eq!(app.state.mailer.deliver_due().await.unwrap(), Default::default());
    assert!(replica.mail().mails_to("ada@example.com").is_empty() && app.mail().mails_to("ada@example.com").is_empty());

    // The dead worker comes back late: its stale token changes nothing.
    let now = app.clock_now();
    assert!(!outbox::mark_delivered(&mut app.db(), &id, &dead.token, "sent", now).unwrap());
    let failed = outbox::AfterFailure::RetryAt(now);
    assert!(!outbox::mark_attempt_failed(&mut app.db(), &id, &dead.token, "late", failed).unwrap());
    assert_eq!(mail_row(&app, &id).0, "unknown");

    // An operator who knows it never arrived puts it back; it is sent once, under a new claim
    // that the old token cannot finish either.
    assert!(outbox::requeue(&mut app.db(), &id, now).unwrap());
    let fresh = outbox::claim(&mut app.db(), &id, now).unwrap().expect("claimed again");
    assert_ne!(fresh.token, dead.token);
    assert!(!outbox::mark_attempt_failed(&mut app.db(), &id, &dead.token, "late", failed).unwrap());
    assert_eq!(mail_row(&app, &id).0, "sending", "the newer claim stands");
    assert!(outbox::mark_delivered(&mut app.db(), &id, &fresh.token, "sent", now).unwrap());
    assert_eq!(mail_row(&app, &id), ("sent".to_string(), 2, None));
}

#[tokio::test]
async fn a_requeued_mail_goes_out_once() {
    let app = spawn_app_with(Options { background_jobs: false, ..Options::default() }).await;
    assert_eq!(app.signup("ada@example.com").await.status(), 201);
    let id: String = outbound_mail::table.select(outbound_mail::id).first(&mut app.db()).unwrap();
    outbox::claim(&mut app.db(), &id, app.clock_now()).unwrap().expect("claimed");
    app.clock.advance(Duration::seconds(301));
    assert_eq!(app.state.mailer.deliver_due().await.unwrap().unknown, 1);
    assert!(outbox::requeue(&mut app.db(), &id, app.clock_now()).unwrap());
    assert!(!outbox::requeue(&mut app.db(), &id, app.clock_now()).unwrap(), "only unknown or failed mail");
    assert_eq!(app.state.mailer.deliver_due().await.unwrap().delivered, 1);
    let mails = app.mail().wait_for("ada@example.com", 1).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mail_row(&app, &id).0, "sent");
}

#[tokio::test]
async fn a_database_error_in_one_cohort_undoes_only_that_cohorts_cycle() {
    let app = spawn_app_with(Options::default()).await;
    let failing = cohort_with_cycles_due(&app).await;
    // A second cohort of the same people, created after the first (ids are time-ordered, so the
    // sweep meets the failing cohort first).
    let organizer = &failing.organizer.access_token;
    let healthy = app.cohort(organizer, "Second").await;
    for member in &failing.members {
        let code = app.invite_code(organizer, &healthy).await;
        let joined = app.post_json_as("/api/v1/invite-links/join", &member.access_token, &json!({"code": code})).await;
        assert_eq!(joined.status(), 201);
    }
    let settings = format!("/api/v1/cohorts/{healthy}/pairs/settings");
    let set = app.send(reqwest::Method::PUT, &settings, Some(organizer), Some(&json!({"every_sessions": 2}))).await;
    assert_eq!(set.status(), 200);
    // The database refuses the first cohort's pairs (a planted failure, as a full disk would).
    let plant = if app.pg_admin_url.is_some() {
        format!(
            "CREATE FUNCTION planted_failure() RETURNS trigger AS $$ BEGIN \
               IF NEW.cohort_id = '{0}' THEN RAISE EXCEPTION 'planted failure'; END IF; RETURN NEW; \
             END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER planted BEFORE INSERT ON coaching_pairs FOR EACH ROW EXECUTE FUNCTION planted_failure();",
            failing.id
        )
    } else {
        format!(
            "CREATE TRIGGER planted BEFORE INSERT ON coaching_pairs WHEN NEW.cohort_id = '{0}' \
             BEGIN SELECT RAISE(ABORT, 'planted failure'); END;",
            failing.id
        )
    };
    diesel::connection::SimpleConnection::batch_execute(&mut app.db(), &plant).unwrap();

    let formed = roundtable::rota::cycles::form_due(&app.state.db, app.clock_now()).await.unwrap();
    assert_eq!(formed, 1, "the healthy cohort's cycle is formed");
    let cycles_of = |cohort_id: &str| -> i64 {
        coaching_cycles::table
            .filter(coaching_cycles::cohort_id.eq(cohort_id))
            .count()
            .get_result(&mut app.db())
            .unwrap()
    };
    assert_eq!((cycles_of(&failing.id), cycles_of(&healthy)), (0, 1), "nothing half-written for the failing one");
    let announced: i64 = events::table
        .filter(events::kind.eq("pairs.formed"))
        .filter(events::cohort_id.eq(&failing.id))
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(announced, 0);
}
