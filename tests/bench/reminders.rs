//! Benchmark: the reminder engine for 1,000 cohorts x 20 active members, each meeting weekly at
//! 18:00 local time (half in Europe/Berlin, half in America/New_York), through the same code the
//! sweep and the notifier run. Prints what it measured; asserts nothing about time.
//!
//! 1. Planning: `plan_sessions` over the next 15 days, the first run (every row new) and a second
//!    one at the same instant (nothing new: the steady state of the sweep).
//! 2. The burst: the 500 Berlin cohorts meet at the same instant, so their 10,000 "1 h before"
//!    reminders fall due in the same minute. Dispatch (`dispatch_due` in batches of 200, as
//!    `Jobs::notify` does), then delivery (`Mailer::deliver_due` until the outbox is empty) to an
//!    SMTP sink on loopback (mailin-embedded, in this process), which must receive each mail once.
//! 3. In the same run, the sink's own accept rate: the same mails (same size and headers) sent
//!    by a plain lettre client, 8 at once over a pooled `AsyncSmtpTransport` as the mailer does,
//!    then 32 at once (how far more connections would take it).
//!
//! `cargo bench --bench reminders` (SQLite in a temp dir); set ROUNDTABLE_BENCH_PG_URL to an empty
//! database's URL to measure PostgreSQL too (tests/load/run.sh does).

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use diesel::prelude::*;
use futures_util::StreamExt;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use mailin_embedded::response::{self, Response};
use mailin_embedded::{Handler, Server, SslConfig};
use roundtable::clock::ManualClock;
use roundtable::cohorts::model::CohortRow;
use roundtable::cohorts::store as cohorts;
use roundtable::db::schema::{assignments, duty_roles, memberships, notifications, outbound_mail, sessions, users};
use roundtable::db::{AnyConnection, CohortId, Db, new_id};
use roundtable::mail::Mailer;
use roundtable::notifications::engine::{dispatch_due, plan_sessions};
use roundtable::sessions::agenda::default_template;
use roundtable::sessions::materialize::{materialize, start_mark};
use roundtable::sessions::model::SeriesRow;
use roundtable::sessions::store as series_store;

const COHORTS: usize = 1_000;
const MEMBERS: usize = 20;
/// Cohorts meeting at the same instant (the first zone's), times their members.
const BURST: usize = COHORTS / ZONES.len() * MEMBERS;
const ZONES: [&str; 2] = ["Europe/Berlin", "America/New_York"];
/// As `Jobs::notify` claims them.
const DISPATCH_BATCH: i64 = 200;
/// As the mailer sends them (`mail::IN_FLIGHT`).
const IN_FLIGHT: usize = 8;
/// A plain client's second, wider run.
const WIDE: usize = 32;
/// The sink's threads (one per open connection): the mailer's and a client's pools, and to spare.
const SINK_THREADS: u32 = 64;
const FROM: &str = "Roundtable <reminders@bench.test>";
const BASE_URL: &str = "https://roundtable.bench.test";

/// One batched insert per backend (MultiConnection has no batch insert of its own).
macro_rules! batch_insert {
    ($conn:expr, $table:expr, $values:expr) => {
        match $conn {
            AnyConnection::Sqlite(c) => diesel::insert_into($table).values($values).execute(c),
            AnyConnection::Postgresql(c) => diesel::insert_into($table).values($values).execute(c),
        }
    };
}

/// What the sink received: the `Message-ID` of each message, in order.
#[derive(Clone, Default)]
struct Sink {
    current: Vec<u8>,
    received: Arc<Mutex<Vec<String>>>,
}

impl Handler for Sink {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, _to: &[String]) -> Response {
        self.current.clear();
        response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> Response {
        let text = String::from_utf8_lossy(&self.current);
        let id = text
            .lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| l.strip_prefix("Message-ID:").map(|v| v.trim().to_string()))
            .unwrap_or_default();
        self.received.lock().unwrap().push(id);
        response::OK
    }
}

impl Sink {
    /// Starts the server on a loopback port; returns its port.
    fn start(&self) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut server = Server::new(self.clone());
        // More threads than the mailer's pooled connections plus those it opens side by side.
        server
            .with_name("sink.bench")
            .with_ssl(SslConfig::None)
            .unwrap()
            .with_num_threads(SINK_THREADS)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        port
    }

    /// What arrived since the last call: (messages, distinct Message-IDs).
    fn take(&self) -> (usize, usize) {
        let got = std::mem::take(&mut *self.received.lock().unwrap());
        let distinct: HashSet<&String> = got.iter().filter(|id| !id.is_empty()).collect();
        (got.len(), distinct.len())
    }
}

