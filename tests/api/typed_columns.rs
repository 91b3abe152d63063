//! Roles, states and time zones are typed columns: a stored value that no variant has (a hand
//! edit past the CHECK constraints) makes the query fail, with a 500, instead of being read as
//! some least-privileged variant or as UTC.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use roundtable::charter::model::VersionState;
use roundtable::charter::review::ReviewUnit;
use roundtable::cohorts::model::{CohortRow, MemberState, MembershipRow, Role};
use roundtable::db::schema::{cohorts, memberships};
use roundtable::db::{AnyConnection, TimeZone};
use roundtable::experiments::lifecycle::{ExperimentState, OutcomeResult, Visibility};
use roundtable::rota::model::{SwapKind, SwapState};
use roundtable::sessions::model::{AttendanceStatus, RsvpResponse, SessionStatus};

use crate::helpers::{TestApp, assert_problem, spawn_app};

/// Runs `sql` as a hand edit would: past the CHECK constraint on `table.column`, which the app
/// itself never needs to be stopped by.
fn hand_edit(app: &TestApp, table: &str, column: &str, sql: &str) {
    let mut conn = app.db();
    match &mut conn {
        AnyConnection::Sqlite(c) => c.batch_execute(&format!("PRAGMA ignore_check_constraints = ON; {sql}")),
        AnyConnection::Postgresql(c) => {
            c.batch_execute(&format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_check; {sql}"))
        }
    }
    .expect("hand edit");
}

#[tokio::test]
async fn a_stored_role_no_role_has_is_refused_not_read_as_member() {
    let app = spawn_app().await;
    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Typed roles").await;
    let member = app.member(&organizer.access_token, &cohort, "member@example.com").await;
    let path = format!("/api/v1/cohorts/{cohort}");
    let before = app.get_as(&path, &member.access_token).await;
    assert_eq!(before.status(), 200);

    let sql = format!("UPDATE memberships SET role = 'owner' WHERE user_id = '{}'", member.id);
    hand_edit(&app, "memberships", "role", &sql);
    assert_problem(app.get_as(&path, &member.access_token).await, 500, "internal").await;
}

#[tokio::test]
async fn a_stored_membership_state_no_state_has_is_refused_not_read_as_left() {
    let app = spawn_app().await;
    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Typed states").await;
    let member = app.member(&organizer.access_token, &cohort, "member@example.com").await;

    let sql = format!("UPDATE memberships SET state = 'resting' WHERE user_id = '{}'", member.id);
    hand_edit(&app, "memberships", "state", &sql);
    let path = format!("/api/v1/cohorts/{cohort}");
    assert_problem(app.get_as(&path, &member.access_token).await, 500, "internal").await;
}

#[tokio::test]
async fn a_stored_zone_chrono_tz_does_not_know_is_refused_not_read_as_utc() {
    let app = spawn_app().await;
    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Typed zones").await;

    let sql = format!("UPDATE cohorts SET time_zone = 'Mars/Olympus' WHERE id = '{cohort}'");
    hand_edit(&app, "cohorts", "time_zone", &sql);
    let path = format!("/api/v1/cohorts/{cohort}/sessions");
    assert_problem(app.get_as(&path, &organizer.access_token).await, 500, "internal").await;
}

/// An error with everything it was caused by, as the log line shows it.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(err) = cause {
        text.push_str(": ");
        text.push_str(&err.to_string());
        cause = err.source();
    }
    text
}

/// Each variant goes to the database as its text and comes back as itself; a text no variant
/// has comes back as a deserialisation error.
macro_rules! round_trips {
    ($conn:expr, $($ty:ty),+ $(,)?) => {$(
        for value in <$ty>::ALL {
            let back: $ty = diesel::select(value.into_sql::<Text>()).get_result($conn).expect("typed read");
            assert_eq!(back, *value);
            let text: String = diesel::select(value.into_sql::<Text>()).get_result($conn).expect("text read");
            assert_eq!(text, value.as_str());
        }
        match diesel::select("no_such_value".into_sql::<Text>()).get_result::<$ty>($conn) {
            Err(err @ diesel::result::Error::DeserializationError(_)) => {
                assert!(chain(&err).contains("\"no_such_value\""), "{}", chain(&err))
            }
            other => panic!("{} read {other:?}", stringify!($ty)),
        }
    )+};
}

#[tokio::test]
async fn every_stored_enum_and_zone_round_trips_and_nothing_else_reads() {
    let app = spawn_app().await;
    let conn = &mut app.db();
    round_trips!(
        conn,
        Role,
        MemberState,
        SessionStatus,
        RsvpResponse,
        AttendanceStatus,
        ExperimentState,
        Visibility,
        OutcomeResult,
        SwapKind,
        SwapState,
        VersionState,
        ReviewUnit,
    );
    for tz in chrono_tz::TZ_VARIANTS {
        let zone = TimeZone(tz);
        let back: TimeZone = diesel::select(zone.into_sql::<Text>()).get_result(conn).unwrap();
        assert_eq!(back, zone);
    }
    let unknown = diesel::select("Mars/Olympus".into_sql::<Text>()).get_result::<TimeZone>(conn).unwrap_err();
    assert!(chain(&unknown).contains("\"Mars/Olympus\""), "{}", chain(&unknown));
    // Nullable columns too (experiments.outcome_result).
    let none: Option<OutcomeResult> =
        diesel::select(None::<OutcomeResult>.into_sql::<diesel::sql_types::Nullable<Text>>()).get_result(conn).unwrap();
    assert_eq!(none, None);
}

#[tokio::test]
async fn row_structs_hold_typed_values_and_refuse_a_hand_edit_naming_column_and_value() {
    let app = spawn_app().await;
    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Typed rows").await;
    let conn = &mut app.db();
    let row: CohortRow = cohorts::table.find(&cohort).select(CohortRow::as_select()).first(conn).unwrap();
    assert_eq!(row.time_zone, TimeZone(chrono_tz::Europe::Berlin));
    let membership: MembershipRow = memberships::table.select(MembershipRow::as_select()).first(conn).unwrap();
    assert_eq!((membership.role, membership.state), (Role::Organizer, MemberState::Active));

    hand_edit(&app, "memberships", "role", "UPDATE memberships SET role = 'owner'");
    let err = memberships::table.select(MembershipRow::as_select()).first::<MembershipRow>(conn).unwrap_err();
    let logged = chain(&err);
    assert!(matches!(err, diesel::result::Error::DeserializationError(_)), "{logged}");
    assert!(logged.contains("'role'") && logged.contains("\"owner\""), "{logged}");

    hand_edit(&app, "cohorts", "time_zone", "UPDATE cohorts SET time_zone = 'Mars/Olympus'");
    let err = cohorts::table.select(CohortRow::as_select()).first::<CohortRow>(conn).unwrap_err();
    let logged = chain(&err);
    assert!(logged.contains("'time_zone'") && logged.contains("\"Mars/Olympus\""), "{logged}");
}
