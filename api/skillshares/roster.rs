//! A slot's sign-ups changed in the database by the rules of `waitlist`, each change recording
//! its event. Every function here expects the caller to hold the slot's row lock
//! (`store::lock_slot`) and to have read the slot after taking it.

use chrono::{DateTime, Utc};

use super::model::{SignupRow, SignupStatus, SlotRow, SlotStatus};
use super::store;
use super::waitlist::{self, place_for};
use crate::db::{AnyConnection, CohortId, SessionId, UserId};
use crate::error::ApiResult;
use crate::events::{NewEvent, kind as ev};

fn event<'a>(payload: impl Into<crate::events::EventPayload>, actor: &'a UserId, slot: &'a SlotRow) -> NewEvent<'a> {
    NewEvent::by_in_cohort(payload, actor, &slot.cohort_id, &slot.id)
}

fn attending(conn: &mut AnyConnection, slot: &SlotRow) -> ApiResult<u32> {
    Ok(store::attending_count(conn, &slot.id)?.max(0) as u32)
}

/// A sign-up's waitlist position now, when it waits.
fn position_of(conn: &mut AnyConnection, row: &SignupRow) -> ApiResult<Option<i64>> {
    match row.status {
        SignupStatus::Waitlisted => Ok(Some(store::position_at(conn, &row.skill_share_id, row.arrival)?)),
        SignupStatus::Attending => Ok(None),
    }
}

/// What a sign-up did.
pub struct Joined {
    pub status: SignupStatus,
    pub position: Option<i64>,
    /// False when the person already held that place (the sign-up changed nothing).
    pub changed: bool,
}

/// Takes `user_id` into the slot: a place while one is free, else the waitlist. With `added_by`
/// (a facilitator), a place at once, past capacity if need be, also for someone waiting.
pub fn sign_up(
    conn: &mut AnyConnection,
    slot: &mut SlotRow,
    user_id: &UserId,
    actor: &UserId,
    added_by: Option<&UserId>,
    now: DateTime<Utc>,
) -> ApiResult<Joined> {
    let existing = store::signup_of(conn, &slot.id, user_id)?;
    if let Some(row) = &existing
        && (row.status == SignupStatus::Attending || added_by.is_none())
    {
        let position = position_of(conn, row)?;
        return Ok(Joined { status: row.status, position, changed: false });
    }
    if existing.is_some() {
        // A facilitator takes someone off the waitlist into a place.
        store::set_signup(conn, &slot.id, user_id, SignupStatus::Attending, added_by, now.naive_utc())?;
    } else {
        let status = if added_by.is_some() {
            SignupStatus::Attending
        } else {
            place_for(slot.capacity(), attending(conn, slot)?)
        };
        let arrival = slot.next_arrival;
        slot.next_arrival += 1;
        store::save_slot(conn, slot)?;
        let row = SignupRow {
            skill_share_id: slot.id.clone(),
            user_id: user_id.clone(),
            status,
            arrival,
            added_by: added_by.cloned(),
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        };
        store::insert_signup(conn, &row)?;
        if status == SignupStatus::Waitlisted {
            let position = position_of(conn, &row)?;
            let payload = ev::SkillShareWaitlisted { user_id: user_id.to_string(), position: position.unwrap_or(0) };
            event(payload, actor, slot).record(conn, now)?;
            return Ok(Joined { status, position, changed: true });
        }
    }
    let payload = ev::SkillShareSignedUp { user_id: user_id.to_string(), added_by: added_by.map(|a| a.to_string()) };
    event(payload, actor, slot).record(conn, now)?;
    Ok(Joined { status: SignupStatus::Attending, position: None, changed: true })
}

/// Takes `user_id` out of the slot (their own leaving, or `removed_by` a facilitator), then
/// promotes from the waitlist into any place that frees up. False when they held no place.
pub fn leave(
    conn: &mut AnyConnection,
    slot: &SlotRow,
    user_id: &UserId,
    actor: &UserId,
    removed_by: Option<&UserId>,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let Some(row) = store::signup_of(conn, &slot.id, user_id)? else { return Ok(false) };
    store::delete_signup(conn, &slot.id, user_id)?;
    let payload = ev::SkillShareLeft {
        user_id: user_id.to_string(),
        was_waitlisted: row.status == SignupStatus::Waitlisted,
        removed_by: removed_by.map(|r| r.to_string()),
    };
    event(payload, actor, slot).record(conn, now)?;
    promote(conn, slot, actor, now)?;
    Ok(true)
}

