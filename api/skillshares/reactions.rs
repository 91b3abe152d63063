//! Skill shares follow their sessions (registered in `events::reactors`). A slot's session moving
//! needs nothing: the slot names the session, and the agenda's refit keeps its box. A session
//! cancelled (by hand, or by a series' new schedule) offers its slots back to their presenters,
//! who move them to another session or withdraw them; never silently lost. A session reinstated
//! takes back the slots still offered back on it. A member who pauses or leaves gives up their
//! places (the waitlists move up), and one who leaves withdraws what they were to present.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::SlotStatus;
use crate::cohorts::model::MemberState;
use crate::db::schema::{sessions, skill_shares as slots};
use crate::db::{AnyConnection, CohortId, UserId};
use crate::error::ApiResult;
use crate::events::reactors::Reactor;
use crate::events::{EventPayload, NewEvent, kind as ev};
use crate::sessions::agenda::{self, AgendaItem};
use crate::sessions::model::SessionStatus;

/// A member who pauses or leaves gives up their places in upcoming skill shares (each waitlist
/// moves up); one who leaves also withdraws those they were to present (`subject_id`: the member).
pub static RELEASE_MEMBER: Reactor = Reactor { name: "skill_shares.release_member", run: release_member };

fn release_member(conn: &mut AnyConnection, event: &NewEvent<'_>, now: DateTime<Utc>) -> ApiResult<()> {
    let (Some(cohort_id), EventPayload::MemberStateChanged(change)) = (event.cohort_id, &event.payload) else {
        return Ok(());
    };
    // Registered for members who are no longer active (`events::reactors`).
    let member = UserId::from_untyped(event.subject_id);
    let actor = event.actor_id.cloned().unwrap_or_else(|| member.clone());
    super::roster::release_person(conn, &member, Some(cohort_id), change.to == MemberState::Left, &actor, now)
}

pub static FOLLOW_SESSIONS: Reactor = Reactor { name: "skill_shares.follow_sessions", run: follow_sessions };

fn follow_sessions(conn: &mut AnyConnection, event: &NewEvent<'_>, now: DateTime<Utc>) -> ApiResult<()> {
    let Some(cohort_id) = event.cohort_id else { return Ok(()) };
    let cohort_id: CohortId = cohort_id.clone();
    // Slots whose session's cancellation they have not followed yet, and those offered back
    // whose session is on again: (slot, session, session status, agenda).
    let rows: Vec<(String, String, SlotStatus, SessionStatus, String)> = slots::table
        .inner_join(sessions::table.on(sessions::id.eq(slots::session_id)))
        .filter(slots::cohort_id.eq(&cohort_id))
        .filter(sessions::starts_at.gt(now.naive_utc()))
        .filter(
            slots::status
                .eq_any([SlotStatus::Proposed.as_str(), SlotStatus::Approved.as_str()])
                .and(sessions::status.eq(SessionStatus::Cancelled.as_str()))
                .or(slots::status
                    .eq(SlotStatus::OfferedBack.as_str())
                    .and(sessions::status.ne(SessionStatus::Cancelled.as_str()))),
        )
        .select((slots::id, slots::session_id, slots::status, sessions::status, sessions::agenda))
        .load(conn)?;
    for (id, session_id, status, session_status, agenda_text) in rows {
        let now_status = if session_status == SessionStatus::Cancelled {
            SlotStatus::OfferedBack
        } else {
            // Back on the agenda if its box is still there (it was approved), else back to
            // waiting for approval.
            let items: Vec<AgendaItem> = serde_json::from_str(&agenda_text).unwrap_or_default();
            if agenda::skill_share_position(&items, &id).is_some() {
                SlotStatus::Approved
            } else {
                SlotStatus::Proposed
            }
        };
        if now_status == status {
            continue;
        }
        diesel::update(slots::table.find(&id))
            .set((slots::status.eq(now_status), slots::updated_at.eq(now.naive_utc())))
            .execute(conn)?;
        let mut new_event = match now_status {
            SlotStatus::OfferedBack => NewEvent::new(ev::SkillShareOfferedBack { session_id }, &id),
            SlotStatus::Approved => NewEvent::new(ev::SkillShareApproved { session_id }, &id),
            // Back to waiting for approval.
            _ => NewEvent::new(ev::SkillShareChanged { changed: vec!["status".to_string()] }, &id),
        }
        .in_cohort(&cohort_id);
        if let Some(actor) = event.actor_id {
            new_event = new_event.by(actor);
        }
        new_event.record(conn, now)?;
    }
    Ok(())
}
