//! `PATCH /sessions/{session_id}`: move, cancel, reinstate, rename.

use super::*;

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