/// Moves as many people up from the head of the waitlist as there are free places, in arrival
/// order, each with its event. Answers who moved up.
pub fn promote(conn: &mut AnyConnection, slot: &SlotRow, actor: &UserId, now: DateTime<Utc>) -> ApiResult<Vec<UserId>> {
    let waiting = store::waiting_count(conn, &slot.id)?.max(0) as u32;
    if waiting == 0 {
        return Ok(Vec::new());
    }
    let n = waitlist::promotions(slot.capacity(), attending(conn, slot)?, waiting);
    if n == 0 {
        return Ok(Vec::new());
    }
    let head = store::waitlist_head(conn, &slot.id, i64::from(n))?;
    for user_id in &head {
        store::set_signup(conn, &slot.id, user_id, SignupStatus::Attending, None, now.naive_utc())?;
        event(ev::SkillSharePromoted { user_id: user_id.to_string() }, actor, slot).record(conn, now)?;
    }
    Ok(head)
}

/// Takes the box `slot_id` off a session's agenda, if it is there, recording that the agenda
/// changed. The caller holds the session's lock.
pub fn take_off_agenda(
    conn: &mut AnyConnection,
    actor: &UserId,
    session_id: &SessionId,
    slot_id: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(session) = crate::sessions::store::find_session(conn, session_id)? else { return Ok(()) };
    let items = session.agenda();
    if !items.iter().any(|i| i.id == slot_id) {
        return Ok(());
    }
    let kept = crate::sessions::agenda::remove_item(&items, slot_id);
    save_agenda(conn, actor, session, &kept, now)
}

/// Saves a session's new agenda and records that it changed. The caller holds the session's lock.
pub fn save_agenda(
    conn: &mut AnyConnection,
    actor: &UserId,
    mut session: crate::sessions::model::SessionRow,
    items: &[crate::sessions::agenda::AgendaItem],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    session.agenda = serde_json::to_string(items).map_err(|e| crate::error::ApiError::Internal(e.into()))?;
    session.updated_at = now.naive_utc();
    crate::sessions::store::save_session(conn, &session)?;
    NewEvent::by_in_cohort(ev::SessionAgendaChanged {}, actor, &session.cohort_id, &session.id).record(conn, now)
}

/// Someone who will not come any more (they paused or left the cohort, or deleted their account):
/// their places and waitlist entries in skill shares whose sessions have not started are given up,
/// each freed place going to the first on that waitlist; with `withdraw_presented`, the skill shares
/// they were to present there are withdrawn and leave their agendas. In one cohort, or in all.
pub fn release_person(
    conn: &mut AnyConnection,
    user_id: &UserId,
    cohort_id: Option<&CohortId>,
    withdraw_presented: bool,
    actor: &UserId,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    // Sessions before slots, as everywhere: the presented ones first (they touch agendas).
    if withdraw_presented {
        for slot in store::upcoming_presented(conn, user_id, cohort_id, now.naive_utc())? {
            crate::sessions::store::lock_session(conn, &slot.session_id)?;
            store::lock_slot(conn, &slot.id)?;
            let Some(mut slot) = store::find_slot(conn, &slot.id)? else { continue };
            take_off_agenda(conn, actor, &slot.session_id, &slot.id, now)?;
            slot.status = SlotStatus::Withdrawn;
            slot.updated_at = now.naive_utc();
            store::save_slot(conn, &slot)?;
            event(ev::SkillShareWithdrawn {}, actor, &slot).record(conn, now)?;
        }
    }
    for slot_id in store::upcoming_places(conn, user_id, cohort_id, now.naive_utc())? {
        store::lock_slot(conn, &slot_id)?;
        let Some(slot) = store::find_slot(conn, &slot_id)? else { continue };
        leave(conn, &slot, user_id, actor, None, now)?;
    }
    Ok(())
}
