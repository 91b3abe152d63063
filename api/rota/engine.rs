//! Re-planning a cohort's rota: gathers what the planner needs from the database, runs it, and
//! writes the result back, keeping past, locked and confirmed duties and the ids of the rest.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use super::model::{AssignmentRow, Duty, PlanResult};
use super::plan::{self, Input, Member, Relaxed, Role, Served, Session};
use super::store;
use crate::cohorts::model::MemberState;
use crate::db::schema::{memberships, session_rsvps as rsvps, sessions};
use crate::db::{AnyConnection, CohortId, SessionId, TimeZone, UserId, new_id};
use crate::error::ApiResult;
use crate::events::{NewEvent, kind as ev};
use crate::sessions::model::SessionStatus;

pub const DEFAULT_WEEKS: i64 = 12;

/// Duties by id, with role names and holders, from one joined query, in time and role order.
pub fn duties(conn: &mut AnyConnection, ids: &[String]) -> ApiResult<Vec<Duty>> {
    Ok(store::duties_by_id(conn, ids)?.into_iter().map(Duty::from_row).collect())
}

/// Plans the duties of the cohort's sessions in the next `weeks` (`POST .../rota/plan`) and
/// remembers that horizon (or the one before, if it reaches further): re-plans triggered later
/// cover the same window.
pub fn plan_weeks(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    tz: Tz,
    weeks: i64,
    now: DateTime<Utc>,
) -> ApiResult<PlanResult> {
    let until = now + Duration::weeks(weeks);
    // A shorter plan after a longer one leaves the later duties in place: re-plans keep covering
    // them.
    let remembered = store::horizon(conn, cohort_id)?.filter(|h| *h > until.naive_utc());
    store::set_horizon(conn, cohort_id, remembered.unwrap_or(until.naive_utc()), now)?;
    let mut result = replan(conn, cohort_id, tz, until, now)?;
    if result.sessions == 0 {
        result.notes.push(plan::Note {
            session_id: None,
            role_id: None,
            relaxed: Relaxed::NoSessions,
            reason: format!("no session falls in the next {weeks} weeks: nothing was planned"),
        });
    }
    Ok(result)
}

