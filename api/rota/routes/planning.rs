//! The rota and planning it: `/api/v1/cohorts/{cohort_id}/rota` and `.../rota/plan`.

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};

use super::zone;
use crate::auth::Caller;
use crate::cohorts::access::{self, Access, Action};
use crate::cohorts::store as cohorts;
use crate::db::{AnyConnection, CohortId, SessionId};
use crate::error::ApiResult;
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams, PageRequest};
use crate::rota::engine::{self, DEFAULT_WEEKS};
use crate::rota::model::{Duty, PlanRequest, PlanResult, RotaSession};
use crate::rota::store;
use crate::sessions::store as sessions;
use crate::state::AppState;
use crate::validation::{self, Checks};

/// Upcoming sessions with their duties, in time order.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:read"])),
    params(("cohort_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<RotaSession>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/rota")]
pub async fn rota(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<RotaSession>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, request, now) = (path.into_inner(), page.clone(), state.now());
    let result = state
        .db
        .read(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::ReadRota)?;
            rota_page(conn, &access, &request, now)
        })
        .await?;
    Ok(web::Json(result))
}

fn rota_page(
    conn: &mut AnyConnection,
    access: &Access,
    page: &PageRequest,
    now: DateTime<Utc>,
) -> ApiResult<Page<RotaSession>> {
    let filter = crate::sessions::model::SessionFilter { from: Some(now), to: None };
    let rows = sessions::list(conn, &access.cohort.id, &filter, page)?;
    let ids: Vec<SessionId> = rows.iter().map(|s| s.id.clone()).collect();
    let duties: Vec<Duty> = store::duties_in_sessions(conn, &ids)?.into_iter().map(Duty::from_row).collect();
    let tz = zone(access);
    Ok(Page::from_rows(
        rows,
        page,
        |s| Cursor { created_at: s.starts_at, id: s.id.to_string() },
        |s| RotaSession {
            duties: duties.iter().filter(|d| d.session_id == s.id).cloned().collect(),
            local_start: s.starts_at.and_utc().with_timezone(&tz).to_rfc3339(),
            starts_at: s.starts_at.and_utc(),
            title: s.title,
            session_id: s.id,
        },
    ))
}

/// Plan the duties of the coming weeks (facilitators and organizers). Past, locked and confirmed
/// duties stay; the rest is planned afresh, the same inputs giving the same plan. `notes` say
/// where a rule had to give way; a duty nobody could take is a gap; a window with no session in
/// it gives one `no_sessions` note. The window is remembered: re-plans that happen by themselves
/// later (an absence, an RSVP "no", a member or session change) cover it, and no more.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = PlanRequest,
    responses((status = 200, body = PlanResult), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/rota/plan")]
pub async fn plan(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<PlanRequest>,
) -> ApiResult<web::Json<PlanResult>> {
    let mut checks = Checks::new();
    let weeks =
        checks.optional("weeks", body.0.weeks, |w: i64| validation::number_in(1..=26)(w)).unwrap_or(DEFAULT_WEEKS);
    checks.finish()?;
    let (cohort_id, now) = (path.into_inner(), state.now());
    let result = state
        .db
        .write(move |conn| {
            cohorts::lock_cohort(conn, &cohort_id)?;
            let access = access::authorize(conn, &caller, &cohort_id, Action::RunRota)?;
            engine::plan_weeks(conn, &cohort_id, zone(&access), weeks, now)
        })
        .await?;
    Ok(web::Json(result))
}
