//! The rota's reactions to events elsewhere (registered in `events::reactors`): duties given
//! up by who can no longer hold them, and the re-plan after anything the plan depends on.

use chrono::{DateTime, Utc};

use super::{engine, store};
use crate::db::{AnyConnection, SessionId, UserId};
use crate::error::ApiResult;
use crate::events::NewEvent;
use crate::events::reactors::Reactor;

/// Re-plans the event's cohort over the window last planned, if it uses the rota at all.
pub static REPLAN: Reactor = Reactor { name: "rota.replan", run: replan };

/// A member's upcoming duties go back to the rota (`subject_id`: the member's user id).
pub static RELEASE_UPCOMING_DUTIES: Reactor = Reactor { name: "rota.release_upcoming_duties", run: release_upcoming };

/// The duty the actor held in the session (`subject_id`) goes back to the rota.
pub static RELEASE_SESSION_DUTY: Reactor = Reactor { name: "rota.release_session_duty", run: release_session };

fn replan(conn: &mut AnyConnection, event: &NewEvent<'_>, now: DateTime<Utc>) -> ApiResult<()> {
    let Some(cohort_id) = event.cohort_id else { return Ok(()) };
    let Some(cohort) = crate::cohorts::store::find_cohort(conn, cohort_id)? else {
        return Ok(());
    };
    engine::replan_if_planned(conn, cohort_id, &cohort.time_zone, now)
}

fn release_upcoming(conn: &mut AnyConnection, event: &NewEvent<'_>, now: DateTime<Utc>) -> ApiResult<()> {
    let Some(cohort_id) = event.cohort_id else { return Ok(()) };
    let upcoming = store::assignments_between(conn, cohort_id, now.naive_utc(), store::end_of_time())?;
    let sessions: Vec<SessionId> = upcoming.into_iter().map(|(a, _)| a.session_id).collect();
    // The event's subject is the member (see `RELEASE_UPCOMING_DUTIES`).
    store::release_duties(conn, cohort_id, &UserId::from_untyped(event.subject_id), &sessions)
}

fn release_session(conn: &mut AnyConnection, event: &NewEvent<'_>, _now: DateTime<Utc>) -> ApiResult<()> {
    let (Some(cohort_id), Some(user_id)) = (event.cohort_id, event.actor_id) else { return Ok(()) };
    // The event's subject is the session (see `RELEASE_SESSION_DUTY`).
    store::release_duties(conn, cohort_id, user_id, &[SessionId::from_untyped(event.subject_id)])
}
