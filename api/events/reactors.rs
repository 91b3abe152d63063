//! What must change together with an event, in its transaction: one table of (kind, condition,
//! reactor). `NewEvent::record` runs the reactors registered for the event's kind right after
//! appending it, on the same connection, so their writes commit or roll back with the change.
//!
//! A new cause of a re-plan is one line here; the places that make changes only record their
//! event. Consumers that may lag (reminders, webhooks, the phone's sync) do not belong here:
//! they read the stream (`events::after`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::kind::EventPayload as P;
use super::{EventKind, NewEvent};
use crate::cohorts::model::MemberState;
use crate::db::{AnyConnection, CohortId};
use crate::error::ApiResult;
use crate::rota::reactions as rota;
use crate::sessions::model::RsvpResponse;
use crate::sessions::reactions as sessions;
use crate::skillshares::reactions as skill_shares;

/// A reaction to an event, run inside the transaction that records it.
pub struct Reactor {
    /// For logs and for running it once per subject when one change records several events.
    pub name: &'static str,
    pub run: fn(&mut AnyConnection, &NewEvent<'_>, DateTime<Utc>) -> ApiResult<()>,
}

/// One registration: on events of `kind` for which `when` holds, run `reactor`.
pub struct On {
    pub kind: EventKind,
    pub when: fn(&P) -> bool,
    pub reactor: &'static Reactor,
}

fn always(_: &P) -> bool {
    true
}

/// The registry, in the order reactors run for one event.
pub static REGISTRY: &[On] = &[
    // A member who pauses or leaves gives up their upcoming duties; a "no" gives up the duty
    // held in that session. Both before the re-plan that fills them again.
    On { kind: EventKind::MemberStateChanged, when: not_active, reactor: &rota::RELEASE_UPCOMING_DUTIES },
    On { kind: EventKind::MemberStateChanged, when: not_active, reactor: &skill_shares::RELEASE_MEMBER },
    On { kind: EventKind::SessionRsvpChanged, when: said_no, reactor: &rota::RELEASE_SESSION_DUTY },
    // Series keep their local times when the cohort's time zone moves (before the re-plan).
    On { kind: EventKind::CohortUpdated, when: zone_moved, reactor: &sessions::RETIME },
    // The rota is planned again whenever something it depends on changed.
    On { kind: EventKind::MemberJoined, when: always, reactor: &rota::REPLAN },
    On { kind: EventKind::MemberStateChanged, when: always, reactor: &rota::REPLAN },
    On { kind: EventKind::CohortUpdated, when: zone_moved, reactor: &rota::REPLAN },
    On { kind: EventKind::SeriesChanged, when: always, reactor: &rota::REPLAN },
    On { kind: EventKind::SessionMoved, when: always, reactor: &rota::REPLAN },
    On { kind: EventKind::SessionCancelled, when: always, reactor: &rota::REPLAN },
    On { kind: EventKind::SessionReinstated, when: always, reactor: &rota::REPLAN },
    On { kind: EventKind::SessionRsvpChanged, when: said_no, reactor: &rota::REPLAN },
    On { kind: EventKind::AbsenceAdded, when: always, reactor: &rota::REPLAN },
    On { kind: EventKind::AbsenceRemoved, when: always, reactor: &rota::REPLAN },
    On { kind: EventKind::RoleAdded, when: always, reactor: &rota::REPLAN },
    On { kind: EventKind::RoleChanged, when: always, reactor: &rota::REPLAN },
    // Skill shares follow their sessions: offered back when one is cancelled, back when it is on again.
    On { kind: EventKind::SessionCancelled, when: always, reactor: &skill_shares::FOLLOW_SESSIONS },
    On { kind: EventKind::SessionReinstated, when: always, reactor: &skill_shares::FOLLOW_SESSIONS },
    On { kind: EventKind::SeriesChanged, when: always, reactor: &skill_shares::FOLLOW_SESSIONS },
];

fn not_active(payload: &P) -> bool {
    matches!(payload, P::MemberStateChanged(c) if c.to != MemberState::Active)
}

fn zone_moved(payload: &P) -> bool {
    matches!(payload, P::CohortUpdated(c) if c.time_zone.is_some())
}

fn said_no(payload: &P) -> bool {
    matches!(payload, P::SessionRsvpChanged(r) if r.response == RsvpResponse::No)
}

/// The reactors that an event calls for, in registry order.
pub fn for_event(payload: &P) -> impl Iterator<Item = &'static Reactor> + '_ {
    let kind = payload.kind();
    REGISTRY.iter().filter(move |on| on.kind == kind && (on.when)(payload)).map(|on| on.reactor)
}

/// Runs the reactors of events just appended together: each reactor once per (cohort,
/// subject), so a session moved and cancelled in one change is planned around once.
pub fn react(conn: &mut AnyConnection, events: &[NewEvent<'_>], now: DateTime<Utc>) -> ApiResult<()> {
    let mut done: HashSet<(&'static str, Option<&CohortId>, &str)> = HashSet::new();
    for event in events {
        for reactor in for_event(&event.payload) {
            if done.insert((reactor.name, event.cohort_id, event.subject_id)) {
                (reactor.run)(conn, event, now)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::kind::*;

    fn names(payload: impl Into<P>) -> Vec<&'static str> {
        for_event(&payload.into()).map(|r| r.name).collect()
    }

    #[test]
    fn the_rota_follows_what_it_depends_on() {
        assert_eq!(names(AbsenceAdded {}), ["rota.replan"]);
        assert_eq!(names(SessionMoved {}), ["rota.replan"]);
        assert_eq!(names(SessionCancelled {}), ["rota.replan", "skill_shares.follow_sessions"]);
        assert_eq!(
            names(SessionRsvpChanged { response: RsvpResponse::No }),
            ["rota.release_session_duty", "rota.replan"]
        );
        assert!(names(SessionRsvpChanged { response: RsvpResponse::Yes }).is_empty());
        let paused = MemberStateChanged { from: MemberState::Active, to: MemberState::Paused };
        assert_eq!(names(paused), ["rota.release_upcoming_duties", "skill_shares.release_member", "rota.replan"]);
        let resumed = MemberStateChanged { from: MemberState::Paused, to: MemberState::Active };
        assert_eq!(names(resumed), ["rota.replan"]);
        assert!(names(CohortUpdated { changed: vec!["time_zone".into()], time_zone: None }).is_empty());
        let moved = TimeZoneChange { from: "UTC".into(), to: "Europe/Berlin".into() };
        let zone_moved = CohortUpdated { changed: vec!["time_zone".into()], time_zone: Some(moved) };
        assert_eq!(names(zone_moved), ["sessions.retime", "rota.replan"], "local times kept, then the re-plan");
        assert!(names(SessionCreated {}).is_empty(), "a new session waits for the next plan");
    }
}
