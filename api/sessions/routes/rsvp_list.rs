//! `GET /sessions/{session_id}/rsvps`: who answered what.

use super::*;
use crate::sessions::model::RsvpView;

/// Who answered what for one session (facilitators and organizers), each with their name, note
/// and when they last answered, by name. A complete list: one answer per member at most, so the
/// bound is the cohort's size; `next_cursor` is always null.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:read"])),
    params(("session_id" = String, Path, format = Uuid)),
    responses((status = 200, body = inline(Page<RsvpView>)), (status = 404, response = NotFound))
)]
#[get("/sessions/{session_id}/rsvps")]
pub async fn list_rsvps(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SessionId>,
) -> ApiResult<web::Json<Page<RsvpView>>> {
    let session_id = path.into_inner();
    let answers = state
        .db
        .read(move |conn| {
            let (_, session) = session_access(conn, &caller, &session_id, Action::ReadRsvps)?;
            store::rsvps(conn, &session.id)
        })
        .await?;
    Ok(web::Json(Page::complete(answers)))
}
