//! `GET /cohorts/{cohort_id}/sessions`.

use super::*;
use crate::db::CohortId;

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
    path: web::Path<CohortId>,
    filter: crate::http::Query<SessionFilter>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<Session>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, filter) = (path.into_inner(), filter.into_inner());
    let mut checks = Checks::new();
    checks.optional("from", filter.from, instant_in_range);
    checks.optional("to", filter.to, instant_in_range);
    checks.finish()?;
    let result = state
        .db
        .read(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::ReadSessions)?;
            let rows = store::list(conn, &cohort_id, &filter, &page)?;
            let ids: Vec<SessionId> = rows.iter().map(|r| r.id.clone()).collect();
            let mut mine = store::my_rsvps(conn, &ids, caller.user_id())?;
            let tz = zone(&access);
            let mut result = Page::from_rows(
                rows,
                &page,
                |row: &SessionRow| Cursor { created_at: row.starts_at, id: row.id.to_string() },
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
