//! Skill shares and their sign-ups in the database. Every change to a slot's sign-ups runs under
//! the slot's row lock (`lock_slot`), taken before anything is read: the lock queues concurrent
//! sign-ups, so the database decides who came first, and arrival numbers (unique per slot)
//! record it.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{SignupRow, SignupStatus, SlotRow, SlotStatus};
use crate::db::schema::{
    absences, cohorts, experiments, memberships, session_rsvps as rsvps, sessions, skill_share_signups as signups,
    skill_shares as slots, users,
};
use crate::db::{AnyConnection, CohortId, SessionId, TimeZone, UserId};
use crate::error::ApiResult;
use crate::experiments::lifecycle::Visibility;
use crate::pagination::{PageRequest, after_cursor};
use crate::people::Person;
use crate::rota::model::AbsenceRow;
use crate::sessions::model::SessionStatus;

pub fn insert_slot(conn: &mut AnyConnection, row: &SlotRow) -> ApiResult<()> {
    diesel::insert_into(slots::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_slot(conn: &mut AnyConnection, id: &str) -> ApiResult<Option<SlotRow>> {
    Ok(slots::table.find(id).select(SlotRow::as_select()).first(conn).optional()?)
}

/// Takes the slot's row lock (PostgreSQL: held to the end of the transaction; SQLite: the
/// process's one writer holds it already).
pub fn lock_slot(conn: &mut AnyConnection, id: &str) -> ApiResult<()> {
    diesel::update(slots::table.find(id)).set(slots::id.eq(slots::id)).execute(conn)?;
    Ok(())
}

pub fn save_slot(conn: &mut AnyConnection, row: &SlotRow) -> ApiResult<()> {
    diesel::update(slots::table.find(&row.id))
        .set((
            slots::session_id.eq(&row.session_id),
            slots::title.eq(&row.title),
            slots::summary.eq(&row.summary),
            slots::minutes.eq(row.minutes),
            slots::capacity.eq(row.capacity),
            slots::experiment_id.eq(&row.experiment_id),
            slots::status.eq(row.status),
            slots::next_arrival.eq(row.next_arrival),
            slots::approved_by.eq(&row.approved_by),
            slots::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The slots of one session with these statuses, oldest first.
pub fn slots_of_session(
    conn: &mut AnyConnection,
    session_id: &str,
    statuses: &[SlotStatus],
) -> ApiResult<Vec<SlotRow>> {
    Ok(slots::table
        .filter(slots::session_id.eq(session_id))
        .filter(slots::status.eq_any(statuses.iter().map(|s| s.as_str())))
        .order(slots::id.asc())
        .select(SlotRow::as_select())
        .load(conn)?)
}

pub fn count_slots_of_session(conn: &mut AnyConnection, session_id: &str) -> ApiResult<i64> {
    Ok(slots::table
        .filter(slots::session_id.eq(session_id))
        .filter(slots::status.ne(SlotStatus::Withdrawn.as_str()))
        .count()
        .get_result(conn)?)
}

/// A slot with what its views need from other tables, from one query.
pub struct SlotListRow {
    pub slot: SlotRow,
    pub presenter_name: String,
    pub session_title: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub session_status: SessionStatus,
    pub agenda: String,
    pub time_zone: TimeZone,
    pub experiment_title: Option<String>,
}

type ListTuple =
    (SlotRow, String, String, NaiveDateTime, NaiveDateTime, SessionStatus, String, TimeZone, Option<String>);

fn list_row(t: ListTuple) -> SlotListRow {
    SlotListRow {
        slot: t.0,
        presenter_name: t.1,
        session_title: t.2,
        starts_at: t.3,
        ends_at: t.4,
        session_status: t.5,
        agenda: t.6,
        time_zone: t.7,
        experiment_title: t.8,
    }
}

/// Which slots a list holds.
pub enum Listing<'a> {
    /// Every slot of a session but the withdrawn.
    Session(&'a str),
    /// One slot, whatever its status.
    One(&'a str),
    /// The slots of a cohort's sessions that have not started, but the withdrawn, by session
    /// start.
    Upcoming { cohort_id: &'a CohortId, now: NaiveDateTime, page: &'a PageRequest },
    /// The slots a user presents or holds a place in, in every cohort they belong to, whose
    /// sessions have not ended, by session start.
    Mine { user_id: &'a UserId, now: NaiveDateTime, page: &'a PageRequest },
}

pub fn list(conn: &mut AnyConnection, listing: Listing<'_>) -> ApiResult<Vec<SlotListRow>> {
    let base = slots::table
        .inner_join(users::table.on(users::id.eq(slots::presenter_id)))
        .inner_join(sessions::table.on(sessions::id.eq(slots::session_id)))
        .inner_join(cohorts::table.on(cohorts::id.eq(slots::cohort_id)))
        .left_join(
            // An experiment's title shows only while the whole cohort may see it.
            experiments::table.on(experiments::id
                .nullable()
                .eq(slots::experiment_id)
                .and(experiments::visibility.eq(Visibility::Cohort.as_str()))),
        )
        .select((
            SlotRow::as_select(),
            users::display_name,
            sessions::title,
            sessions::starts_at,
            sessions::ends_at,
            sessions::status,
            sessions::agenda,
            cohorts::time_zone,
            experiments::title.nullable(),
        ))
        .into_boxed();
    let not_withdrawn = slots::status.ne(SlotStatus::Withdrawn.as_str());
    let rows: Vec<ListTuple> = match listing {
        Listing::One(id) => base.filter(slots::id.eq(id)).load(conn)?,
        Listing::Session(session_id) => {
            base.filter(slots::session_id.eq(session_id)).filter(not_withdrawn).order(slots::id.asc()).load(conn)?
        }
        Listing::Upcoming { cohort_id, now, page } => {
            let query = base
                .filter(slots::cohort_id.eq(cohort_id))
                .filter(not_withdrawn)
                .filter(sessions::starts_at.gt(now))
                .order((sessions::starts_at.asc(), slots::id.asc()))
                .limit(page.fetch_limit());
            after_cursor!(query, page, sessions::starts_at, slots::id).load(conn)?
        }
        Listing::Mine { user_id, now, page } => {
            let holding = signups::table.filter(signups::user_id.eq(user_id)).select(signups::skill_share_id);
            let member_of = memberships::table
                .filter(memberships::user_id.eq(user_id))
                .filter(memberships::state.ne(crate::cohorts::model::MemberState::Left.as_str()))
                .select(memberships::cohort_id);
            let query = base
                .filter(slots::presenter_id.eq(user_id).or(slots::id.eq_any(holding)))
                .filter(slots::cohort_id.eq_any(member_of))
                .filter(cohorts::archived_at.is_null())
                .filter(not_withdrawn)
                .filter(sessions::ends_at.gt(now))
                .order((sessions::starts_at.asc(), slots::id.asc()))
                .limit(page.fetch_limit());
            after_cursor!(query, page, sessions::starts_at, slots::id).load(conn)?
        }
    };
    Ok(rows.into_iter().map(list_row).collect())
}

/// (attending, waiting) per slot, in one query.
pub fn counts(conn: &mut AnyConnection, ids: &[String]) -> ApiResult<HashMap<String, (i64, i64)>> {
    let rows: Vec<(String, SignupStatus, i64)> = signups::table
        .filter(signups::skill_share_id.eq_any(ids))
        .group_by((signups::skill_share_id, signups::status))
        .select((signups::skill_share_id, signups::status, diesel::dsl::count_star()))
        .load(conn)?;
    let mut counts: HashMap<String, (i64, i64)> = HashMap::new();
    for (id, status, n) in rows {
        let entry = counts.entry(id).or_default();
        match status {
            SignupStatus::Attending => entry.0 = n,
            SignupStatus::Waitlisted => entry.1 = n,
        }
    }
    Ok(counts)
}

pub fn attending_count(conn: &mut AnyConnection, slot_id: &str) -> ApiResult<i64> {
    Ok(signups::table
        .filter(signups::skill_share_id.eq(slot_id))
        .filter(signups::status.eq(SignupStatus::Attending.as_str()))
        .count()
        .get_result(conn)?)
}

/// The user's place in each of these slots, and their waitlist position where they wait: two
/// queries for any number of slots.
pub fn my_places(
    conn: &mut AnyConnection,
    ids: &[String],
    user_id: &UserId,
) -> ApiResult<HashMap<String, (SignupStatus, Option<i64>)>> {
    let mine: Vec<(String, SignupStatus)> = signups::table
        .filter(signups::skill_share_id.eq_any(ids))
        .filter(signups::user_id.eq(user_id))
        .select((signups::skill_share_id, signups::status))
        .load(conn)?;
    let waiting_in: Vec<String> =
        mine.iter().filter(|(_, s)| *s == SignupStatus::Waitlisted).map(|(id, _)| id.clone()).collect();
    let queues: Vec<(String, UserId, i32)> = if waiting_in.is_empty() {
        Vec::new()
    } else {
        signups::table
            .filter(signups::skill_share_id.eq_any(&waiting_in))
            .filter(signups::status.eq(SignupStatus::Waitlisted.as_str()))
            .select((signups::skill_share_id, signups::user_id, signups::arrival))
            .load(conn)?
    };
    let mut positions: HashMap<String, i64> = HashMap::new();
    for slot in &waiting_in {
        let queue: Vec<(UserId, i32)> =
            queues.iter().filter(|(s, _, _)| s == slot).map(|(_, u, a)| (u.clone(), *a)).collect();
        if let Some((_, position)) = super::waitlist::positions(queue).into_iter().find(|(u, _)| u == user_id) {
            positions.insert(slot.clone(), position);
        }
    }
    Ok(mine.into_iter().map(|(id, status)| (id.clone(), (status, positions.get(&id).copied()))).collect())
}

/// (session, presenter) pairs whose presenter said "no", and those presenters' absences.
pub type PresentersAway = (HashSet<(SessionId, UserId)>, Vec<AbsenceRow>);

/// Presenters who answered "no" for their session, as (session, user); and the absences of these
/// presenters: two queries.
pub fn presenters_away(
    conn: &mut AnyConnection,
    sessions_and_presenters: &[(SessionId, UserId)],
) -> ApiResult<PresentersAway> {
    let session_ids: Vec<&SessionId> = sessions_and_presenters.iter().map(|(s, _)| s).collect();
    let presenters: Vec<&UserId> = sessions_and_presenters.iter().map(|(_, p)| p).collect();
    let said_no: Vec<(SessionId, UserId)> = rsvps::table
        .filter(rsvps::session_id.eq_any(&session_ids))
        .filter(rsvps::user_id.eq_any(&presenters))
        .filter(rsvps::response.eq("no"))
        .select((rsvps::session_id, rsvps::user_id))
        .load(conn)?;
    let away: Vec<AbsenceRow> =
        absences::table.filter(absences::user_id.eq_any(&presenters)).select(AbsenceRow::as_select()).load(conn)?;
    Ok((said_no.into_iter().collect(), away))
}

pub fn people(conn: &mut AnyConnection, ids: &[UserId]) -> ApiResult<HashMap<UserId, Person>> {
    let found: Vec<(UserId, String)> =
        users::table.filter(users::id.eq_any(ids)).select((users::id, users::display_name)).load(conn)?;
    Ok(found.into_iter().map(|(id, name)| (id.clone(), Person::new(id, name))).collect())
}

pub fn signup_of(conn: &mut AnyConnection, slot_id: &str, user_id: &UserId) -> ApiResult<Option<SignupRow>> {
    Ok(signups::table.find((slot_id, user_id)).select(SignupRow::as_select()).first(conn).optional()?)
}

pub fn insert_signup(conn: &mut AnyConnection, row: &SignupRow) -> ApiResult<()> {
    diesel::insert_into(signups::table).values(row).execute(conn)?;
    Ok(())
}

pub fn delete_signup(conn: &mut AnyConnection, slot_id: &str, user_id: &UserId) -> ApiResult<()> {
    diesel::delete(signups::table.find((slot_id, user_id))).execute(conn)?;
    Ok(())
}

pub fn set_signup(
    conn: &mut AnyConnection,
    slot_id: &str,
    user_id: &UserId,
    status: SignupStatus,
    added_by: Option<&UserId>,
    now: NaiveDateTime,
) -> ApiResult<()> {
    diesel::update(signups::table.find((slot_id, user_id)))
        .set((signups::status.eq(status), signups::added_by.eq(added_by), signups::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// The first `n` on the slot's waitlist, in arrival order.
pub fn waitlist_head(conn: &mut AnyConnection, slot_id: &str, n: i64) -> ApiResult<Vec<UserId>> {
    Ok(signups::table
        .filter(signups::skill_share_id.eq(slot_id))
        .filter(signups::status.eq(SignupStatus::Waitlisted.as_str()))
        .order(signups::arrival.asc())
        .limit(n)
        .select(signups::user_id)
        .load(conn)?)
}

/// The waitlist position of the sign-up that arrived `arrival`th: one count.
pub fn position_at(conn: &mut AnyConnection, slot_id: &str, arrival: i32) -> ApiResult<i64> {
    Ok(signups::table
        .filter(signups::skill_share_id.eq(slot_id))
        .filter(signups::status.eq(SignupStatus::Waitlisted.as_str()))
        .filter(signups::arrival.le(arrival))
        .count()
        .get_result(conn)?)
}

pub fn waiting_count(conn: &mut AnyConnection, slot_id: &str) -> ApiResult<i64> {
    Ok(signups::table
        .filter(signups::skill_share_id.eq(slot_id))
        .filter(signups::status.eq(SignupStatus::Waitlisted.as_str()))
        .count()
        .get_result(conn)?)
}

/// Everyone signed up for a slot, with names, in arrival order: one query.
pub fn signups_with_people(conn: &mut AnyConnection, slot_id: &str) -> ApiResult<Vec<(SignupRow, String)>> {
    Ok(signups::table
        .inner_join(users::table.on(users::id.eq(signups::user_id)))
        .filter(signups::skill_share_id.eq(slot_id))
        .order(signups::arrival.asc())
        .select((SignupRow::as_select(), users::display_name))
        .load(conn)?)
}

/// One's own experiment in a cohort that the whole cohort may see: its title, if it is one.
pub fn own_experiment(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    owner: &UserId,
    id: &str,
) -> ApiResult<Option<String>> {
    Ok(experiments::table
        .filter(experiments::id.eq(id))
        .filter(experiments::cohort_id.eq(cohort_id))
        .filter(experiments::owner_id.eq(owner))
        .filter(experiments::visibility.eq(Visibility::Cohort.as_str()))
        .select(experiments::title)
        .first(conn)
        .optional()?)
}

pub fn approval_required(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<bool> {
    Ok(cohorts::table.find(cohort_id).select(cohorts::skill_shares_need_approval).first(conn)?)
}

pub fn set_approval_required(conn: &mut AnyConnection, cohort_id: &CohortId, required: bool) -> ApiResult<()> {
    diesel::update(cohorts::table.find(cohort_id))
        .set(cohorts::skill_shares_need_approval.eq(required))
        .execute(conn)?;
    Ok(())
}

/// (session, slot id, title, presenting, place).
pub type MyPart = (SessionId, String, String, bool, Option<SignupStatus>);

/// A user's places in the slots of these sessions, for the home screen: (session, slot id, title,
/// presenting, place), one query; positions come from `my_places`.
pub fn mine_in_sessions(
    conn: &mut AnyConnection,
    session_ids: &[SessionId],
    user_id: &UserId,
) -> ApiResult<Vec<MyPart>> {
    let rows: Vec<(SessionId, String, String, UserId, Option<SignupStatus>)> = slots::table
        .left_join(signups::table.on(signups::skill_share_id.eq(slots::id).and(signups::user_id.eq(user_id))))
        .filter(slots::session_id.eq_any(session_ids))
        .filter(slots::status.ne(SlotStatus::Withdrawn.as_str()))
        .filter(slots::presenter_id.eq(user_id).or(signups::user_id.is_not_null()))
        .order(slots::id.asc())
        .select((slots::session_id, slots::id, slots::title, slots::presenter_id, signups::status.nullable()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(session, id, title, presenter, status)| {
            let presenting = presenter == *user_id;
            (session, id, title, presenting, status)
        })
        .collect())
}

/// The slots (not withdrawn) a user presents whose sessions have not started, in one cohort or all.
pub fn upcoming_presented(
    conn: &mut AnyConnection,
    user_id: &UserId,
    cohort_id: Option<&CohortId>,
    now: NaiveDateTime,
) -> ApiResult<Vec<SlotRow>> {
    let mut query = slots::table
        .inner_join(sessions::table.on(sessions::id.eq(slots::session_id)))
        .filter(slots::presenter_id.eq(user_id))
        .filter(slots::status.ne(SlotStatus::Withdrawn.as_str()))
        .filter(sessions::starts_at.gt(now))
        .order((slots::session_id.asc(), slots::id.asc()))
        .select(SlotRow::as_select())
        .into_boxed();
    if let Some(cohort_id) = cohort_id {
        query = query.filter(slots::cohort_id.eq(cohort_id));
    }
    Ok(query.load(conn)?)
}

/// The slots a user holds a place in or waits for whose sessions have not started, in one cohort
/// or all, in id order (the order their locks are taken).
pub fn upcoming_places(
    conn: &mut AnyConnection,
    user_id: &UserId,
    cohort_id: Option<&CohortId>,
    now: NaiveDateTime,
) -> ApiResult<Vec<String>> {
    let mut query = signups::table
        .inner_join(slots::table.on(slots::id.eq(signups::skill_share_id)))
        .inner_join(sessions::table.on(sessions::id.eq(slots::session_id)))
        .filter(signups::user_id.eq(user_id))
        .filter(sessions::starts_at.gt(now))
        .order(slots::id.asc())
        .select(slots::id)
        .into_boxed();
    if let Some(cohort_id) = cohort_id {
        query = query.filter(slots::cohort_id.eq(cohort_id));
    }
    Ok(query.load(conn)?)
}
