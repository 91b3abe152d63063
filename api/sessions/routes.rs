//! Sessions: `/api/v1/cohorts/{cohort_id}/sessions` (list, one-off), the flat
//! `/api/v1/sessions/{session_id}` (read, move, cancel, agenda, RSVP, attendance, notes),
//! `/api/v1/me/sessions` (the phone's home screen) and the cohort's agenda template.

use actix_web::{HttpResponse, get, patch, post, put, web};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde_json::json;

use super::agenda::{self, AgendaItem};
use super::materialize;
use super::model::{
    AgendaRequest, Attendance, AttendanceRequest, AttendanceStatus, MyDuty, MyRsvp, NewSession, NotesRequest,
    RsvpRequest, RsvpResponse, Session, SessionChange, SessionDetails, SessionFilter, SessionRow, SessionStatus,
};
use super::recurrence;
use super::series_routes::{duration, started};
use super::store;
use crate::auth::Caller;
use crate::charter::markdown::to_safe_html;
use crate::cohorts::access::{self, Access, Action};
use crate::cohorts::model::Role;
use crate::cohorts::store as cohorts;
use crate::db::{AnyConnection, new_id};
use crate::error::{ApiError, ApiResult};
use crate::events::NewEvent;
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::state::AppState;
use crate::validation::{self, Checks, Invalid};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_sessions)
        .service(create_session)
        .service(get_session)
        .service(change_session)
        .service(rsvp)
        .service(set_agenda)
        .service(record_attendance)
        .service(write_notes)
        .service(my_sessions)
        .service(get_template)
        .service(set_template);
}

fn zone(access: &Access) -> Tz {
    access.cohort.time_zone.parse().unwrap_or(chrono_tz::UTC)
}

fn session_event<'a>(kind: &'a str, caller: &'a Caller, session: &'a SessionRow) -> NewEvent<'a> {
    NewEvent::new(kind, "session", &session.id).by(caller.user_id()).in_cohort(&session.cohort_id)
}

/// Fills in the caller's duties for a page of sessions, in one query.
fn with_duties(conn: &mut AnyConnection, mut items: Vec<Session>, user_id: &str) -> ApiResult<Vec<Session>> {
    let ids: Vec<String> = items.iter().map(|s| s.id.clone()).collect();
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
    session_id: &str,
    action: Action,
) -> ApiResult<(Access, SessionRow)> {
    let session = store::find_session(conn, session_id)?.ok_or(ApiError::NotFound)?;
    let access = access::authorize(conn, caller, &session.cohort_id, action)?;
    Ok((access, session))
}

/// The full view of one session for the caller.
fn detailed(conn: &mut AnyConnection, access: &Access, session: SessionRow, user_id: &str) -> ApiResult<Session> {
    let id = session.id.clone();
    let my = store::my_rsvps(conn, std::slice::from_ref(&id), user_id)?.remove(&id);
    // Notes are a draft of the facilitators and those on duty until they publish them.
    let notes_visible = session.notes_published_at.is_some()
        || access.role() >= Role::Facilitator
        || crate::rota::store::holds_duty(conn, &session.id, user_id)?;
    let details = SessionDetails {
        rsvp_counts: store::rsvp_counts(conn, &id)?,
        attendance: store::attendance(conn, &id)?
            .into_iter()
            .map(|(user_id, status)| Attendance { user_id, status: AttendanceStatus::from_stored(&status) })
            .collect(),
        notes_html: if notes_visible { to_safe_html(&session.notes) } else { String::new() },
        notes: if notes_visible { session.notes.clone() } else { String::new() },
        notes_published_at: session.notes_published_at.map(|t| t.and_utc()),
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
    session_id: String,
    action: Action,
    change: F,
) -> ApiResult<web::Json<Session>>
where
    F: FnOnce(&mut AnyConnection, &Caller, &Access, &mut SessionRow, DateTime<Utc>) -> ApiResult<()> + Send + 'static,
{
    let now = state.now();
    let session = state
        .db
        .write(move |conn| {
            let (access, mut session) = session_access(conn, &caller, &session_id, action)?;
            change(conn, &caller, &access, &mut session, now)?;
            session.updated_at = now.naive_utc();
            store::save_session(conn, &session)?;
            detailed(conn, &access, session, caller.user_id())
        })
        .await?;
    Ok(web::Json(session))
}

/// A cohort's sessions in time order; `from` and `to` narrow the range (e.g. `from=now` for the
/// upcoming ones).
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:read"])),
    params(("cohort_id" = String, Path, format = Uuid), SessionFilter, PageParams),
    responses((status = 200, body = inline(Page<Session>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    filter: web::Query<SessionFilter>,
    query: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<Session>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, filter) = (path.into_inner(), filter.into_inner());
    let result = state
        .db
        .read(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::ReadSessions)?;
            let rows = store::list(conn, &cohort_id, &filter, &page)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let mut mine = store::my_rsvps(conn, &ids, caller.user_id())?;
            let tz = zone(&access);
            let mut result = Page::from_rows(
                rows,
                &page,
                |row: &SessionRow| Cursor { created_at: row.starts_at, id: row.id.clone() },
                |row| {
                    let my = mine.remove(&row.id);
                    Session::new(row, tz, my)
                },
            );
            result.items = with_duties(conn, result.items, caller.user_id())?;
            Ok(result)
        })
        .await?;
    Ok(web::Json(result))
}

