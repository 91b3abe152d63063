//! Benchmark: store five years of weekly sessions for 1,000 series (one cohort each), through
//! the same code the daily job runs. Prints what it measured; asserts nothing about time.
//! `cargo bench --bench materialize` (SQLite in a temp dir); set ROUNDTABLE_BENCH_PG_URL to a
//! database URL to measure PostgreSQL too (tests/load/run.sh does).

use std::time::Instant;

use chrono::{Duration, Utc};
use roundtable::cohorts::model::CohortRow;
use roundtable::cohorts::store as cohorts;
use roundtable::db::{CohortId, Db, new_id};
use roundtable::sessions::agenda::default_template;
use roundtable::sessions::materialize::{key, materialize, start_mark};
use roundtable::sessions::model::SeriesRow;
use roundtable::sessions::store;

const SERIES: usize = 1_000;
const YEARS: i64 = 5;

fn run(label: &str, url: &str) {
    let db = Db::connect(url, 4).expect("database");
    let now = Utc::now();
    let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let first_day = (now + Duration::days(1)).with_timezone(&tz).date_naive();
    let until = (now + Duration::weeks(52 * YEARS)).with_timezone(&tz).naive_local();
    let series: Vec<SeriesRow> = (0..SERIES)
        .map(|i| {
            let cohort = CohortRow {
                id: CohortId::new(),
                name: format!("Cohort {i}"),
                description: String::new(),
                time_zone: tz.into(),
                locale: "en".to_string(),
                created_by: None,
                archived_at: None,
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
            };
            db.write_blocking(|conn| cohorts::insert_cohort(conn, &cohort)).unwrap();
            let row = SeriesRow {
                id: new_id(),
                cohort_id: cohort.id.clone(),
                title: "Weekly".to_string(),
                rrule: ["FREQ=WEEKLY;BYDAY=TU", "FREQ=WEEKLY;BYDAY=TH", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"][i % 3]
                    .to_string(),
                starts_on: first_day.to_string(),
                local_time: "18:00".to_string(),
                duration_minutes: 90,
                location: String::new(),
                ends_before: None,
                materialized_until: start_mark(first_day),
                created_by: None,
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
            };
            db.write_blocking(|conn| store::insert_series(conn, &row)).unwrap();
            row
        })
        .collect();
    let template = default_template();
    let started = Instant::now();
    let mut stored = 0;
    for row in &series {
        stored += db.write_blocking(|conn| materialize(conn, row, tz, &template, until, now)).unwrap();
    }
    let elapsed = started.elapsed();
    let again = Instant::now();
    let repeated: usize = series
        .iter()
        .map(|row| db.write_blocking(|conn| materialize(conn, row, tz, &template, until, now)).unwrap())
        .sum();
    println!(
        "{label}: {SERIES} series x {YEARS} years: {stored} sessions stored in {:.2} s ({:.0} sessions/s); \
         a second pass added {repeated} in {:.2} s (horizon reached: {})",
        elapsed.as_secs_f64(),
        stored as f64 / elapsed.as_secs_f64(),
        again.elapsed().as_secs_f64(),
        key(until),
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    run("sqlite", &format!("sqlite://{}", dir.path().join("bench.db").display()));
    if let Ok(url) = std::env::var("ROUNDTABLE_BENCH_PG_URL") {
        run("postgres", &url);
    }
}
