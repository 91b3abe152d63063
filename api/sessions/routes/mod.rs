//! Sessions: `/api/v1/cohorts/{cohort_id}/sessions` (list, one-off), the flat
//! `/api/v1/sessions/{session_id}` (read, move, cancel, agenda, RSVP, attendance, notes),
//! `/api/v1/me/sessions` (the phone's home screen) and the cohort's agenda template.

use actix_web::{HttpResponse, get, patch, post, put, web};
use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::agenda::{self, AgendaItem};
use super::materialize;
use super::model::{
    AgendaRequest, AttendanceRequest, MyDuty, MyRsvp, NewSession, NotesRequest, RsvpRequest, Session, SessionChange,
    SessionDetails, SessionFilter, SessionRow, SessionStatus,
};
use super::recurrence;
use super::series_routes::{duration, started};
use super::store;
use crate::auth::Caller;
use crate::charter::markdown::to_safe_html;
use crate::cohorts::access::{self, Access, Action};
use crate::cohorts::model::Role;
use crate::cohorts::store as cohorts;
use crate::db::{AnyConnection, CohortId, SessionId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::events::{self, EventKind, EventPayload, NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::state::AppState;
use crate::validation::{self, Checks, Invalid};

mod agenda_edit;
mod attendance;
mod change;
mod create;
mod home;
mod list;
mod notes;
mod read;
mod rsvp_answer;
mod rsvp_list;
mod template;

use agenda_edit::set_agenda;
use attendance::record_attendance;
use change::change_session;
use create::create_session;
use home::my_sessions;
use list::list_sessions;
use notes::write_notes;
use read::get_session;
pub(crate) use rsvp_answer::answer_rsvp;
use rsvp_answer::rsvp;
use rsvp_list::list_rsvps;
use template::{get_template, set_template};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_sessions)
        .service(create_session)
        .service(get_session)
        .service(change_session)
        .service(rsvp)
        .service(list_rsvps)
        .service(set_agenda)
        .service(record_attendance)
        .service(write_notes)
        .service(my_sessions)
        .service(get_template)
        .service(set_template);
}

fn zone(access: &Access) -> Tz {
    access.cohort.time_zone.tz()
}

fn session_event<'a>(payload: impl Into<EventPayload>, caller: &'a Caller, session: &'a SessionRow) -> NewEvent<'a> {
    NewEvent::new(payload, &session.id).by(caller.user_id()).in_cohort(&session.cohort_id)
}

/// Fills in the caller's duties and skill shares for a page of sessions, in three queries.
fn with_duties(conn: &mut AnyConnection, mut items: Vec<Session>, user_id: &UserId) -> ApiResult<Vec<Session>> {
    items = crate::skillshares::routes::mine_in_sessions(conn, items, user_id)?;
    let ids: Vec<SessionId> = items.iter().map(|s| s.id.clone()).collect();
    let duties = crate::rota::store::duties_of(conn, user_id, &ids)?;
    for session in &mut items {
        session.my_duties = duties
            .iter()
            .filter(|(s, _, _, _)| *s == session.id)
            .map(|(_, assignment_id, role, confirmed)| MyDuty {
                assignment_id: assignment_id.clone(),
                role: role.clone(),
                confirmed: *confirmed,
            })
            .collect();
    }
    Ok(items)
}

/// A session reached by its own id, checked against the caller's membership of its cohort.
fn session_access(
    conn: &mut AnyConnection,
    caller: &Caller,
    session_id: &SessionId,
    action: Action,
) -> ApiResult<(Access, SessionRow)> {
    let session = store::find_session(conn, session_id)?.ok_or(ApiError::NotFound)?;
    let access = access::authorize(conn, caller, &session.cohort_id, action)?;
    Ok((access, session))
}

/// The full view of one session for the caller.
fn detailed(conn: &mut AnyConnection, access: &Access, session: SessionRow, user_id: &UserId) -> ApiResult<Session> {
    let id = session.id.clone();
    let my = store::my_rsvps(conn, std::slice::from_ref(&id), user_id)?.remove(&id);
    // Notes are a draft of the facilitators and those on duty until they publish them.
    let notes_visible = session.notes_published_at.is_some()
        || access.role() >= Role::Facilitator
        || crate::rota::store::holds_duty(conn, &session.id, user_id)?;
    let author = if notes_visible { store::notes_author(conn, &id)? } else { None };
    let details = SessionDetails {
        rsvp_counts: store::rsvp_counts(conn, &id)?,
        attendance: store::attendance(conn, &id)?,
        notes_html: if notes_visible { to_safe_html(&session.notes) } else { String::new() },
        notes: if notes_visible { session.notes.clone() } else { String::new() },
        notes_published_at: session.notes_published_at.map(|t| t.and_utc()),
        notes_author: author.clone(),
        notes_author_id: author.map(|p| p.id),
        action_items: if notes_visible { store::action_items(conn, &id)? } else { Vec::new() },
    };
    let mut view = Session::new(session, zone(access), my);
    view.details = Some(details);
    Ok(with_duties(conn, vec![view], user_id)?.remove(0))
}