/// Parses `YYYY-MM-DDTHH:MM` (seconds optional).
fn local_start(raw: String) -> Result<NaiveDateTime, Invalid> {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(raw.trim(), format).ok())
        .ok_or_else(|| Invalid::new("invalid_format", "must be a local date-time as YYYY-MM-DDTHH:MM"))
}

/// Add a one-off session (facilitators and organizers), by its local start in the cohort's zone
/// or by its instant.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = NewSession,
    responses((status = 201, body = Session), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/sessions")]
pub async fn create_session(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<NewSession>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut checks = Checks::new();
    let title = checks.optional("title", body.title, validation::label).unwrap_or_else(|| "Session".to_string());
    let local = checks.optional("local_start", body.local_start, |raw: String| local_start(raw).map(Some)).flatten();
    let minutes = checks.require("duration_minutes", body.duration_minutes, duration);
    let location = checks.optional("location", body.location, validation::text_up_to(500)).unwrap_or_default();
    if local.is_some() == body.starts_at.is_some() {
        checks.fail("local_start", Invalid::new("required", "give exactly one of local_start and starts_at"));
    }
    checks.finish()?;
    let (cohort_id, now) = (path.into_inner(), state.now());
    let session = state
        .db
        .write(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::RunSessions)?;
            let tz = zone(&access);
            let starts_at = body.starts_at.unwrap_or_else(|| recurrence::instant(local.unwrap_or_default(), tz));
            let template = materialize::template(cohorts::agenda_template(conn, &cohort_id)?.as_deref());
            let row = SessionRow {
                id: new_id(),
                cohort_id: cohort_id.clone(),
                series_id: None,
                occurrence_key: None,
                title,
                location,
                starts_at: starts_at.naive_utc(),
                ends_at: (starts_at + Duration::minutes(i64::from(minutes))).naive_utc(),
                status: SessionStatus::Scheduled.as_str().to_string(),
                cancel_reason: None,
                agenda: serde_json::to_string(&agenda::fit(&template, minutes as u32)).unwrap_or_default(),
                notes: String::new(),
                notes_published_at: None,
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
            };
            store::insert_session(conn, &row)?;
            session_event("session.created", &caller, &row).record(conn, now)?;
            detailed(conn, &access, row, caller.user_id())
        })
        .await?;
    Ok(HttpResponse::Created().json(session))
}

