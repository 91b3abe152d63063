//! `/api/v1/sessions/{session_id}/skill-shares` (offer, list), `/api/v1/cohorts/{cohort_id}/skill-shares`
//! (upcoming) and its settings, `/api/v1/skill-shares/{id}` (read, change, withdraw, approve,
//! sign-ups) and `/api/v1/me/skill-shares`.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};

use super::model::{
    NewSignup, NewSkillShare, Signup, SignupResult, SignupStatus, Signups, SkillShare, SkillShareChange,
    SkillShareSettings, SkillShareSettingsChange, SlotRow, SlotStatus,
};
use super::view::{self, signups_open};
use super::{roster, store};
use crate::auth::Caller;
use crate::cohorts::access::{self, Access, Action, OwnAction};
use crate::cohorts::model::{MemberState, Role};
use crate::db::{AnyConnection, CohortId, SessionId, UserId, new_id};
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::http::json::{JsonBody, OptionalJsonBody};
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::sessions::agenda::{self, AgendaItem, AgendaKind};
use crate::sessions::model::{SessionRow, SessionStatus};
use crate::sessions::store as sessions;
use crate::state::AppState;
use crate::validation::{self, Checks, Invalid};

mod change;
mod lists;
mod offer;
mod settings;
mod signups;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(offer::offer_skill_share)
        .service(lists::session_skill_shares)
        .service(lists::cohort_skill_shares)
        .service(lists::my_skill_shares)
        .service(lists::get_skill_share)
        .service(change::change_skill_share)
        .service(change::withdraw_skill_share)
        .service(offer::approve_skill_share)
        .service(signups::sign_up_for_skill_share)
        .service(signups::leave_skill_share)
        .service(signups::remove_skill_share_signup)
        .service(signups::skill_share_signups)
        .service(settings::get_skill_share_settings)
        .service(settings::set_skill_share_settings);
}

/// The most skill shares one session may hold (withdrawn ones aside): the agenda's own bound.
pub const MAX_PER_SESSION: i64 = agenda::MAX_ITEMS as i64;

fn slot_event<'a>(
    payload: impl Into<crate::events::EventPayload>,
    caller: &'a Caller,
    slot: &'a SlotRow,
) -> NewEvent<'a> {
    NewEvent::by_in_cohort(payload, caller.user_id(), &slot.cohort_id, &slot.id)
}

/// A slot reached by its own id, checked against the caller's membership of its cohort.
fn slot_access(conn: &mut AnyConnection, caller: &Caller, id: &str, action: Action) -> ApiResult<(Access, SlotRow)> {
    let slot = store::find_slot(conn, id)?.ok_or(ApiError::NotFound)?;
    let access = access::authorize(conn, caller, &slot.cohort_id, action)?;
    Ok((access, slot))
}

/// The slot, authorized, then locked (its session first when `with_session`: sessions before
/// slots, everywhere) and read again as it now is.
fn locked_slot(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: &str,
    action: Action,
    with_session: bool,
) -> ApiResult<(Access, SlotRow)> {
    let (access, slot) = slot_access(conn, caller, id, action)?;
    if with_session {
        sessions::lock_session(conn, &slot.session_id)?;
    }
    store::lock_slot(conn, &slot.id)?;
    let slot = store::find_slot(conn, &slot.id)?.ok_or(ApiError::NotFound)?;
    Ok((access, slot))
}

fn session_row(conn: &mut AnyConnection, session_id: &SessionId) -> ApiResult<SessionRow> {
    sessions::find_session(conn, session_id)?.ok_or(ApiError::NotFound)
}

/// 409 unless the session can still take skill shares: not cancelled, not started.
fn open_session(session: &SessionRow, now: DateTime<Utc>) -> ApiResult<()> {
    if session.status() == SessionStatus::Cancelled {
        return Err(ApiError::conflict("session_cancelled", "This session is cancelled; choose another session."));
    }
    crate::sessions::started(session.starts_at.and_utc(), now)
}

/// 403 unless the caller presents the slot or runs skill shares in its cohort.
fn presenter_or_facilitator(access: &Access, caller: &Caller, slot: &SlotRow) -> ApiResult<()> {
    if slot.presenter_id == *caller.user_id() || access.role() >= Role::Facilitator {
        return Ok(());
    }
    Err(ApiError::Forbidden {
        code: "forbidden",
        detail: "Only its presenter, or a facilitator, may change this skill share.".to_string(),
    })
}

