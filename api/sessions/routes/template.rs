//! `GET|PUT /cohorts/{cohort_id}/agenda-template`.

use super::*;
use crate::db::CohortId;

/// The phases new sessions of this cohort start with, in order. A complete list of at most 20
/// items (`agenda::MAX_ITEMS`); `next_cursor` is always null.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:read"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    responses((status = 200, body = inline(Page<AgendaItem>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/agenda-template")]
pub async fn get_template(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
) -> ApiResult<web::Json<Page<AgendaItem>>> {
    let cohort_id = path.into_inner();
    let template = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadSessions)?;
            Ok(materialize::template(cohorts::agenda_template(conn, &cohort_id)?.as_deref()))
        })
        .await?;
    Ok(web::Json(Page::complete(template)))
}

/// Replace the agenda template (facilitators and organizers): at most 20 items whose boxes add up
/// to a day at most. Sessions created from now on use it, shrunk to fit when they are shorter.
/// Answers the template as a complete list (`next_cursor` always null).
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = AgendaRequest,
    responses((status = 200, body = inline(Page<AgendaItem>)), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[put("/cohorts/{cohort_id}/agenda-template")]
pub async fn set_template(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<AgendaRequest>,
) -> ApiResult<web::Json<Page<AgendaItem>>> {
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
            NewEvent::new(ev::CohortAgendaTemplateChanged {}, &cohort_id)
                .by(caller.user_id())
                .in_cohort(&cohort_id)
                .record(conn, now)?;
            Ok(items.clone())
        })
        .await?;
    Ok(web::Json(Page::complete(template)))
}