/// One session, with RSVP counts, attendance, notes and action items.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:read"])),
    params(("session_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Session), (status = 404, response = NotFound))
)]
#[get("/sessions/{session_id}")]
pub async fn get_session(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<web::Json<Session>> {
    let session_id = path.into_inner();
    let session = state
        .db
        .read(move |conn| {
            let (access, session) = session_access(conn, &caller, &session_id, Action::ReadSessions)?;
            detailed(conn, &access, session, caller.user_id())
        })
        .await?;
    Ok(web::Json(session))
}

/// Move, cancel (with a reason), reinstate or rename one session (facilitators and organizers).
/// Everything that hangs on the session follows it; sessions that have started do not change.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("session_id" = String, Path, format = Uuid)),
    request_body = SessionChange,
    responses((status = 200, body = Session), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[patch("/sessions/{session_id}")]
pub async fn change_session(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<SessionChange>,
) -> ApiResult<web::Json<Session>> {
    let body = body.0;
    let mut checks = Checks::new();
    let minutes = checks.optional("duration_minutes", body.duration_minutes, duration);
    let title = checks.optional("title", body.title, validation::label);
    let location = checks.optional("location", body.location, validation::text_up_to(500));
    let reason = checks.optional("cancel_reason", body.cancel_reason, validation::nonblank_text_up_to(500));
    if body.status == Some(SessionStatus::Cancelled) && reason.is_none() {
        checks.fail("cancel_reason", Invalid::new("required", "say why the session is cancelled"));
    }
    if body.status == Some(SessionStatus::Moved) {
        checks.fail("status", Invalid::new("invalid_value", "move a session by giving starts_at"));
    }
    checks.finish()?;
    update_session(
        &state,
        caller,
        path.into_inner(),
        Action::RunSessions,
        move |conn, caller, _access, session, now| {
            started(session.starts_at.and_utc(), now)?;
            let mut kinds = Vec::new();
            if body.starts_at.is_some() || minutes.is_some() {
                let start = body.starts_at.map_or(session.starts_at, |t| t.naive_utc());
                let length = minutes.map_or(session.ends_at - session.starts_at, |m| Duration::minutes(i64::from(m)));
                started(start.and_utc(), now)?;
                session.starts_at = start;
                session.ends_at = start + length;
                if session.status() != SessionStatus::Cancelled {
                    session.status = SessionStatus::Moved.as_str().to_string();
                }
                kinds.push("session.moved");
            }
            match body.status {
                Some(SessionStatus::Cancelled) => {
                    session.status = SessionStatus::Cancelled.as_str().to_string();
                    session.cancel_reason = reason;
                    kinds.push("session.cancelled");
                }
                Some(SessionStatus::Scheduled) if session.status() == SessionStatus::Cancelled => {
                    let moved = session.occurrence_key.is_none() || kinds.contains(&"session.moved");
                    session.status =
                        if moved { SessionStatus::Moved } else { SessionStatus::Scheduled }.as_str().to_string();
                    session.cancel_reason = None;
                    kinds.push("session.reinstated");
                }
                _ => {}
            }
            if let Some(title) = title {
                session.title = title;
            }
            if let Some(location) = location {
                session.location = location;
            }
            let reschedules = !kinds.is_empty();
            for kind in kinds {
                session_event(kind, caller, session).record(conn, now)?;
            }
            if reschedules {
                // Saved first, so the re-plan sees the session as it now is.
                store::save_session(conn, session)?;
                let zone = cohorts::find_cohort(conn, &session.cohort_id)?.map(|c| c.time_zone).unwrap_or_default();
                crate::rota::engine::replan_if_planned(conn, &session.cohort_id, &zone, now)?;
            }
            Ok(())
        },
    )
    .await
}

/// Say whether you come: `yes`, `no` (counts as an absence for the rota) or `maybe`, with a note.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("session_id" = String, Path, format = Uuid)),
    request_body = RsvpRequest,
    responses((status = 200, body = Session), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[put("/sessions/{session_id}/rsvp")]
pub async fn rsvp(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<RsvpRequest>,
) -> ApiResult<web::Json<Session>> {
    let body = body.0;
    let mut checks = Checks::new();
    let response = checks.require("response", body.response, |r| Ok(Some(r)));
    let note = checks.optional("note", body.note, validation::text_up_to(500)).unwrap_or_default();
    checks.finish()?;
    let Some(response) = response else {
        return Err(ApiError::invalid("response", "required", "is required"));
    };
    update_session(&state, caller, path.into_inner(), Action::Rsvp, move |conn, caller, _access, session, now| {
        started(session.starts_at.and_utc(), now)?;
        store::set_rsvp(conn, &session.id, caller.user_id(), response, &note, now)?;
        session_event("session.rsvp_changed", caller, session)
            .with(json!({ "response": response }))
            .record(conn, now)?;
        if response == RsvpResponse::No {
            // A "no" is an absence: the duty they held there goes back to the rota.
            let cohort_id = session.cohort_id.clone();
            crate::rota::store::release_duties(conn, &cohort_id, caller.user_id(), std::slice::from_ref(&session.id))?;
            let zone = cohorts::find_cohort(conn, &cohort_id)?.map(|c| c.time_zone).unwrap_or_default();
            crate::rota::engine::replan_if_planned(conn, &cohort_id, &zone, now)?;
        }
        Ok(())
    })
    .await
}

/// 422 naming the first box that ends after the session.
fn check_fits(items: &[AgendaItem], duration_minutes: u32) -> ApiResult<()> {
    match agenda::first_overrun(items, duration_minutes) {
        Some(i) => Err(ApiError::invalid(
            &format!("items[{i}].minutes"),
            "does_not_fit",
            format!("{:?} ends after the session's {duration_minutes} minutes", items[i].title),
        )),
        None => Ok(()),
    }
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

/// Replace a session's agenda (facilitators and organizers): phases and items in order, each with
/// a time box; together they must fit the session (422 naming the box that does not).
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("session_id" = String, Path, format = Uuid)),
    request_body = AgendaRequest,
    responses((status = 200, body = Session), (status = 404, response = NotFound))
)]
#[put("/sessions/{session_id}/agenda")]
pub async fn set_agenda(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<AgendaRequest>,
) -> ApiResult<web::Json<Session>> {
    let mut checks = Checks::new();
    let raw = checks.require("items", body.0.items, |items: Vec<AgendaItem>| Ok(items));
    let items = agenda_items(raw, &mut checks);
    checks.finish()?;
    update_session(
        &state,
        caller,
        path.into_inner(),
        Action::RunSessions,
        move |conn, caller, _access, session, now| {
            check_fits(&items, session.duration_minutes())?;
            session.agenda = serde_json::to_string(&items).map_err(|e| ApiError::Internal(e.into()))?;
            session_event("session.agenda_changed", caller, session).record(conn, now)
        },
    )
    .await
}

/// Record who was present, late or absent (facilitators and organizers, or whoever is on duty in
/// the session, e.g. the note-taker).
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("session_id" = String, Path, format = Uuid)),
    request_body = AttendanceRequest,
    responses((status = 200, body = Session), (status = 404, response = NotFound))
)]
#[put("/sessions/{session_id}/attendance")]
pub async fn record_attendance(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<AttendanceRequest>,
) -> ApiResult<web::Json<Session>> {
    let mut checks = Checks::new();
    let records = checks.require("records", body.0.records, |r: Vec<_>| Ok(r));
    checks.finish()?;
    update_session(
        &state,
        caller,
        path.into_inner(),
        Action::KeepSessionRecord,
        move |conn, caller, access, session, now| {
            let on_duty = crate::rota::store::holds_duty(conn, &session.id, caller.user_id())?;
            access::on_duty_or_facilitator(access, on_duty)?;
            let mut unknown = Checks::new();
            let ids: Vec<String> = records.iter().map(|r| r.user_id.clone()).collect();
            let members = cohorts::members_among(conn, &session.cohort_id, &ids)?;
            for (i, record) in records.iter().enumerate() {
                if !members.contains(&record.user_id) {
                    let invalid = Invalid::new("not_a_member", "is not a member of this cohort");
                    unknown.fail(&format!("records[{i}].user_id"), invalid);
                }
            }
            unknown.finish()?;
            for record in &records {
                store::record_attendance(conn, &session.id, &record.user_id, record.status, caller.user_id(), now)?;
            }
            session_event("session.attendance_recorded", caller, session).record(conn, now)
        },
    )
    .await
}