/// The next `weekday 18:00` in Berlin at least two days from now: when the first zone meets.
fn first_meeting(now: DateTime<Utc>) -> DateTime<Utc> {
    let tz: chrono_tz::Tz = ZONES[0].parse().unwrap();
    let day = (now + Duration::days(2)).with_timezone(&tz).date_naive();
    tz.from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(18, 0, 0).unwrap())).single().unwrap().to_utc()
}

fn byday(date: chrono::NaiveDate) -> &'static str {
    ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][date.weekday().num_days_from_monday() as usize]
}

/// 1,000 cohorts with 20 active members each (20,000 accounts), a weekly series at 18:00 local
/// stored 15 days ahead of `now`, one duty role per cohort and one member on duty per session.
fn seed(db: &Db, now: DateTime<Utc>, meeting: DateTime<Utc>) -> usize {
    let stamp = now.naive_utc();
    let template = default_template();
    db.write_blocking(|conn| {
        let mut stored = 0;
        for i in 0..COHORTS {
            let zone = ZONES[i % ZONES.len()];
            let tz: chrono_tz::Tz = zone.parse().unwrap();
            let cohort = CohortRow {
                id: CohortId::new(),
                name: format!("Cohort {i}"),
                description: String::new(),
                time_zone: tz.into(),
                locale: "en".to_string(),
                created_by: None,
                archived_at: None,
                created_at: stamp,
                updated_at: stamp,
            };
            cohorts::insert_cohort(conn, &cohort)?;
            let people: Vec<String> = (0..MEMBERS).map(|_| new_id()).collect();
            let accounts: Vec<_> = people
                .iter()
                .enumerate()
                .map(|(k, id)| {
                    let email = format!("member{k}.cohort{i}@bench.test");
                    (
                        users::id.eq(id.clone()),
                        users::email.eq(email.clone()),
                        users::email_lower.eq(email),
                        users::password_hash.eq("not-a-hash"),
                        users::display_name.eq(format!("Member {k} of {i}")),
                        users::time_zone.eq(zone),
                        users::locale.eq("en"),
                        users::email_verified_at.eq(Some(stamp)),
                        users::created_at.eq(stamp),
                        users::updated_at.eq(stamp),
                    )
                })
                .collect();
            batch_insert!(conn, users::table, &accounts)?;
            let members: Vec<_> = people
                .iter()
                .enumerate()
                .map(|(k, id)| {
                    (
                        memberships::cohort_id.eq(cohort.id.as_str().to_string()),
                        memberships::user_id.eq(id.clone()),
                        memberships::role.eq(if k == 0 { "organizer" } else { "member" }),
                        memberships::state.eq("active"),
                        memberships::joined_at.eq(stamp),
                        memberships::state_changed_at.eq(stamp),
                    )
                })
                .collect();
            batch_insert!(conn, memberships::table, &members)?;
            let first_day = meeting.with_timezone(&tz).date_naive();
            let row = SeriesRow {
                id: new_id(),
                cohort_id: cohort.id.clone(),
                title: "Weekly".to_string(),
                rrule: format!("FREQ=WEEKLY;BYDAY={}", byday(first_day)),
                starts_on: first_day.to_string(),
                local_time: "18:00".to_string(),
                duration_minutes: 90,
                location: "Room 4".to_string(),
                ends_before: None,
                materialized_until: start_mark(first_day),
                created_by: None,
                created_at: stamp,
                updated_at: stamp,
            };
            series_store::insert_series(conn, &row)?;
            let until = (now + Duration::days(16)).with_timezone(&tz).naive_local();
            stored += materialize(conn, &row, tz, &template, until, now)?;
            let role = new_id();
            diesel::insert_into(duty_roles::table)
                .values((
                    duty_roles::id.eq(&role),
                    duty_roles::cohort_id.eq(cohort.id.as_str()),
                    duty_roles::name.eq("Facilitator"),
                    duty_roles::position.eq(0),
                    duty_roles::min_attended.eq(0),
                    duty_roles::facilitation.eq(true),
                    duty_roles::created_at.eq(stamp),
                ))
                .execute(conn)?;
            let held: Vec<String> = sessions::table
                .filter(sessions::cohort_id.eq(cohort.id.as_str()))
                .order(sessions::starts_at)
                .select(sessions::id)
                .load(conn)?;
            let duties: Vec<_> = held
                .iter()
                .enumerate()
                .map(|(n, session)| {
                    (
                        assignments::id.eq(new_id()),
                        assignments::cohort_id.eq(cohort.id.as_str().to_string()),
                        assignments::session_id.eq(session.clone()),
                        assignments::role_id.eq(role.clone()),
                        assignments::user_id.eq(Some(people[n % MEMBERS].clone())),
                        assignments::locked.eq(false),
                        assignments::created_at.eq(stamp),
                        assignments::updated_at.eq(stamp),
                    )
                })
                .collect();
            batch_insert!(conn, assignments::table, &duties)?;
        }
        Ok(stored)
    })
    .expect("seeding")
}

