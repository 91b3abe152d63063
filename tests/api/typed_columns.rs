//! Roles, states and time zones are typed columns: a stored value that no variant has (a hand
//! edit past the CHECK constraints) makes the query fail, with a 500, instead of being read as
//! some least-privileged variant or as UTC.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use roundtable::charter::model::VersionState;
use roundtable::charter::review::ReviewUnit;
use roundtable::cohorts::model::{CohortRow, MemberState, MembershipRow, Role};
use roundtable::db::schema::{absences, cohorts, memberships, sessions};
use roundtable::db::{AnyConnection, CohortId, SessionId, TimeZone, UserId};
use roundtable::experiments::lifecycle::{ExperimentState, OutcomeResult, Visibility};
use roundtable::rota::model::{AbsenceRow, SwapKind, SwapState};
use roundtable::sessions::model::{AttendanceStatus, RsvpResponse, SessionRow, SessionStatus};
use serde_json::json;

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

/// Each id newtype goes to its `Text` column as the bare id and comes back as itself, on either
/// backend (this runs on PostgreSQL too), nullable or not.
macro_rules! ids_round_trip {
    ($conn:expr, $($ty:ty),+ $(,)?) => {$(
        let id = <$ty>::new();
        let back: $ty = diesel::select(id.clone().into_sql::<Text>()).get_result($conn).expect("typed read");
        assert_eq!(back, id);
        let text: String = diesel::select(id.clone().into_sql::<Text>()).get_result($conn).expect("text read");
        assert_eq!(text, id.as_str(), "stored as the bare id");
        let from_text: $ty = diesel::select(text.into_sql::<Text>()).get_result($conn).expect("text read as the id");
        assert_eq!(from_text, id);
        let some: Option<$ty> =
            diesel::select(Some(id.clone()).into_sql::<diesel::sql_types::Nullable<Text>>()).get_result($conn).unwrap();
        assert_eq!(some, Some(id));
        let none: Option<$ty> =
            diesel::select(None::<$ty>.into_sql::<diesel::sql_types::Nullable<Text>>()).get_result($conn).unwrap();
        assert_eq!(none, None);
    )+};
}

/// Ids are typed columns too: a user's, a cohort's and a session's id each round-trip through
/// the database, the JSON ids of the API read as them, and the row structs hold them typed (each
/// `let` below names the type: a `String` field would not compile).
#[tokio::test]
async fn ids_round_trip_and_row_structs_hold_them_typed() {
    let app = spawn_app().await;
    let conn = &mut app.db();
    ids_round_trip!(conn, UserId, CohortId, SessionId);

    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Typed ids").await;
    let start = (app.clock_now() + chrono::Duration::days(3)).format("%Y-%m-%dT18:00").to_string();
    let body = json!({"local_start": start, "duration_minutes": 60});
    let created = app.post_json_as(&format!("/api/v1/cohorts/{cohort}/sessions"), &organizer.access_token, &body).await;
    assert_eq!(created.status(), 201);
    let session: serde_json::Value = created.json().await.unwrap();
    let absence = json!({"session_id": session["id"]});
    let added =
        app.post_json_as(&format!("/api/v1/cohorts/{cohort}/absences"), &organizer.access_token, &absence).await;
    assert_eq!(added.status(), 201);
    // The ids on the wire are the bare strings: they read as the typed ids.
    let user_id: UserId = serde_json::from_value(json!(organizer.id)).unwrap();
    let cohort_id: CohortId = serde_json::from_value(json!(cohort)).unwrap();
    let session_id: SessionId = serde_json::from_value(session["id"].clone()).unwrap();
    assert_eq!(serde_json::to_value(&session_id).unwrap(), session["id"], "serialised as the bare string");

    let cohort_row: CohortRow = cohorts::table.find(&cohort_id).select(CohortRow::as_select()).first(conn).unwrap();
    let (id, created_by): (&CohortId, Option<&UserId>) = (&cohort_row.id, cohort_row.created_by.as_ref());
    assert_eq!((id, created_by), (&cohort_id, Some(&user_id)));
    let membership: MembershipRow = memberships::table
        .filter(memberships::cohort_id.eq(&cohort_id))
        .select(MembershipRow::as_select())
        .first(conn)
        .unwrap();
    let (in_cohort, member): (&CohortId, &UserId) = (&membership.cohort_id, &membership.user_id);
    assert_eq!((in_cohort, member), (&cohort_id, &user_id));
    let session_row: SessionRow =
        sessions::table.find(&session_id).select(SessionRow::as_select()).first(conn).unwrap();
    let (id, in_cohort): (&SessionId, &CohortId) = (&session_row.id, &session_row.cohort_id);
    assert_eq!((id, in_cohort), (&session_id, &cohort_id));
    let absence_row: AbsenceRow = absences::table
        .filter(absences::session_id.eq(&session_id))
        .select(AbsenceRow::as_select())
        .first(conn)
        .unwrap();
    let (in_cohort, member, of_session): (&CohortId, &UserId, Option<&SessionId>) =
        (&absence_row.cohort_id, &absence_row.user_id, absence_row.session_id.as_ref());
    assert_eq!((in_cohort, member, of_session), (&cohort_id, &user_id, Some(&session_id)));
}
