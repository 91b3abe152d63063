//! `PUT /sessions/{session_id}/agenda`.

use super::*;

/// Replace a session's agenda (facilitators and organizers): phases and items in order, each with
/// a time box; together they must fit the session (422 naming the box that does not). The boxes
/// of its approved skill shares stay (in any order, which reorders them; 422 on `items` when one
/// is missing): a skill share leaves the agenda by being moved or withdrawn.
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
    path: web::Path<SessionId>,
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
            crate::skillshares::routes::check_agenda_keeps_slots(conn, session.id.as_str(), &items)?;
            session.agenda = serde_json::to_string(&items).map_err(|e| ApiError::Internal(e.into()))?;
            session_event(ev::SessionAgendaChanged {}, caller, session).record(conn, now)
        },
    )
    .await
}