/// A mail as the outbox holds it, for the plain client.
struct Stored {
    id: String,
    to: String,
    subject: String,
    text: String,
    html: String,
    kind: Option<String>,
    list_id: Option<String>,
    unsubscribe: Option<String>,
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// The same message the mailer builds (`mail::transport`), with another `Message-ID`.
fn message(mail: &Stored, from: &Mailbox) -> Message {
    let mut builder = Message::builder().message_id(Some(format!("<plain-{}@bench.test>", mail.id)));
    if let Some(kind) = &mail.kind {
        builder = builder.raw_header(header("X-Roundtable-Kind", kind.clone()));
    }
    if let (Some(list), Some(url)) = (&mail.list_id, &mail.unsubscribe) {
        builder = builder
            .raw_header(header("List-Id", list.clone()))
            .raw_header(header("List-Unsubscribe", format!("<{url}>")))
            .raw_header(header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()));
    }
    builder
        .from(from.clone())
        .to(mail.to.parse().unwrap())
        .subject(&mail.subject)
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .unwrap()
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn run(runtime: &tokio::runtime::Runtime, label: &str, url: &str) {
    let db = Db::connect(url, 4).expect("database");
    let meeting = first_meeting(Utc::now());
    // The sweep runs two hours before the first sessions: their "a day before" is past already.
    let plan_now = meeting - Duration::hours(2);
    let seeding = Instant::now();
    let stored = seed(&db, plan_now, meeting);
    println!(
        "{label}: seeded {COHORTS} cohorts x {MEMBERS} active members, {stored} sessions in the next 15 days \
         (with a duty each) in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    // 1. Planning.
    let started = Instant::now();
    let first = db.write_blocking(|conn| plan_sessions(conn, plan_now, None)).unwrap();
    let first_ms = ms(started);
    let started = Instant::now();
    let second = db.write_blocking(|conn| plan_sessions(conn, plan_now, None)).unwrap();
    let second_ms = ms(started);
    let later = plan_now + Duration::minutes(1);
    let started = Instant::now();
    let third = db.write_blocking(|conn| plan_sessions(conn, later, None)).unwrap();
    let third_ms = ms(started);
    println!(
        "{label}: planning {} cohorts x {MEMBERS} members: first run {} rows planned in {first_ms:.0} ms; \
         second run {} new, {} withdrawn in {second_ms:.0} ms; a minute later {} new, {} withdrawn in {third_ms:.0} ms",
        COHORTS, first.added, second.added, second.withdrawn, third.added, third.withdrawn
    );

    // 2. The burst: every "1 h before" of the first zone's sessions, in the same minute.
    let burst_now = meeting - Duration::hours(1) + Duration::seconds(30);
    let due: i64 = db
        .write_blocking(|conn| {
            Ok(notifications::table
                .filter(notifications::status.eq("planned"))
                .filter(notifications::planned_at.le(burst_now.naive_utc()))
                .count()
                .get_result(conn)?)
        })
        .unwrap();
    assert_eq!(due as usize, BURST, "reminders due in the burst minute");
    let sink = Sink::default();
    let port = sink.start();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let clock = Arc::new(ManualClock::starting_at(burst_now));
    let mailer = Mailer::new(db.clone(), clock, Some(&smtp_url), FROM).expect("mailer");

    let started = Instant::now();
    let (mut queued, mut skipped, mut passes) = (0, 0, 0);
    loop {
        let done = db.write_blocking(|conn| dispatch_due(conn, burst_now, BASE_URL, DISPATCH_BATCH)).unwrap();
        queued += done.queued;
        skipped += done.skipped;
        passes += 1;
        if ((done.queued + done.skipped) as i64) < DISPATCH_BATCH {
            break;
        }
    }
    let dispatch_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut delivered = 0;
    runtime.block_on(async {
        loop {
            let report = mailer.deliver_due().await.expect("delivery pass");
            delivered += report.delivered;
            assert_eq!(report.retrying + report.failed + report.unknown, 0, "{report:?}");
            let pending: i64 = db
                .read(|conn| {
                    Ok(outbound_mail::table
                        .filter(outbound_mail::status.eq_any(["pending", "sending"]))
                        .count()
                        .get_result(conn)?)
                })
                .await
                .unwrap();
            if pending == 0 {
                break;
            }
        }
    });
    let deliver_s = started.elapsed().as_secs_f64();
    let (app_got, app_distinct) = sink.take();
    println!(
        "{label}: burst of {due} reminders due in one minute: dispatch {queued} queued, {skipped} skipped in \
         {passes} batches of {DISPATCH_BATCH}, {dispatch_s:.2} s ({:.0}/s); delivery {delivered} mails in {deliver_s:.2} s \
         ({:.0} mails/s); the sink received {app_got} ({app_distinct} distinct Message-IDs); due to accepted {:.2} s \
         ({:.0} mails/s)",
        queued as f64 / dispatch_s,
        delivered as f64 / deliver_s,
        dispatch_s + deliver_s,
        app_got as f64 / (dispatch_s + deliver_s),
    );
    assert_eq!((app_got, app_distinct), (BURST, BURST), "each reminder received once");

    // 3. The same mails through a plain client: the sink's own accept rate.
    let mails: Vec<Stored> = db
        .write_blocking(|conn| {
            type Row = (String, String, String, String, String, Option<String>, Option<String>, Option<String>);
            let rows: Vec<Row> = outbound_mail::table
                .select((
                    outbound_mail::id,
                    outbound_mail::to_address,
                    outbound_mail::subject,
                    outbound_mail::text_body,
                    outbound_mail::html_body,
                    outbound_mail::kind,
                    outbound_mail::list_id,
                    outbound_mail::unsubscribe_url,
                ))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(|(id, to, subject, text, html, kind, list_id, unsubscribe)| Stored {
                    id,
                    to,
                    subject,
                    text,
                    html,
                    kind,
                    list_id,
                    unsubscribe,
                })
                .collect())
        })
        .unwrap();
    // The mailer's pooled connections go first: the sink serves one client at a time.
    drop(mailer);
    let (plain_rate, plain_got, plain_distinct, plain_errors, plain_s) =
        plain(runtime, &sink, &smtp_url, &mails, IN_FLIGHT);
    let app_rate = delivered as f64 / deliver_s;
    println!(
        "{label}: the same {} mails from a plain lettre client ({IN_FLIGHT} at once, pooled): {plain_got} received \
         ({plain_distinct} distinct, {plain_errors} errors) in {plain_s:.2} s ({plain_rate:.0} mails/s); \
         the mailer delivers at {:.0}% of the sink's accept rate, due to accepted at {:.0}%",
        mails.len(),
        100.0 * app_rate / plain_rate,
        100.0 * (app_got as f64 / (dispatch_s + deliver_s)) / plain_rate,
    );
    // Each lettre connection waits about 40 ms per mail (it writes the body and the final dot
    // separately without TCP_NODELAY, and the sink delays its ACK): more connections, more mail.
    let (wide_rate, wide_got, wide_distinct, wide_errors, wide_s) = plain(runtime, &sink, &smtp_url, &mails, WIDE);
    println!(
        "{label}: the same from a plain lettre client {WIDE} at once: {wide_got} received ({wide_distinct} distinct, \
         {wide_errors} errors) in {wide_s:.2} s ({wide_rate:.0} mails/s)"
    );
}

/// Sends `mails` as the mailer builds them, `at_once` at a time over a pool of as many
/// connections; (mails/s, received, distinct, errors, seconds).
fn plain(
    runtime: &tokio::runtime::Runtime,
    sink: &Sink,
    smtp_url: &str,
    mails: &[Stored],
    at_once: usize,
) -> (f64, usize, usize, usize, f64) {
    let from: Mailbox = FROM.parse().unwrap();
    let started = Instant::now();
    let errors = runtime.block_on(async {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .unwrap()
            .pool_config(PoolConfig::new().max_size(at_once as u32))
            .build();
        let outcomes: Vec<bool> = futures_util::stream::iter(mails.iter().map(|mail| {
            let transport = &transport;
            let from = &from;
            async move { transport.send(message(mail, from)).await.is_ok() }
        }))
        .buffer_unordered(at_once)
        .collect()
        .await;
        outcomes.iter().filter(|ok| !**ok).count()
    });
    let seconds = started.elapsed().as_secs_f64();
    let (got, distinct) = sink.take();
    (got as f64 / seconds, got, distinct, errors, seconds)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    // The SMTP transports' pools start and stop their tasks on the runtime they are built in.
    let _inside = runtime.enter();
    let dir = tempfile::tempdir().unwrap();
    run(&runtime, "sqlite", &format!("sqlite://{}", dir.path().join("bench.db").display()));
    if let Ok(url) = std::env::var("ROUNDTABLE_BENCH_PG_URL") {
        run(&runtime, "postgres", &url);
    }
}