fn not_withdrawn(slot: &SlotRow) -> ApiResult<()> {
    if slot.status == SlotStatus::Withdrawn {
        return Err(ApiError::conflict("skill_share_withdrawn", "This skill share was withdrawn."));
    }
    Ok(())
}

/// Puts (or brings up to date) the slot's box on its session's agenda: 422 on `agenda` when the
/// session has no room. The caller holds the session's lock.
fn put_on_agenda(conn: &mut AnyConnection, caller: &Caller, slot: &SlotRow, now: DateTime<Utc>) -> ApiResult<()> {
    let session = session_row(conn, &slot.session_id)?;
    let item = AgendaItem {
        id: slot.id.clone(),
        kind: AgendaKind::SkillShare,
        title: slot.title.clone(),
        minutes: slot.minutes.max(0) as u32,
    };
    let items = agenda::place_skill_share(&session.agenda(), item, session.duration_minutes())
        .map_err(|m| ApiError::invalid(&m.field, m.code, format!("The session's agenda {}.", m.message)))?;
    roster::save_agenda(conn, caller.user_id(), session, &items, now)
}

fn minutes(raw: i64) -> Result<i32, Invalid> {
    if (5..=240).contains(&raw) {
        Ok(raw as i32)
    } else {
        Err(Invalid::new("out_of_range", "must be between 5 and 240 minutes"))
    }
}

fn capacity(raw: i64) -> Result<i32, Invalid> {
    if (1..=500).contains(&raw) {
        Ok(raw as i32)
    } else {
        Err(Invalid::new("out_of_range", "must be between 1 and 500 places, or null for unlimited"))
    }
}

/// 422 on `experiment_id` unless it is one of the presenter's experiments the cohort may see.
fn check_experiment(conn: &mut AnyConnection, slot_cohort: &CohortId, presenter: &UserId, id: &str) -> ApiResult<()> {
    if store::own_experiment(conn, slot_cohort, presenter, id)?.is_none() {
        return Err(ApiError::invalid(
            "experiment_id",
            "not_found",
            "must be one of the presenter's experiments in this cohort that the cohort can see",
        ));
    }
    Ok(())
}

/// Fills in the caller's part in the skill shares of a page of sessions (the home screen), in two
/// queries for the whole page.
pub fn mine_in_sessions(
    conn: &mut AnyConnection,
    mut items: Vec<crate::sessions::model::Session>,
    user_id: &UserId,
) -> ApiResult<Vec<crate::sessions::model::Session>> {
    use crate::sessions::model::{MySkillShare, MySkillShareStatus};
    let ids: Vec<SessionId> = items.iter().map(|s| s.id.clone()).collect();
    if ids.is_empty() {
        return Ok(items);
    }
    let rows = store::mine_in_sessions(conn, &ids, user_id)?;
    let waiting: Vec<String> =
        rows.iter().filter(|r| r.4 == Some(SignupStatus::Waitlisted)).map(|r| r.1.clone()).collect();
    let positions = if waiting.is_empty() { Default::default() } else { store::my_places(conn, &waiting, user_id)? };
    for session in &mut items {
        session.my_skill_shares = rows
            .iter()
            .filter(|r| r.0.as_str() == session.id.as_str())
            .map(|(_, id, title, presenting, status)| MySkillShare {
                id: id.clone(),
                title: title.clone(),
                my_status: match (presenting, status) {
                    (true, _) => MySkillShareStatus::Presenting,
                    (false, Some(SignupStatus::Waitlisted)) => MySkillShareStatus::Waitlisted,
                    _ => MySkillShareStatus::Attending,
                },
                my_position: positions.get(id).and_then(|(_, p)| *p),
            })
            .collect();
    }
    Ok(items)
}

/// 422 on `items` unless a new agenda for the session keeps the box of each of its approved
/// skill shares (as a `skill_share` item with the skill share's id).
pub fn check_agenda_keeps_slots(conn: &mut AnyConnection, session_id: &str, items: &[AgendaItem]) -> ApiResult<()> {
    let approved = store::slots_of_session(conn, session_id, &[SlotStatus::Approved])?;
    let mut checks = Checks::new();
    for slot in approved {
        if !items.iter().any(|i| i.id == slot.id && i.kind == AgendaKind::SkillShare) {
            checks.fail(
                "items",
                Invalid::new(
                    "skill_share_missing",
                    format!(
                        "must keep the skill share {:?} (id {}): move or withdraw the skill share instead",
                        slot.title, slot.id
                    ),
                ),
            );
        }
    }
    checks.finish()
}
