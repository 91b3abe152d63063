//! Feed tokens and what a feed reads: a handful of queries per feed, whatever its size (sessions
//! with their cohorts; revisions; cancellations; duties; skill-share slots; experiments), never
//! one per session.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::dsl::max;
use diesel::prelude::*;

use super::ics::{self, DueEntry, SessionEntry, Slot, SlotPart};
use crate::cohorts::model::{MemberState, Role};
use crate::db::schema::{
    assignments, calendar_feeds, cohorts, duty_roles, events, experiments, feed_revisions, memberships, sessions, users,
};
use crate::db::types::TimeZone;
use crate::db::{AnyConnection, CohortId, SessionId, UserId, new_id};
use crate::error::ApiResult;
use crate::events::EventKind;
use crate::experiments::lifecycle::ExperimentState;
use crate::sessions::model::{SessionRow, SessionStatus};
use crate::skillshares::waitlist::SignupStatus;

/// The scope of a user's own feed (`calendar_feeds.scope`); a cohort feed's scope is its id.
pub const MINE: &str = "me";

/// Whose feed a token opens.
#[derive(Debug, Clone)]
pub struct FeedOwner {
    pub user_id: UserId,
    pub cohort_id: Option<CohortId>,
}

/// Stores the hash of a new secret for the user's feed of `scope`, replacing the one before
/// (the old URL stops working with this commit). True when the feed is new.
pub fn put_feed(
    conn: &mut AnyConnection,
    user_id: &UserId,
    cohort_id: Option<&CohortId>,
    token_hash: &str,
    now: NaiveDateTime,
) -> ApiResult<bool> {
    let scope = cohort_id.map_or(MINE, |c| c.as_str());
    let existed: i64 = calendar_feeds::table
        .filter(calendar_feeds::user_id.eq(user_id))
        .filter(calendar_feeds::scope.eq(scope))
        .count()
        .get_result(conn)?;
    let id = new_id();
    crate::per_backend!(conn, |c| {
        diesel::insert_into(calendar_feeds::table)
            .values((
                calendar_feeds::id.eq(&id),
                calendar_feeds::user_id.eq(user_id),
                calendar_feeds::cohort_id.eq(cohort_id),
                calendar_feeds::scope.eq(scope),
                calendar_feeds::token_hash.eq(token_hash),
                calendar_feeds::created_at.eq(now),
            ))
            .on_conflict((calendar_feeds::user_id, calendar_feeds::scope))
            .do_update()
            .set((calendar_feeds::token_hash.eq(token_hash), calendar_feeds::created_at.eq(now)))
            .execute(c)
    })?;
    Ok(existed == 0)
}

/// The feed whose secret hashes to `token_hash`.
pub fn feed_by_hash(conn: &mut AnyConnection, token_hash: &str) -> ApiResult<Option<FeedOwner>> {
    let row: Option<(UserId, Option<CohortId>)> = calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(token_hash))
        .select((calendar_feeds::user_id, calendar_feeds::cohort_id))
        .first(conn)
        .optional()?;
    Ok(row.map(|(user_id, cohort_id)| FeedOwner { user_id, cohort_id }))
}

pub fn display_name(conn: &mut AnyConnection, user_id: &UserId) -> ApiResult<Option<String>> {
    Ok(users::table.find(user_id).select(users::display_name).first(conn).optional()?)
}

/// The cohort's name when `user_id` is, now, an organizer of it who has not left, and it is not
/// archived.
pub fn organized_cohort(conn: &mut AnyConnection, user_id: &UserId, cohort_id: &CohortId) -> ApiResult<Option<String>> {
    Ok(cohorts::table
        .inner_join(memberships::table)
        .filter(cohorts::id.eq(cohort_id))
        .filter(cohorts::archived_at.is_null())
        .filter(memberships::user_id.eq(user_id))
        .filter(memberships::role.eq(Role::Organizer.as_str()))
        .filter(memberships::state.ne(MemberState::Left.as_str()))
        .select(cohorts::name)
        .first(conn)
        .optional()?)
}

type Row = (SessionRow, String, TimeZone);