/// Write the notes (Markdown) and action items (facilitators and organizers, or whoever is on duty
/// in the session, e.g. the note-taker); `publish` shares them with the members.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("session_id" = String, Path, format = Uuid)),
    request_body = NotesRequest,
    responses((status = 200, body = Session), (status = 404, response = NotFound))
)]
#[put("/sessions/{session_id}/notes")]
pub async fn write_notes(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<NotesRequest>,
) -> ApiResult<web::Json<Session>> {
    let body = body.0;
    let mut checks = Checks::new();
    let notes = checks.optional("notes", body.notes, validation::markdown_up_to(20_000));
    if let Some(items) = &body.action_items {
        for (i, item) in items.iter().enumerate() {
            if let Err(invalid) = validation::nonblank_text_up_to(500)(item.text.clone()) {
                checks.fail(&format!("action_items[{i}].text"), invalid);
            }
        }
    }
    checks.finish()?;
    update_session(
        &state,
        caller,
        path.into_inner(),
        Action::KeepSessionRecord,
        move |conn, caller, access, session, now| {
            let on_duty = crate::rota::store::holds_duty(conn, &session.id, caller.user_id())?;
            access::on_duty_or_facilitator(access, on_duty)?;
            if let Some(notes) = notes {
                session.notes = notes;
            }
            if let Some(items) = &body.action_items {
                store::replace_action_items(conn, &session.id, items, now)?;
            }
            if body.publish == Some(true) && session.notes_published_at.is_none() {
                session.notes_published_at = Some(now.naive_utc());
                session_event("session.notes_published", caller, session).record(conn, now)?;
            }
            Ok(())
        },
    )
    .await
}