/// Applies `change` to a session in one transaction, if the caller may do `action` there, and
/// answers the session's full view.
async fn update_session<F>(
    state: &AppState,
    caller: Caller,
    session_id: SessionId,
    action: Action,
    mut change: F,
) -> ApiResult<web::Json<Session>>
where
    F: FnMut(&mut AnyConnection, &Caller, &Access, &mut SessionRow, DateTime<Utc>) -> ApiResult<()> + Send + 'static,
{
    let now = state.now();
    let session =
        state.db.write(move |conn| change_in_session(conn, &caller, &session_id, action, now, &mut change)).await?;
    Ok(web::Json(session))
}

/// The transaction of `update_session`, for callers already inside one (links in mail).
fn change_in_session<F>(
    conn: &mut AnyConnection,
    caller: &Caller,
    session_id: &SessionId,
    action: Action,
    now: DateTime<Utc>,
    mut change: F,
) -> ApiResult<Session>
where
    F: FnMut(&mut AnyConnection, &Caller, &Access, &mut SessionRow, DateTime<Utc>) -> ApiResult<()>,
{
    let (access, session) = session_access(conn, caller, session_id, action)?;
    // Locks in one order everywhere: the cohort's row, then the session's; then the
    // session as it is now (another write may have changed it while we waited).
    cohorts::lock_cohort(conn, &session.cohort_id)?;
    store::lock_session(conn, &session.id)?;
    let mut session = store::find_session(conn, &session.id)?.ok_or(ApiError::NotFound)?;
    change(conn, caller, &access, &mut session, now)?;
    session.updated_at = now.naive_utc();
    store::save_session(conn, &session)?;
    detailed(conn, &access, session, caller.user_id())
}

/// Parses `YYYY-MM-DDTHH:MM` (seconds optional), in the years `recurrence::YEARS`.
fn local_start(raw: String) -> Result<NaiveDateTime, Invalid> {
    let parsed = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(raw.trim(), format).ok())
        .ok_or_else(|| Invalid::new("invalid_format", "must be a local date-time as YYYY-MM-DDTHH:MM"))?;
    year_in_range(parsed.year())?;
    Ok(parsed)
}

/// An instant in the years `validation::YEARS`.
fn instant_in_range(at: DateTime<Utc>) -> Result<DateTime<Utc>, Invalid> {
    crate::validation::instant(at)
}

pub(crate) fn year_in_range(year: i32) -> Result<(), Invalid> {
    crate::validation::year(year)
}

/// 409 `session_cancelled`: a cancelled session takes no answers and no attendance.
fn not_cancelled(session: &SessionRow) -> ApiResult<()> {
    if session.status() == SessionStatus::Cancelled {
        return Err(ApiError::conflict("session_cancelled", "This session is cancelled; reinstate it first."));
    }
    Ok(())
}

/// 422 naming every field (e.g. `records[2].user_id`) whose id is not an active member of the
/// cohort: random strings, other cohorts' users, and people who paused or left alike. One query.
fn check_active_members<'a>(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    named: impl IntoIterator<Item = (String, &'a str)>,
) -> ApiResult<()> {
    let named: Vec<(String, &str)> = named.into_iter().collect();
    let ids: Vec<String> = named.iter().map(|(_, id)| id.to_string()).collect();
    let active = store::active_members_among(conn, cohort_id, &ids)?;
    let mut checks = Checks::new();
    for (field, id) in &named {
        if !active.contains(*id) {
            checks.fail(field, Invalid::new("not_a_member", "must be an active member of this cohort"));
        }
    }
    checks.finish()
}

fn check_fits(items: &[AgendaItem], duration_minutes: u32) -> ApiResult<()> {
    agenda::check(items, duration_minutes).map_err(|m| ApiError::invalid(&m.field, m.code, m.message))
}

fn agenda_items(raw: Vec<AgendaItem>, checks: &mut Checks) -> Vec<AgendaItem> {
    raw.into_iter()
        .enumerate()
        .filter_map(|(i, mut item)| match validation::label(item.title.clone()) {
            Ok(title) => {
                item.title = title;
                if item.id.trim().is_empty() {
                    item.id = uuid::Uuid::new_v4().to_string();
                }
                Some(item)
            }
            Err(invalid) => {
                checks.fail(&format!("items[{i}].title"), invalid);
                None
            }
        })
        .collect()
}