/// The user's sessions starting in the window, across the cohorts they are in now (not left,
/// cohort not archived); or, for a cohort feed, that cohort's.
fn sessions_in_window(
    conn: &mut AnyConnection,
    user_id: &UserId,
    cohort_id: Option<&CohortId>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Row>> {
    let (from, to) = ics::window(now);
    let mut query = sessions::table
        .inner_join(cohorts::table)
        .inner_join(
            memberships::table.on(memberships::cohort_id.eq(sessions::cohort_id).and(memberships::user_id.eq(user_id))),
        )
        .filter(memberships::state.ne(MemberState::Left.as_str()))
        .filter(cohorts::archived_at.is_null())
        .filter(sessions::starts_at.ge(from.naive_utc()))
        .filter(sessions::starts_at.lt(to.naive_utc()))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .select((SessionRow::as_select(), cohorts::name, cohorts::time_zone))
        .into_boxed();
    if let Some(cohort_id) = cohort_id {
        query = query.filter(sessions::cohort_id.eq(cohort_id));
    }
    Ok(query.load(conn)?)
}

/// One session, for the single download (the caller's access is checked by the route).
pub fn one_session(conn: &mut AnyConnection, session_id: &SessionId) -> ApiResult<Option<Row>> {
    Ok(sessions::table
        .inner_join(cohorts::table)
        .filter(sessions::id.eq(session_id))
        .select((SessionRow::as_select(), cohorts::name, cohorts::time_zone))
        .first(conn)
        .optional()?)
}

/// Revisions (sequence, changed at) of these subjects, in one query.
fn revisions(conn: &mut AnyConnection, ids: &[String]) -> ApiResult<HashMap<String, (i32, NaiveDateTime)>> {
    let rows: Vec<(String, i32, NaiveDateTime)> = feed_revisions::table
        .filter(feed_revisions::subject_id.eq_any(ids))
        .select((feed_revisions::subject_id, feed_revisions::sequence, feed_revisions::changed_at))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, seq, at)| (id, (seq, at))).collect())
}

/// When each of these sessions was last cancelled (its latest `session.cancelled` event).
fn cancellations(conn: &mut AnyConnection, ids: &[String]) -> ApiResult<HashMap<String, NaiveDateTime>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, Option<NaiveDateTime>)> = events::table
        .filter(events::kind.eq(EventKind::SessionCancelled.as_str()))
        .filter(events::subject_id.eq_any(ids))
        .group_by(events::subject_id)
        .select((events::subject_id, max(events::created_at)))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, at)| Some((id, at?))).collect())
}

/// Items keyed by session id.
type BySession<T> = HashMap<String, Vec<T>>;

/// Every duty of these sessions with its holder's name, in role order (for cohort feeds).
fn duty_holders(conn: &mut AnyConnection, ids: &[SessionId]) -> ApiResult<BySession<(String, Option<String>)>> {
    let rows: Vec<(SessionId, String, Option<String>)> = assignments::table
        .inner_join(duty_roles::table)
        .left_join(users::table.on(users::id.nullable().eq(assignments::user_id)))
        .filter(assignments::session_id.eq_any(ids))
        .order((duty_roles::position.asc(), assignments::id.asc()))
        .select((assignments::session_id, duty_roles::name, users::display_name.nullable()))
        .load(conn)?;
    let mut by_session: BySession<(String, Option<String>)> = HashMap::new();
    for (session, role, holder) in rows {
        by_session.entry(session.into_string()).or_default().push((role, holder));
    }
    Ok(by_session)
}

/// The reader's duties and skill-share slots in these sessions (three queries).
fn mine(
    conn: &mut AnyConnection,
    user_id: &UserId,
    ids: &[SessionId],
) -> ApiResult<(BySession<String>, BySession<Slot>)> {
    let mut duties: HashMap<String, Vec<String>> = HashMap::new();
    for (session, _, role, _) in crate::rota::store::duties_of(conn, user_id, ids)? {
        duties.entry(session.into_string()).or_default().push(role);
    }
    let parts = crate::skillshares::store::mine_in_sessions(conn, ids, user_id)?;
    let waiting: Vec<String> =
        parts.iter().filter(|p| p.4 == Some(SignupStatus::Waitlisted)).map(|p| p.1.clone()).collect();
    let places = if waiting.is_empty() {
        HashMap::new()
    } else {
        crate::skillshares::store::my_places(conn, &waiting, user_id)?
    };
    let mut slots: HashMap<String, Vec<Slot>> = HashMap::new();
    for (session, id, title, presenting, status) in parts {
        let part = match (presenting, status) {
            (true, _) => SlotPart::Presenting,
            (false, Some(SignupStatus::Waitlisted)) => SlotPart::Waitlisted(places.get(&id).and_then(|(_, p)| *p)),
            _ => SlotPart::Attending,
        };
        slots.entry(session.into_string()).or_default().push(Slot { title, part });
    }
    Ok((duties, slots))
}

