use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::model::{
    ActionItem, ActionItemView, Attendance, AttendanceStatus, MyRsvp, RsvpCounts, RsvpResponse, RsvpView, SeriesRow,
    SessionFilter, SessionRow,
};
use crate::cohorts::model::MemberState;
use crate::db::schema::{
    cohorts, memberships, session_action_items as items, session_attendance as attendance, session_rsvps as rsvps,
    session_series as series, sessions, users,
};
use crate::db::{AnyConnection, CohortId, SessionId, TimeZone, UserId, new_id};
use crate::error::ApiResult;
use crate::pagination::{PageRequest, after_cursor};
use crate::people::Person;

/// Which of these ids are active members of the cohort, in one query.
pub fn active_members_among(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    ids: &[String],
) -> ApiResult<HashSet<String>> {
    let found: Vec<String> = memberships::table
        .filter(memberships::cohort_id.eq(cohort_id))
        .filter(memberships::user_id.eq_any(ids))
        .filter(memberships::state.eq(MemberState::Active.as_str()))
        .select(memberships::user_id)
        .load(conn)?;
    Ok(found.into_iter().collect())
}

pub fn insert_series(conn: &mut AnyConnection, row: &SeriesRow) -> ApiResult<()> {
    diesel::insert_into(series::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_series(conn: &mut AnyConnection, cohort_id: &CohortId, id: &str) -> ApiResult<Option<SeriesRow>> {
    Ok(series::table
        .filter(series::cohort_id.eq(cohort_id))
        .filter(series::id.eq(id))
        .select(SeriesRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_series(conn: &mut AnyConnection, cohort_id: &CohortId, page: &PageRequest) -> ApiResult<Vec<SeriesRow>> {
    let mut query = series::table
        .filter(series::cohort_id.eq(cohort_id))
        .order((series::created_at.asc(), series::id.asc()))
        .limit(page.fetch_limit())
        .select(SeriesRow::as_select())
        .into_boxed();
    query = after_cursor!(query, page, series::created_at, series::id);
    Ok(query.load(conn)?)
}

/// Every series of a cohort that is not archived, with the cohort's zone and agenda template.
pub fn active_series(conn: &mut AnyConnection) -> ApiResult<Vec<(SeriesRow, TimeZone, Option<String>)>> {
    Ok(series::table
        .inner_join(cohorts::table)
        .filter(cohorts::archived_at.is_null())
        .select((SeriesRow::as_select(), cohorts::time_zone, cohorts::agenda_template))
        .load(conn)?)
}

pub fn set_series_end(conn: &mut AnyConnection, id: &str, ends_before: &str) -> ApiResult<()> {
    diesel::update(series::table.find(id)).set(series::ends_before.eq(ends_before)).execute(conn)?;
    Ok(())
}

pub fn set_materialized(conn: &mut AnyConnection, id: &str, until: &str) -> ApiResult<()> {
    diesel::update(series::table.find(id)).set(series::materialized_until.eq(until)).execute(conn)?;
    Ok(())
}

pub fn insert_session(conn: &mut AnyConnection, row: &SessionRow) -> ApiResult<()> {
    diesel::insert_into(sessions::table).values(row).execute(conn)?;
    Ok(())
}

/// Takes the session's row lock until the transaction ends (a no-op update, on PostgreSQL as on
/// SQLite). Callers take the cohort's lock first: one order everywhere, so no deadlock.
pub fn lock_session(conn: &mut AnyConnection, id: &SessionId) -> ApiResult<()> {
    diesel::update(sessions::table.find(id)).set(sessions::id.eq(sessions::id)).execute(conn)?;
    Ok(())
}

pub fn find_session(conn: &mut AnyConnection, id: &SessionId) -> ApiResult<Option<SessionRow>> {
    Ok(sessions::table.find(id).select(SessionRow::as_select()).first(conn).optional()?)
}

/// The cohort's next session that is not cancelled.
pub fn next_session(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    now: NaiveDateTime,
) -> ApiResult<Option<SessionRow>> {
    Ok(sessions::table
        .filter(sessions::cohort_id.eq(cohort_id))
        .filter(sessions::starts_at.gt(now))
        .filter(sessions::status.ne(super::model::SessionStatus::Cancelled.as_str()))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?)
}

/// A cohort's upcoming sessions that follow their series as planned.
pub fn upcoming_series_sessions(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    now: NaiveDateTime,
) -> ApiResult<Vec<SessionRow>> {
    Ok(sessions::table
        .filter(sessions::cohort_id.eq(cohort_id))
        .filter(sessions::series_id.is_not_null())
        .filter(sessions::status.eq(super::model::SessionStatus::Scheduled.as_str()))
        .filter(sessions::starts_at.gt(now))
        .select(SessionRow::as_select())
        .load(conn)?)
}

/// The occurrence keys a series already has in `[from, to]`.
pub fn keys_between(conn: &mut AnyConnection, series_id: &str, from: &str, to: &str) -> ApiResult<Vec<String>> {
    Ok(sessions::table
        .filter(sessions::series_id.eq(series_id))
        .filter(sessions::occurrence_key.ge(from))
        .filter(sessions::occurrence_key.le(to))
        .select(sessions::occurrence_key.assume_not_null())
        .load(conn)?)
}

/// A series' sessions from `key` on, any status.
pub fn from_key(conn: &mut AnyConnection, series_id: &str, key: &str) -> ApiResult<Vec<SessionRow>> {
    Ok(sessions::table
        .filter(sessions::series_id.eq(series_id))
        .filter(sessions::occurrence_key.ge(key))
        .order(sessions::occurrence_key.asc())
        .select(SessionRow::as_select())
        .load(conn)?)
}

/// Replaces a session row's stored fields (the id stays).
pub fn save_session(conn: &mut AnyConnection, row: &SessionRow) -> ApiResult<()> {
    diesel::update(sessions::table.find(&row.id))
        .set((
            sessions::series_id.eq(&row.series_id),
            sessions::occurrence_key.eq(&row.occurrence_key),
            sessions::title.eq(&row.title),
            sessions::location.eq(&row.location),
            sessions::starts_at.eq(row.starts_at),
            sessions::ends_at.eq(row.ends_at),
            sessions::status.eq(&row.status),
            sessions::cancel_reason.eq(&row.cancel_reason),
            sessions::agenda.eq(&row.agenda),
            sessions::notes.eq(&row.notes),
            sessions::notes_published_at.eq(row.notes_published_at),
            sessions::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn list(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    filter: &SessionFilter,
    page: &PageRequest,
) -> ApiResult<Vec<SessionRow>> {
    let mut query = sessions::table
        .filter(sessions::cohort_id.eq(cohort_id))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .limit(page.fetch_limit())
        .select(SessionRow::as_select())
        .into_boxed();
    if let Some(from) = filter.from {
        query = query.filter(sessions::starts_at.ge(from.naive_utc()));
    }
    if let Some(to) = filter.to {
        query = query.filter(sessions::starts_at.lt(to.naive_utc()));
    }
    query = after_cursor!(query, page, sessions::starts_at, sessions::id);
    Ok(query.load(conn)?)
}

/// The user's answers for these sessions, in one query.
pub fn my_rsvps(
    conn: &mut AnyConnection,
    ids: &[SessionId],
    user_id: &UserId,
) -> ApiResult<HashMap<SessionId, MyRsvp>> {
    let rows: Vec<(SessionId, RsvpResponse, String)> = rsvps::table
        .filter(rsvps::session_id.eq_any(ids))
        .filter(rsvps::user_id.eq(user_id))
        .select((rsvps::session_id, rsvps::response, rsvps::note))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, response, note)| (id, MyRsvp { response, note })).collect())
}

/// The caller's answer, as one upsert: two identical first answers at once both succeed.
pub fn set_rsvp(
    conn: &mut AnyConnection,
    session_id: &SessionId,
    user_id: &UserId,
    response: RsvpResponse,
    note: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    crate::per_backend!(conn, |c| {
        diesel::insert_into(rsvps::table)
            .values((
                rsvps::session_id.eq(session_id),
                rsvps::user_id.eq(user_id),
                rsvps::response.eq(response.as_str()),
                rsvps::note.eq(note),
                rsvps::updated_at.eq(now.naive_utc()),
            ))
            .on_conflict((rsvps::session_id, rsvps::user_id))
            .do_update()
            .set((rsvps::response.eq(response.as_str()), rsvps::note.eq(note), rsvps::updated_at.eq(now.naive_utc())))
            .execute(c)
    })?;
    Ok(())
}

pub fn rsvp_counts(conn: &mut AnyConnection, session_id: &SessionId) -> ApiResult<RsvpCounts> {
    let rows: Vec<(RsvpResponse, i64)> = rsvps::table
        .filter(rsvps::session_id.eq(session_id))
        .group_by(rsvps::response)
        .select((rsvps::response, diesel::dsl::count_star()))
        .load(conn)?;
    let count = |r: RsvpResponse| rows.iter().find(|(s, _)| *s == r).map_or(0, |(_, n)| *n);
    Ok(RsvpCounts { yes: count(RsvpResponse::Yes), no: count(RsvpResponse::No), maybe: count(RsvpResponse::Maybe) })
}

/// A session's attendance with each person, in one query.
pub fn attendance(conn: &mut AnyConnection, session_id: &SessionId) -> ApiResult<Vec<Attendance>> {
    let rows: Vec<(UserId, String, AttendanceStatus)> = attendance::table
        .inner_join(users::table.on(users::id.eq(attendance::user_id)))
        .filter(attendance::session_id.eq(session_id))
        .order(attendance::user_id.asc())
        .select((attendance::user_id, users::display_name, attendance::status))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(user_id, name, status)| Attendance { user: Person::new(user_id.clone(), name), user_id, status })
        .collect())
}

/// Every answer to a session with each person, in one query: at most one per member.
pub fn rsvps(conn: &mut AnyConnection, session_id: &SessionId) -> ApiResult<Vec<RsvpView>> {
    let rows: Vec<(UserId, String, RsvpResponse, String, NaiveDateTime)> = rsvps::table
        .inner_join(users::table.on(users::id.eq(rsvps::user_id)))
        .filter(rsvps::session_id.eq(session_id))
        .order((users::display_name.asc(), rsvps::user_id.asc()))
        .select((rsvps::user_id, users::display_name, rsvps::response, rsvps::note, rsvps::updated_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(user_id, name, response, note, updated_at)| RsvpView {
            user: Person::new(user_id.clone(), name),
            user_id,
            response,
            note,
            updated_at: updated_at.and_utc(),
        })
        .collect())
}

/// Who last wrote the session's notes, if anyone (and they still have an account).
pub fn notes_author(conn: &mut AnyConnection, session_id: &SessionId) -> ApiResult<Option<Person>> {
    let row: Option<(Option<UserId>, Option<String>)> = sessions::table
        .left_join(users::table.on(users::id.nullable().eq(sessions::notes_author_id)))
        .filter(sessions::id.eq(session_id))
        .select((users::id.nullable(), users::display_name.nullable()))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(id, name)| Person::maybe(id, name)))
}

pub fn set_notes_author(conn: &mut AnyConnection, session_id: &SessionId, user_id: &UserId) -> ApiResult<()> {
    diesel::update(sessions::table.find(session_id)).set(sessions::notes_author_id.eq(user_id)).execute(conn)?;
    Ok(())
}

/// One person's attendance, as one upsert.
pub fn record_attendance(
    conn: &mut AnyConnection,
    session_id: &SessionId,
    user_id: &UserId,
    status: AttendanceStatus,
    by: &UserId,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    crate::per_backend!(conn, |c| {
        diesel::insert_into(attendance::table)
            .values((
                attendance::session_id.eq(session_id),
                attendance::user_id.eq(user_id),
                attendance::status.eq(status.as_str()),
                attendance::recorded_by.eq(by),
                attendance::recorded_at.eq(now.naive_utc()),
            ))
            .on_conflict((attendance::session_id, attendance::user_id))
            .do_update()
            .set((
                attendance::status.eq(status.as_str()),
                attendance::recorded_by.eq(by),
                attendance::recorded_at.eq(now.naive_utc()),
            ))
            .execute(c)
    })?;
    Ok(())
}

/// text, owner_id, due_on, and the owner's id and name when they still have an account.
type ActionItemRow = (String, Option<UserId>, Option<String>, Option<UserId>, Option<String>);

/// A session's action items in order, each with its owner, in one query.
pub fn action_items(conn: &mut AnyConnection, session_id: &SessionId) -> ApiResult<Vec<ActionItemView>> {
    let rows: Vec<ActionItemRow> = items::table
        .left_join(users::table.on(items::owner_id.eq(users::id.nullable())))
        .filter(items::session_id.eq(session_id))
        .order(items::position.asc())
        .select((items::text, items::owner_id, items::due_on, users::id.nullable(), users::display_name.nullable()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(text, owner_id, due_on, id, name)| ActionItemView {
            text,
            owner_id,
            owner: Person::maybe(id, name),
            due_on: due_on.and_then(|d| d.parse().ok()),
        })
        .collect())
}

/// Replaces the list: call it under the session's row lock (see `lock_session`), so that two
/// replacements at once leave one list, never both merged.
pub fn replace_action_items(
    conn: &mut AnyConnection,
    session_id: &SessionId,
    list: &[ActionItem],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    diesel::delete(items::table.filter(items::session_id.eq(session_id))).execute(conn)?;
    for (position, item) in list.iter().enumerate() {
        diesel::insert_into(items::table)
            .values((
                items::id.eq(new_id()),
                items::session_id.eq(session_id),
                items::position.eq(position as i32),
                items::text.eq(&item.text),
                items::owner_id.eq(&item.owner_id),
                items::due_on.eq(item.due_on.map(|d| d.to_string())),
                items::created_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub type MySessionRow = (SessionRow, TimeZone, Option<RsvpResponse>, Option<String>);

/// The user's sessions from `now` on across their cohorts (not left, not archived), with the cohort's zone
/// and their answer: one query per page.
pub fn my_sessions(
    conn: &mut AnyConnection,
    user_id: &UserId,
    now: NaiveDateTime,
    page: &PageRequest,
) -> ApiResult<Vec<MySessionRow>> {
    let mut query = sessions::table
        .inner_join(cohorts::table)
        .inner_join(
            memberships::table.on(memberships::cohort_id.eq(sessions::cohort_id).and(memberships::user_id.eq(user_id))),
        )
        .left_join(rsvps::table.on(rsvps::session_id.eq(sessions::id).and(rsvps::user_id.eq(user_id))))
        .filter(memberships::state.ne(MemberState::Left.as_str()))
        .filter(cohorts::archived_at.is_null())
        .filter(sessions::ends_at.gt(now))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .limit(page.fetch_limit())
        .select((SessionRow::as_select(), cohorts::time_zone, rsvps::response.nullable(), rsvps::note.nullable()))
        .into_boxed();
    query = after_cursor!(query, page, sessions::starts_at, sessions::id);
    Ok(query.load(conn)?)
}
