use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::model::{AbsenceRow, AssignmentRow, PairCycle, PairView, RoleRow, SwapRow, SwapViewRow};
use super::pairs::{Pairing, PastPairing};
use crate::db::schema::{
    absences, assignments, coaching_cycles as cycles, coaching_pairs as pairs, duty_roles as roles,
    rota_horizons as horizons, session_attendance as attendance, session_rsvps as rsvps, sessions,
    swap_requests as swaps, users,
};
use crate::db::{AnyConnection, CohortId, SessionId, UserId, new_id};
use crate::error::ApiResult;
use crate::pagination::{PageRequest, after_cursor};
use crate::people::Person;

/// The default duties of a new cohort.
pub fn add_default_roles(conn: &mut AnyConnection, cohort_id: &CohortId, now: DateTime<Utc>) -> ApiResult<()> {
    for (position, (name, facilitation)) in
        [("Facilitator", true), ("Note-taker", false), ("Timekeeper", false)].into_iter().enumerate()
    {
        insert_role(
            conn,
            &RoleRow {
                id: new_id(),
                cohort_id: cohort_id.clone(),
                name: name.to_string(),
                position: position as i32,
                min_attended: 0,
                facilitation,
                retired_at: None,
                created_at: now.naive_utc(),
            },
        )?;
    }
    Ok(())
}

pub fn insert_role(conn: &mut AnyConnection, row: &RoleRow) -> ApiResult<()> {
    diesel::insert_into(roles::table).values(row).execute(conn)?;
    Ok(())
}

pub fn roles(conn: &mut AnyConnection, cohort_id: &CohortId, include_retired: bool) -> ApiResult<Vec<RoleRow>> {
    let mut query = roles::table
        .filter(roles::cohort_id.eq(cohort_id))
        .order((roles::position.asc(), roles::id.asc()))
        .into_boxed();
    if !include_retired {
        query = query.filter(roles::retired_at.is_null());
    }
    Ok(query.select(RoleRow::as_select()).load(conn)?)
}