/// Your next sessions across all your cohorts, with your RSVP and your duties: the phone's home
/// screen in one request (two queries).
#[utoipa::path(
    tag = "me",
    security(("bearer" = []), ("personal_token" = ["sessions:read"])),
    params(PageParams),
    responses((status = 200, body = inline(Page<Session>)))
)]
#[get("/me/sessions")]
pub async fn my_sessions(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<Session>>> {
    access::authorize_own(&caller, access::OwnAction::ListMySessions)?;
    let page = query.into_inner().validate()?;
    let (user_id, now) = (caller.user.id, state.now().naive_utc());
    let result = state
        .db
        .read(move |conn| {
            let rows = store::my_sessions(conn, &user_id, now, &page)?;
            let mut result = Page::from_rows(
                rows,
                &page,
                |(row, _, _, _)| Cursor { created_at: row.starts_at, id: row.id.clone() },
                |(row, zone, response, note)| {
                    let tz: Tz = zone.parse().unwrap_or(chrono_tz::UTC);
                    let my = response
                        .map(|r| MyRsvp { response: RsvpResponse::from_stored(&r), note: note.unwrap_or_default() });
                    Session::new(row, tz, my)
                },
            );
            result.items = with_duties(conn, result.items, &user_id)?;
            Ok(result)
        })
        .await?;
    Ok(web::Json(result))
}

/// The phases new sessions of this cohort start with.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:read"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Vec<AgendaItem>), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/agenda-template")]
pub async fn get_template(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<web::Json<Vec<AgendaItem>>> {
    let cohort_id = path.into_inner();
    let template = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadSessions)?;
            Ok(materialize::template(cohorts::agenda_template(conn, &cohort_id)?.as_deref()))
        })
        .await?;
    Ok(web::Json(template))
}

/// Replace the agenda template (facilitators and organizers); sessions created from now on use
/// it, shrunk to fit when they are shorter.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = AgendaRequest,
    responses((status = 200, body = Vec<AgendaItem>), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[put("/cohorts/{cohort_id}/agenda-template")]
pub async fn set_template(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<AgendaRequest>,
) -> ApiResult<web::Json<Vec<AgendaItem>>> {
    let mut checks = Checks::new();
    let raw = checks.require("items", body.0.items, |items: Vec<AgendaItem>| Ok(items));
    let items = agenda_items(raw, &mut checks);
    checks.finish()?;
    let (cohort_id, now) = (path.into_inner(), state.now());
    let template = state
        .db
        .write(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::RunSessions)?;
            check_fits(&items, 24 * 60)?;
            let stored = serde_json::to_string(&items).map_err(|e| ApiError::Internal(e.into()))?;
            cohorts::set_agenda_template(conn, &cohort_id, &stored)?;
            NewEvent::new("cohort.agenda_template_changed", "cohort", &cohort_id)
                .by(caller.user_id())
                .in_cohort(&cohort_id)
                .record(conn, now)?;
            Ok(items)
        })
        .await?;
    Ok(web::Json(template))
}