/// The sessions as the feed shows them: the reader's duties and slots (`reader`), or every duty
/// and its holder (`cohort_view`).
fn entries(
    conn: &mut AnyConnection,
    rows: Vec<Row>,
    reader: &UserId,
    cohort_view: bool,
) -> ApiResult<Vec<SessionEntry>> {
    let ids: Vec<SessionId> = rows.iter().map(|(s, _, _)| s.id.clone()).collect();
    let texts: Vec<String> = ids.iter().map(|id| id.as_str().to_string()).collect();
    let revisions = revisions(conn, &texts)?;
    let cancelled: Vec<String> = rows
        .iter()
        .filter(|(s, _, _)| s.status == SessionStatus::Cancelled)
        .map(|(s, _, _)| s.id.as_str().to_string())
        .collect();
    let cancellations = cancellations(conn, &cancelled)?;
    let (mut duties, mut slots) = if cohort_view { Default::default() } else { mine(conn, reader, &ids)? };
    let mut holders = if cohort_view { duty_holders(conn, &ids)? } else { HashMap::new() };
    Ok(rows
        .into_iter()
        .map(|(s, cohort, _)| {
            let id = s.id.as_str().to_string();
            let (sequence, changed_at) = revisions.get(&id).copied().unwrap_or((0, s.updated_at));
            SessionEntry {
                title: s.title,
                location: s.location,
                cohort,
                starts_at: s.starts_at.and_utc(),
                ends_at: s.ends_at.and_utc(),
                cancelled: s.status == SessionStatus::Cancelled,
                cancel_reason: s.cancel_reason,
                cancelled_at: cancellations.get(&id).map(|at| at.and_utc()),
                sequence: u32::try_from(sequence).unwrap_or(0),
                last_modified: s.updated_at.max(changed_at).and_utc(),
                my_duties: duties.remove(&id).unwrap_or_default(),
                duty_holders: cohort_view.then(|| holders.remove(&id).unwrap_or_default()),
                my_slots: slots.remove(&id).unwrap_or_default(),
                id,
            }
        })
        .collect())
}

/// The sessions of a feed: the user's own (`cohort_id` None) or a cohort's.
pub fn feed_sessions(
    conn: &mut AnyConnection,
    user_id: &UserId,
    cohort_id: Option<&CohortId>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<SessionEntry>> {
    let rows = sessions_in_window(conn, user_id, cohort_id, now)?;
    entries(conn, rows, user_id, cohort_id.is_some())
}

/// One session as the reader sees it.
pub fn session_entry(conn: &mut AnyConnection, row: Row, reader: &UserId) -> ApiResult<SessionEntry> {
    Ok(entries(conn, vec![row], reader, false)?.remove(0))
}

/// The user's own experiments with a due date (a date, or a session: its local date in the
/// cohort's zone) that are not done or dropped, in the cohorts they are in now. Two queries.
pub fn my_due_dates(conn: &mut AnyConnection, user_id: &UserId) -> ApiResult<Vec<DueEntry>> {
    type ExperimentRow = (String, String, Option<String>, Option<String>, NaiveDateTime, String, TimeZone);
    let rows: Vec<ExperimentRow> = experiments::table
        .inner_join(cohorts::table.on(cohorts::id.eq(experiments::cohort_id)))
        .inner_join(
            memberships::table
                .on(memberships::cohort_id.eq(experiments::cohort_id).and(memberships::user_id.eq(user_id))),
        )
        .filter(experiments::owner_id.eq(user_id))
        .filter(experiments::state.ne_all([ExperimentState::Done.as_str(), ExperimentState::Dropped.as_str()]))
        .filter(experiments::due_on.is_not_null().or(experiments::due_session_id.is_not_null()))
        .filter(memberships::state.ne(MemberState::Left.as_str()))
        .filter(cohorts::archived_at.is_null())
        .order(experiments::id.asc())
        .select((
            experiments::id,
            experiments::title,
            experiments::due_on,
            experiments::due_session_id,
            experiments::updated_at,
            cohorts::name,
            cohorts::time_zone,
        ))
        .load(conn)?;
    let session_ids: Vec<String> = rows.iter().filter_map(|r| r.3.clone()).collect();
    let starts: HashMap<String, NaiveDateTime> = if session_ids.is_empty() {
        HashMap::new()
    } else {
        sessions::table
            .filter(sessions::id.eq_any(&session_ids))
            .select((sessions::id, sessions::starts_at))
            .load::<(String, NaiveDateTime)>(conn)?
            .into_iter()
            .collect()
    };
    let mut subjects: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    subjects.extend(session_ids.iter().cloned());
    let revisions = revisions(conn, &subjects)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, title, due_on, due_session, updated_at, cohort, zone)| {
            let due_on = match (&due_on, &due_session) {
                (Some(day), _) => NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?,
                (None, Some(session)) => starts.get(session)?.and_utc().with_timezone(&zone.tz()).date_naive(),
                (None, None) => return None,
            };
            // A due session's own changes move the due date: its revisions count too.
            let own = revisions.get(&id).copied().unwrap_or((0, updated_at));
            let via = due_session.as_ref().and_then(|s| revisions.get(s).copied()).unwrap_or((0, updated_at));
            Some(DueEntry {
                sequence: u32::try_from(own.0 + via.0).unwrap_or(0),
                last_modified: updated_at.max(own.1).max(via.1).and_utc(),
                id,
                title,
                cohort,
                due_on,
            })
        })
        .collect())
}
