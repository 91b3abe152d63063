//! Coaching pairs: `/api/v1/cohorts/{cohort_id}/pairs` and `.../pairs/settings`.

use actix_web::{HttpResponse, get, post, put, web};

use crate::auth::Caller;
use crate::cohorts::access::{self, Action};
use crate::cohorts::store as cohorts;
use crate::db::CohortId;
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::rota::model::PairCycle;
use crate::rota::{cycles, store};
use crate::state::AppState;

/// The coaching pairs of every cycle so far, oldest cycle first, a page of cycles at a time.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:read"])),
    params(("cohort_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<PairCycle>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/pairs")]
pub async fn list_pairs(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<PairCycle>>> {
    let page = query.into_inner().validate()?;
    // Cycles are numbered 1, 2, 3 … per cohort: the cursor names the last cycle returned.
    let after = page.after.as_ref().map_or(Ok(0), |c| c.id.parse::<i32>()).map_err(|_| {
        crate::error::ApiError::invalid("cursor", "invalid_cursor", "is not a cursor returned by this list")
    })?;
    let (cohort_id, request) = (path.into_inner(), page.clone());
    let cycles = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadRota)?;
            let upto = after.saturating_add(i32::try_from(request.fetch_limit()).unwrap_or(i32::MAX));
            store::pair_cycles(conn, &cohort_id, store::Cycles::Between { after, upto })
        })
        .await?;
    let key = |c: &PairCycle| Cursor { created_at: chrono::DateTime::UNIX_EPOCH.naive_utc(), id: c.cycle.to_string() };
    Ok(web::Json(Page::from_rows(cycles, &page, key, |c| c)))
}

/// Start the next coaching cycle (facilitators and organizers): active members are paired as
/// coach and coachee, preferring people not paired recently and alternating who coaches; an odd
/// number gives one trio.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    responses((status = 201, body = PairCycle), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/pairs")]
pub async fn next_pairs(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
) -> ApiResult<HttpResponse> {
    let (cohort_id, now) = (path.into_inner(), state.now());
    let cycle = state
        .db
        .write(move |conn| {
            cohorts::lock_cohort(conn, &cohort_id)?;
            access::authorize(conn, &caller, &cohort_id, Action::RunRota)?;
            cycles::form_next(conn, &cohort_id, Some(caller.user_id()), now)
        })
        .await?;
    Ok(HttpResponse::Created().json(cycle))
}

/// How coaching cycles start: `every_sessions` N makes a new cycle after every N sessions (null:
/// a facilitator starts each one).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PairSettings {
    /// 1 to 52, or null.
    pub every_sessions: Option<i32>,
}

/// How this cohort's coaching cycles start.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:read"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    responses((status = 200, body = PairSettings), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/pairs/settings")]
pub async fn pair_settings(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
) -> ApiResult<web::Json<PairSettings>> {
    let cohort_id = path.into_inner();
    let every = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadRota)?;
            cycles::every_sessions(conn, &cohort_id)
        })
        .await?;
    Ok(web::Json(PairSettings { every_sessions: every }))
}

/// Make coaching cycles start by themselves every N sessions, or (null) only when a facilitator
/// starts one (facilitators and organizers). The first cycle forms at the next sweep.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = PairSettings,
    responses((status = 200, body = PairSettings), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[put("/cohorts/{cohort_id}/pairs/settings")]
pub async fn set_pair_settings(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<PairSettings>,
) -> ApiResult<web::Json<PairSettings>> {
    let every = body.0.every_sessions;
    if every.is_some_and(|n| !(1..=52).contains(&n)) {
        return Err(ApiError::invalid("every_sessions", "out_of_range", "must be between 1 and 52, or null"));
    }
    let (cohort_id, now) = (path.into_inner(), state.now());
    state
        .db
        .write(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::RunRota)?;
            cycles::set_every_sessions(conn, &cohort_id, every)?;
            NewEvent::new(ev::PairsSettingsChanged {}, &cohort_id)
                .by(caller.user_id())
                .in_cohort(&cohort_id)
                .record(conn, now)
        })
        .await?;
    Ok(web::Json(PairSettings { every_sessions: every }))
}
