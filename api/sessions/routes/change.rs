//! `PATCH /sessions/{session_id}`: move, cancel, reinstate, rename.

use super::*;

/// Move, cancel (with a reason), reinstate or rename one session (facilitators and organizers).
/// Everything that hangs on the session follows it; sessions that have started do not change
/// (409 `session_started`). A move gives `starts_at` or `local_start` (cohort-local), not both,
/// and only into the future (422 `in_the_past` on that field); a shorter session's agenda
/// shrinks in proportion to fit.
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
    path: web::Path<SessionId>,
    body: JsonBody<SessionChange>,
) -> ApiResult<web::Json<Session>> {
    let body = body.0;
    let mut checks = Checks::new();
    let minutes = checks.optional("duration_minutes", body.duration_minutes, duration);
    let starts_at = checks.optional("starts_at", body.starts_at, instant_in_range);
    let local = checks.optional("local_start", body.local_start, |raw: String| local_start(raw).map(Some)).flatten();
    if local.is_some() && starts_at.is_some() {
        checks.fail("local_start", Invalid::new("conflict", "give local_start or starts_at, not both"));
    }
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
    update_session(&state, caller, path.into_inner(), Action::RunSessions, move |conn, caller, access, session, now| {
        started(session.starts_at.and_utc(), now)?;
        let mut kinds = Vec::new();
        if starts_at.is_some() || local.is_some() || minutes.is_some() {
            let (start, field) = match (starts_at, local) {
                (Some(t), _) => (t.naive_utc(), "starts_at"),
                (None, Some(l)) => (recurrence::instant(l, zone(access)).naive_utc(), "local_start"),
                (None, None) => (session.starts_at, "starts_at"),
            };
            if start <= now.naive_utc() {
                return Err(ApiError::invalid(field, "in_the_past", "must be in the future"));
            }
            let length = minutes.map_or(session.ends_at - session.starts_at, |m| Duration::minutes(i64::from(m)));
            session.starts_at = start;
            session.ends_at = start + length;
            // The one rule wherever a session's length changes: the agenda shrinks to fit.
            let agenda = agenda::refit(&session.agenda(), session.duration_minutes());
            session.agenda = serde_json::to_string(&agenda).map_err(|e| ApiError::Internal(e.into()))?;
            if session.status() != SessionStatus::Cancelled {
                session.status = SessionStatus::Moved;
            }
            kinds.push(EventPayload::from(ev::SessionMoved {}));
        }
        match body.status {
            Some(SessionStatus::Cancelled) => {
                session.status = SessionStatus::Cancelled;
                session.cancel_reason = reason.clone();
                kinds.push(ev::SessionCancelled {}.into());
            }
            Some(SessionStatus::Scheduled) if session.status() == SessionStatus::Cancelled => {
                let moved =
                    session.occurrence_key.is_none() || kinds.iter().any(|k| k.kind() == EventKind::SessionMoved);
                session.status = if moved { SessionStatus::Moved } else { SessionStatus::Scheduled };
                session.cancel_reason = None;
                kinds.push(ev::SessionReinstated {}.into());
            }
            _ => {}
        }
        if let Some(title) = title.clone() {
            session.title = title;
        }
        if let Some(location) = location.clone() {
            session.location = location;
        }
        if !kinds.is_empty() {
            // Saved first, so the re-plan (a reactor, run once for all of them) sees the
            // session as it now is.
            store::save_session(conn, session)?;
            let events = kinds.into_iter().map(|kind| session_event(kind, caller, session)).collect();
            events::record_all(conn, events, now)?;
        }
        Ok(())
    })
    .await
}
