//! `PUT /sessions/{session_id}/rsvp`: the caller's answer.

use super::*;
use crate::sessions::model::RsvpResponse;

/// Say whether you come: `yes`, `no` (counts as an absence for the rota) or `maybe`, with a note.
/// Answering again replaces the answer. A session that has started is 409 `session_started`, a
/// cancelled one 409 `session_cancelled`.
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
    path: web::Path<SessionId>,
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
    let (session_id, now) = (path.into_inner(), state.now());
    let session = state.db.write(move |conn| answer_rsvp(conn, &caller, &session_id, response, &note, now)).await?;
    Ok(web::Json(session))
}

/// The caller's answer to a session (the JSON route and the RSVP links in mail).
pub(crate) fn answer_rsvp(
    conn: &mut AnyConnection,
    caller: &Caller,
    session_id: &SessionId,
    response: RsvpResponse,
    note: &str,
    now: DateTime<Utc>,
) -> ApiResult<Session> {
    change_in_session(conn, caller, session_id, Action::Rsvp, now, |conn, caller, _access, session, now| {
        started(session.starts_at.and_utc(), now)?;
        not_cancelled(session)?;
        store::set_rsvp(conn, &session.id, caller.user_id(), response, note, now)?;
        // A "no" is an absence: the rota takes back the duty they held there (a reactor).
        session_event(ev::SessionRsvpChanged { response }, caller, session).record(conn, now)?;
        Ok(())
    })
}
