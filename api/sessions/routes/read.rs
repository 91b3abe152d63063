//! `GET /sessions/{session_id}`.

use super::*;

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
    path: web::Path<SessionId>,
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