/// Plans the duties of the cohort's sessions from now until `until`. The caller holds the
/// cohort row lock.
fn replan(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    tz: Tz,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<PlanResult> {
    let roles = store::roles(conn, cohort_id, false)?;
    let horizon = until.naive_utc();
    let upcoming: Vec<(SessionId, NaiveDateTime)> = sessions::table
        .filter(sessions::cohort_id.eq(cohort_id))
        .filter(sessions::starts_at.gt(now.naive_utc()))
        .filter(sessions::starts_at.lt(horizon))
        .filter(sessions::status.ne(SessionStatus::Cancelled.as_str()))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .select((sessions::id, sessions::starts_at))
        .load(conn)?;
    let members: Vec<(UserId, MemberState)> = memberships::table
        .filter(memberships::cohort_id.eq(cohort_id))
        .filter(memberships::state.ne(MemberState::Left.as_str()))
        .order((memberships::joined_at.asc(), memberships::user_id.asc()))
        .select((memberships::user_id, memberships::state))
        .load(conn)?;
    let attended: HashMap<UserId, i64> = store::attended_counts(conn, cohort_id)?.into_iter().collect();
    let ids: Vec<SessionId> = upcoming.iter().map(|(id, _)| id.clone()).collect();
    let declined: Vec<(SessionId, UserId)> = rsvps::table
        .filter(rsvps::session_id.eq_any(&ids))
        .filter(rsvps::response.eq("no"))
        .select((rsvps::session_id, rsvps::user_id))
        .load(conn)?;
    let absences = store::absences(conn, cohort_id)?;
    // The planner (`plan`) is pure and works on ids as plain text labels (its property tests
    // make them up); its input is written from the typed ids here, and its output read back
    // below.
    let plan_sessions: Vec<Session> = upcoming
        .iter()
        .map(|(id, starts_at)| {
            let local_date = starts_at.and_utc().with_timezone(&tz).date_naive();
            let mut absent: HashSet<String> =
                declined.iter().filter(|(s, _)| s == id).map(|(_, u)| u.to_string()).collect();
            absent.extend(absences.iter().filter(|a| a.covers(id, local_date)).map(|a| a.user_id.to_string()));
            Session { id: id.to_string(), starts_at: starts_at.and_utc(), absent }
        })
        .collect();
    let existing = store::assignments_between(conn, cohort_id, store::beginning(), horizon)?;
    let (past, future): (Vec<_>, Vec<_>) = existing.into_iter().partition(|(_, at)| *at <= now.naive_utc());
    let served = |(row, at): &(AssignmentRow, NaiveDateTime)| Served {
        session_id: row.session_id.to_string(),
        starts_at: at.and_utc(),
        role_id: row.role_id.clone(),
        member_id: row.user_id.as_ref().map(UserId::to_string),
    };
    let history: Vec<Served> = past.iter().map(served).collect();
    let fixed: Vec<Served> =
        future.iter().filter(|(row, _)| row.locked || row.confirmed_at.is_some()).map(served).collect();
    let plan_members: Vec<Member> = members
        .iter()
        .map(|(id, state)| Member {
            id: id.to_string(),
            attended: attended.get(id).copied().unwrap_or(0) as u32,
            available: *state == MemberState::Active,
        })
        .collect();
    let plan_roles: Vec<Role> = roles
        .iter()
        .map(|r| Role { id: r.id.clone(), min_attended: r.min_attended.max(0) as u32, facilitation: r.facilitation })
        .collect();
    let earlier: Vec<Served> =
        future.iter().filter(|(row, _)| !row.locked && row.confirmed_at.is_none()).map(served).collect();
    let input = Input {
        members: &plan_members,
        roles: &plan_roles,
        history: &history,
        sessions: &plan_sessions,
        fixed: &fixed,
        planned: &earlier,
    };
    let planned = plan::plan(&input);

    let mut result: Vec<String> = Vec::new();
    for p in &planned.assignments {
        // Back from the planner's text: the member it chose is one of `members`.
        let member_id = p.member_id.as_deref().map(UserId::from_untyped);
        let current = future
            .iter()
            .map(|(row, _)| row)
            .find(|row| row.session_id.as_str() == p.session_id && row.role_id == p.role_id);
        let id = match current {
            Some(row) if row.user_id == member_id => row.id.clone(),
            Some(row) => {
                let changed = AssignmentRow { user_id: member_id, updated_at: now.naive_utc(), ..row.clone() };
                store::save_assignment(conn, &changed)?;
                announce(conn, cohort_id, &changed, now)?;
                changed.id
            }
            None => {
                let row = AssignmentRow {
                    id: new_id(),
                    cohort_id: cohort_id.clone(),
                    // Back from the planner's text: one of `upcoming`.
                    session_id: SessionId::from_untyped(&p.session_id),
                    role_id: p.role_id.clone(),
                    user_id: member_id,
                    locked: false,
                    confirmed_at: None,
                    created_at: now.naive_utc(),
                    updated_at: now.naive_utc(),
                };
                store::insert_assignment(conn, &row)?;
                announce(conn, cohort_id, &row, now)?;
                row.id
            }
        };
        result.push(id);
    }
    for note in planned.notes.iter().filter(|n| n.relaxed == Relaxed::Gap) {
        let (Some(session_id), Some(role_id)) = (&note.session_id, &note.role_id) else { continue };
        NewEvent::new(ev::DutyGap { role_id: role_id.clone() }, session_id).in_cohort(cohort_id).record(conn, now)?;
    }
    result.extend(
        future.into_iter().map(|(row, _)| row).filter(|row| row.locked || row.confirmed_at.is_some()).map(|row| row.id),
    );
    Ok(PlanResult { sessions: plan_sessions.len(), duties: duties(conn, &result)?, notes: planned.notes })
}

fn announce(conn: &mut AnyConnection, cohort_id: &CohortId, row: &AssignmentRow, now: DateTime<Utc>) -> ApiResult<()> {
    let assigned = ev::DutyAssigned {
        user_id: row.user_id.clone().map(String::from),
        session_id: Some(row.session_id.to_string()),
        role_id: Some(row.role_id.clone()),
        by_hand: false,
    };
    NewEvent::new(assigned, &row.id).in_cohort(cohort_id).record(conn, now)
}

/// Re-plans after something the rota depends on changed (an absence, a member, a session, a
/// role), if the cohort uses the rota at all: over the window last planned (`POST .../rota/plan`
/// remembers it), never further. Takes the cohort row lock first, like every rota write.
pub fn replan_if_planned(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    time_zone: &TimeZone,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    crate::cohorts::store::lock_cohort(conn, cohort_id)?;
    if !store::has_future_duties(conn, cohort_id, now.naive_utc())? {
        return Ok(());
    }
    // Rotas planned before the horizon was remembered: up to their last planned session.
    let until = match store::horizon(conn, cohort_id)? {
        Some(until) => until,
        None => store::last_planned_start(conn, cohort_id)?.map(|s| s + Duration::seconds(1)).unwrap_or_default(),
    };
    if until > now.naive_utc() {
        replan(conn, cohort_id, time_zone.tz(), until.and_utc(), now)?;
    }
    Ok(())
}
