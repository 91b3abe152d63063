//! `GET /me/sessions`: the phone's home screen.

use super::*;

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
    query: crate::http::Query<PageParams>,
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
                |(row, _, _, _)| Cursor { created_at: row.starts_at, id: row.id.to_string() },
                |(row, zone, response, note)| {
                    let my = response.map(|response| MyRsvp { response, note: note.unwrap_or_default() });
                    Session::new(row, zone.tz(), my)
                },
            );
            result.items = with_duties(conn, result.items, &user_id)?;
            Ok(result)
        })
        .await?;
    Ok(web::Json(result))
}