pub fn find_role(conn: &mut AnyConnection, cohort_id: &CohortId, id: &str) -> ApiResult<Option<RoleRow>> {
    Ok(roles::table
        .filter(roles::cohort_id.eq(cohort_id))
        .filter(roles::id.eq(id))
        .select(RoleRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn save_role(conn: &mut AnyConnection, row: &RoleRow) -> ApiResult<()> {
    diesel::update(roles::table.find(&row.id))
        .set((
            roles::name.eq(&row.name),
            roles::min_attended.eq(row.min_attended),
            roles::facilitation.eq(row.facilitation),
            roles::retired_at.eq(row.retired_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn insert_absence(conn: &mut AnyConnection, row: &AbsenceRow) -> ApiResult<()> {
    diesel::insert_into(absences::table).values(row).execute(conn)?;
    Ok(())
}

pub fn absences(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<Vec<AbsenceRow>> {
    Ok(absences::table.filter(absences::cohort_id.eq(cohort_id)).select(AbsenceRow::as_select()).load(conn)?)
}

pub fn list_absences(conn: &mut AnyConnection, cohort_id: &CohortId, page: &PageRequest) -> ApiResult<Vec<AbsenceRow>> {
    let mut query = absences::table
        .filter(absences::cohort_id.eq(cohort_id))
        .order((absences::created_at.asc(), absences::id.asc()))
        .limit(page.fetch_limit())
        .select(AbsenceRow::as_select())
        .into_boxed();
    query = after_cursor!(query, page, absences::created_at, absences::id);
    Ok(query.load(conn)?)
}

pub fn find_absence(conn: &mut AnyConnection, cohort_id: &CohortId, id: &str) -> ApiResult<Option<AbsenceRow>> {
    Ok(absences::table
        .filter(absences::cohort_id.eq(cohort_id))
        .filter(absences::id.eq(id))
        .select(AbsenceRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn delete_absence(conn: &mut AnyConnection, id: &str) -> ApiResult<()> {
    diesel::delete(absences::table.find(id)).execute(conn)?;
    Ok(())
}

/// Sessions attended per member: present or late where attendance was taken.
pub fn attended_counts(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<Vec<(UserId, i64)>> {
    Ok(attendance::table
        .inner_join(sessions::table)
        .filter(sessions::cohort_id.eq(cohort_id))
        .filter(attendance::status.ne("absent"))
        .group_by(attendance::user_id)
        .select((attendance::user_id, diesel::dsl::count_star()))
        .load(conn)?)
}

/// Bounds for "any time" that both backends can store (PostgreSQL's timestamps stop at 294276 AD).
pub fn beginning() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
}

pub fn end_of_time() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(9999, 12, 31).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
}

/// Assignments of the cohort with their session's start, in time and role order.
pub fn assignments_between(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> ApiResult<Vec<(AssignmentRow, NaiveDateTime)>> {
    Ok(assignments::table
        .inner_join(sessions::table)
        .filter(assignments::cohort_id.eq(cohort_id))
        .filter(sessions::starts_at.ge(from))
        .filter(sessions::starts_at.lt(to))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .select((AssignmentRow::as_select(), sessions::starts_at))
        .load(conn)?)
}

pub fn find_assignment(conn: &mut AnyConnection, id: &str) -> ApiResult<Option<AssignmentRow>> {
    Ok(assignments::table.find(id).select(AssignmentRow::as_select()).first(conn).optional()?)
}

pub fn insert_assignment(conn: &mut AnyConnection, row: &AssignmentRow) -> ApiResult<()> {
    diesel::insert_into(assignments::table).values(row).execute(conn)?;
    Ok(())
}

pub fn save_assignment(conn: &mut AnyConnection, row: &AssignmentRow) -> ApiResult<()> {
    diesel::update(assignments::table.find(&row.id))
        .set((
            assignments::user_id.eq(&row.user_id),
            assignments::locked.eq(row.locked),
            assignments::confirmed_at.eq(row.confirmed_at),
            assignments::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Unlocks and unconfirms the member's duties in sessions from `from` on, so re-planning may
/// move them (they became absent, paused or left).
pub fn release_duties(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    user_id: &UserId,
    session_ids: &[SessionId],
) -> ApiResult<()> {
    // Callers outside the rota (an RSVP, a membership change) reach the duties through here:
    // taking the cohort row first keeps every rota transaction's lock order the same.
    crate::cohorts::store::lock_cohort(conn, cohort_id)?;
    diesel::update(
        assignments::table
            .filter(assignments::cohort_id.eq(cohort_id))
            .filter(assignments::user_id.eq(user_id))
            .filter(assignments::session_id.eq_any(session_ids)),
    )
    .set((assignments::locked.eq(false), assignments::confirmed_at.eq(None::<NaiveDateTime>)))
    .execute(conn)?;
    Ok(())
}

/// The user's duties in these sessions, with role names: (session, assignment, role, confirmed).
pub fn duties_of(
    conn: &mut AnyConnection,
    user_id: &UserId,
    session_ids: &[SessionId],
) -> ApiResult<Vec<(SessionId, String, String, bool)>> {
    let rows: Vec<(SessionId, String, String, Option<NaiveDateTime>)> = assignments::table
        .inner_join(roles::table)
        .filter(assignments::user_id.eq(user_id))
        .filter(assignments::session_id.eq_any(session_ids))
        .order(roles::position.asc())
        .select((assignments::session_id, assignments::id, roles::name, assignments::confirmed_at))
        .load(conn)?;
    Ok(rows.into_iter().map(|(s, a, r, c)| (s, a, r, c.is_some())).collect())
}

/// Whether the user holds any duty in the session.
pub fn holds_duty(conn: &mut AnyConnection, session_id: &SessionId, user_id: &UserId) -> ApiResult<bool> {
    let count: i64 = assignments::table
        .filter(assignments::session_id.eq(session_id))
        .filter(assignments::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

pub fn has_future_duties(conn: &mut AnyConnection, cohort_id: &CohortId, now: NaiveDateTime) -> ApiResult<bool> {
    let count: i64 = assignments::table
        .inner_join(sessions::table)
        .filter(assignments::cohort_id.eq(cohort_id))
        .filter(sessions::starts_at.gt(now))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

pub fn insert_swap(
    conn: &mut AnyConnection,
    values: (&CohortId, &str, &str, &UserId, Option<&UserId>, Option<&str>, NaiveDateTime, NaiveDateTime),
) -> ApiResult<String> {
    let (cohort_id, assignment_id, kind, requester, peer, peer_assignment, expires_at, now) = values;
    let id = new_id();
    diesel::insert_into(swaps::table)
        .values((
            swaps::id.eq(&id),
            swaps::cohort_id.eq(cohort_id),
            swaps::assignment_id.eq(assignment_id),
            swaps::kind.eq(kind),
            swaps::requester_id.eq(requester),
            swaps::peer_id.eq(peer),
            swaps::peer_assignment_id.eq(peer_assignment),
            swaps::state.eq("open"),
            swaps::expires_at.eq(expires_at),
            swaps::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

pub fn find_swap(conn: &mut AnyConnection, id: &str) -> ApiResult<Option<SwapRow>> {
    Ok(swaps::table.find(id).select(SwapRow::as_select()).first(conn).optional()?)
}

/// Closes an open, unexpired request; false when someone else closed it first.
pub fn decide_swap(
    conn: &mut AnyConnection,
    id: &str,
    state: &str,
    by: &UserId,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let open = swaps::table.find(id).filter(swaps::state.eq("open")).filter(swaps::expires_at.gt(now.naive_utc()));
    let changed = diesel::update(open)
        .set((swaps::state.eq(state), swaps::decided_by.eq(by), swaps::decided_at.eq(now.naive_utc())))
        .execute(conn)?;
    Ok(changed == 1)
}

/// A cohort's swap requests (all, or those given by id), oldest first, each with its session,
/// role and people, from one joined query.
pub fn swap_views(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    page: &PageRequest,
    only: Option<&str>,
) -> ApiResult<Vec<SwapViewRow>> {
    let (requester, peer) = diesel::alias!(users as requester, users as peer);
    let mut query = swaps::table
        .inner_join(assignments::table.on(assignments::id.eq(swaps::assignment_id)))
        .inner_join(sessions::table.on(sessions::id.eq(assignments::session_id)))
        .inner_join(roles::table.on(roles::id.eq(assignments::role_id)))
        .left_join(requester.on(swaps::requester_id.eq(requester.field(users::id))))
        .left_join(peer.on(swaps::peer_id.eq(peer.field(users::id).nullable())))
        .filter(swaps::cohort_id.eq(cohort_id))
        .order((swaps::created_at.asc(), swaps::id.asc()))
        .limit(page.fetch_limit())
        .select((
            SwapRow::as_select(),
            sessions::id,
            sessions::starts_at,
            roles::id,
            roles::name,
            requester.field(users::display_name).nullable(),
            peer.field(users::display_name).nullable(),
        ))
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(swaps::id.eq(id.to_string()));
    }
    query = after_cursor!(query, page, swaps::created_at, swaps::id);
    Ok(query.load(conn)?)
}

/// One swap request with its session, role and people.
pub fn swap_view(conn: &mut AnyConnection, cohort_id: &CohortId, id: &str) -> ApiResult<SwapViewRow> {
    let one = PageRequest { limit: 1, after: None };
    swap_views(conn, cohort_id, &one, Some(id))?.pop().ok_or(crate::error::ApiError::NotFound)
}

/// Whether the duty already has an open, unexpired cover request.
pub fn open_cover_exists(conn: &mut AnyConnection, assignment_id: &str, now: DateTime<Utc>) -> ApiResult<bool> {
    let count: i64 = swaps::table
        .filter(swaps::assignment_id.eq(assignment_id))
        .filter(swaps::kind.eq("cover"))
        .filter(swaps::state.eq("open"))
        .filter(swaps::expires_at.gt(now.naive_utc()))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Whether the member said they cannot make the session: an RSVP "no", or an absence covering
/// it (`local_date`: the session's date in the cohort's zone).
pub fn is_absent(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    user_id: &UserId,
    session_id: &SessionId,
    local_date: chrono::NaiveDate,
) -> ApiResult<bool> {
    let declined: i64 = rsvps::table
        .filter(rsvps::session_id.eq(session_id))
        .filter(rsvps::user_id.eq(user_id))
        .filter(rsvps::response.eq("no"))
        .count()
        .get_result(conn)?;
    if declined > 0 {
        return Ok(true);
    }
    let own: Vec<AbsenceRow> = absences::table
        .filter(absences::cohort_id.eq(cohort_id))
        .filter(absences::user_id.eq(user_id))
        .select(AbsenceRow::as_select())
        .load(conn)?;
    Ok(own.iter().any(|a| a.covers(session_id, local_date)))
}

pub fn pair_history(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<Vec<PastPairing>> {
    let rows: Vec<(i32, String, String, Option<String>)> = pairs::table
        .filter(pairs::cohort_id.eq(cohort_id))
        .order((pairs::cycle.asc(), pairs::id.asc()))
        .select((pairs::cycle, pairs::coach_id, pairs::coachee_id, pairs::third_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(cycle, coach, coachee, third)| PastPairing { cycle, pairing: Pairing { coach, coachee, third } })
        .collect())
}

/// The number of the cohort's latest coaching cycle (0: none yet).
pub fn last_cycle(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<i32> {
    let last: Option<i32> =
        cycles::table.filter(cycles::cohort_id.eq(cohort_id)).select(diesel::dsl::max(cycles::cycle)).first(conn)?;
    Ok(last.unwrap_or(0))
}

/// When the cohort's latest coaching cycle was formed.
pub fn last_cycle_formed_at(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
) -> ApiResult<Option<chrono::NaiveDateTime>> {
    Ok(cycles::table
        .filter(cycles::cohort_id.eq(cohort_id))
        .select(diesel::dsl::max(cycles::created_at))
        .first(conn)?)
}

/// Records that cycle `cycle` of the cohort is formed; false when it already was (the key
/// (cohort, cycle) is unique, so of two writers of the same cycle one gets false).
pub fn insert_cycle(conn: &mut AnyConnection, cohort_id: &CohortId, cycle: i32, now: DateTime<Utc>) -> ApiResult<bool> {
    let insert = diesel::insert_into(cycles::table)
        .values((cycles::cohort_id.eq(cohort_id), cycles::cycle.eq(cycle), cycles::created_at.eq(now.naive_utc())))
        .on_conflict_do_nothing();
    Ok(crate::per_backend!(conn, |c| insert.execute(c))? == 1)
}

pub fn insert_pairs(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    cycle: i32,
    list: &[Pairing],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    for p in list {
        diesel::insert_into(pairs::table)
            .values((
                pairs::id.eq(new_id()),
                pairs::cohort_id.eq(cohort_id),
                pairs::cycle.eq(cycle),
                pairs::coach_id.eq(&p.coach),
                pairs::coachee_id.eq(&p.coachee),
                pairs::third_id.eq(&p.third),
                pairs::created_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A duty with its role's name and its holder's display name, from one joined query.
pub type DutyRow = (AssignmentRow, String, Option<String>);

/// Duties of these sessions, in time and role order, with role and holder (one query).
pub fn duties_in_sessions(conn: &mut AnyConnection, session_ids: &[SessionId]) -> ApiResult<Vec<DutyRow>> {
    Ok(assignments::table
        .inner_join(sessions::table)
        .inner_join(roles::table)
        .left_join(users::table.on(assignments::user_id.eq(users::id.nullable())))
        .filter(assignments::session_id.eq_any(session_ids))
        .order((sessions::starts_at.asc(), sessions::id.asc(), roles::position.asc(), roles::id.asc()))
        .select((AssignmentRow::as_select(), roles::name, users::display_name.nullable()))
        .load(conn)?)
}

/// These duties, in time and role order, with role and holder (one query).
pub fn duties_by_id(conn: &mut AnyConnection, ids: &[String]) -> ApiResult<Vec<DutyRow>> {
    Ok(assignments::table
        .inner_join(sessions::table)
        .inner_join(roles::table)
        .left_join(users::table.on(assignments::user_id.eq(users::id.nullable())))
        .filter(assignments::id.eq_any(ids))
        .order((sessions::starts_at.asc(), sessions::id.asc(), roles::position.asc(), roles::id.asc()))
        .select((AssignmentRow::as_select(), roles::name, users::display_name.nullable()))
        .load(conn)?)
}

/// How far ahead the cohort's rota was last planned, if it ever was.
pub fn horizon(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<Option<NaiveDateTime>> {
    Ok(horizons::table.find(cohort_id).select(horizons::planned_until).first(conn).optional()?)
}

/// Remembers how far ahead the cohort's rota is planned (under the cohort row lock).
pub fn set_horizon(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    until: NaiveDateTime,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let changed = diesel::update(horizons::table.find(cohort_id))
        .set((horizons::planned_until.eq(until), horizons::updated_at.eq(now.naive_utc())))
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(horizons::table)
            .values((
                horizons::cohort_id.eq(cohort_id),
                horizons::planned_until.eq(until),
                horizons::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The start of the cohort's last session that has duties (for rotas planned before horizons
/// were remembered).
pub fn last_planned_start(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<Option<NaiveDateTime>> {
    Ok(assignments::table
        .inner_join(sessions::table)
        .filter(assignments::cohort_id.eq(cohort_id))
        .select(diesel::dsl::max(sessions::starts_at))
        .first(conn)?)
}

/// Absences with the absent member's display name (one query).
pub fn list_absences_with_people(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    page: &PageRequest,
) -> ApiResult<Vec<(AbsenceRow, String)>> {
    let mut query = absences::table
        .inner_join(users::table.on(absences::user_id.eq(users::id)))
        .filter(absences::cohort_id.eq(cohort_id))
        .order((absences::created_at.asc(), absences::id.asc()))
        .limit(page.fetch_limit())
        .select((AbsenceRow::as_select(), users::display_name))
        .into_boxed();
    query = after_cursor!(query, page, absences::created_at, absences::id);
    Ok(query.load(conn)?)
}

pub fn absence_with_person(conn: &mut AnyConnection, id: &str) -> ApiResult<Option<(AbsenceRow, String)>> {
    Ok(absences::table
        .inner_join(users::table.on(absences::user_id.eq(users::id)))
        .filter(absences::id.eq(id))
        .select((AbsenceRow::as_select(), users::display_name))
        .first(conn)
        .optional()?)
}

/// The number of roles the cohort has, retired ones included.
pub fn count_roles(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<i64> {
    Ok(roles::table.filter(roles::cohort_id.eq(cohort_id)).count().get_result(conn)?)
}

/// The coaching cycles (all, or one) with the people in each pair, from one joined query.
/// Which cycles `pair_cycles` reads: one, or those numbered after `after` up to `upto`.
pub enum Cycles {
    One(i32),
    Between { after: i32, upto: i32 },
}

pub fn pair_cycles(conn: &mut AnyConnection, cohort_id: &CohortId, only: Cycles) -> ApiResult<Vec<PairCycle>> {
    let (coach, coachee, third) = diesel::alias!(users as coach, users as coachee, users as third);
    let mut query = pairs::table
        .left_join(coach.on(pairs::coach_id.eq(coach.field(users::id))))
        .left_join(coachee.on(pairs::coachee_id.eq(coachee.field(users::id))))
        .left_join(third.on(pairs::third_id.eq(third.field(users::id).nullable())))
        .filter(pairs::cohort_id.eq(cohort_id))
        .order((pairs::cycle.asc(), pairs::id.asc()))
        .select((
            pairs::cycle,
            pairs::coach_id,
            coach.field(users::display_name).nullable(),
            pairs::coachee_id,
            coachee.field(users::display_name).nullable(),
            pairs::third_id,
            third.field(users::display_name).nullable(),
        ))
        .into_boxed();
    match only {
        Cycles::One(cycle) => query = query.filter(pairs::cycle.eq(cycle)),
        Cycles::Between { after, upto } => query = query.filter(pairs::cycle.gt(after)).filter(pairs::cycle.le(upto)),
    }
    type Row = (i32, UserId, Option<String>, UserId, Option<String>, Option<UserId>, Option<String>);
    let rows: Vec<Row> = query.load(conn)?;
    let mut cycles: Vec<PairCycle> = Vec::new();
    for (cycle, coach, coach_name, coachee, coachee_name, third, third_name) in rows {
        let view = PairView {
            coach_person: Person::maybe(Some(coach.clone()), coach_name),
            coach,
            coachee_person: Person::maybe(Some(coachee.clone()), coachee_name),
            coachee,
            third_person: Person::maybe(third.clone(), third_name),
            third,
        };
        match cycles.last_mut() {
            Some(last) if last.cycle == cycle => last.pairs.push(view),
            _ => cycles.push(PairCycle { cycle, pairs: vec![view] }),
        }
    }
    Ok(cycles)
}
