//! Swaps and cover: `/api/v1/assignments/{id}/swap-requests`, `/api/v1/swap-requests/{id}/accept|decline`,
//! and a cohort's list. Accepting moves both duties in one transaction; of two peers accepting
//! the same request at once, exactly one wins. An unanswered request expires and the duty stays.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::model::{NewSwapRequest, SwapFilter, SwapKind, SwapRequest, SwapRow, SwapState};
use super::store;
use crate::auth::Caller;
use crate::cohorts::access::{self, Action};
use crate::db::AnyConnection;
use crate::error::{ApiError, ApiResult};
use crate::events::NewEvent;
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::sessions::store as sessions;
use crate::state::AppState;
use crate::validation::{Checks, Invalid};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(ask).service(accept).service(decline).service(list);
}

/// How long an ask stays open at most; it also closes when the session starts.
const OPEN_HOURS: i64 = 72;

fn session_start(conn: &mut AnyConnection, session_id: &str) -> ApiResult<DateTime<Utc>> {
    Ok(sessions::find_session(conn, session_id)?.ok_or(ApiError::NotFound)?.starts_at.and_utc())
}

fn swap_event<'a>(kind: &'a str, caller: &'a Caller, swap: &'a SwapRow) -> NewEvent<'a> {
    NewEvent::new(kind, "swap_request", &swap.id).by(caller.user_id()).in_cohort(&swap.cohort_id)
}

/// Ask a named peer to swap duties with you (`swap`, with the peer's `peer_assignment_id`), or
/// ask a peer — or, without `peer_id`, anyone — to cover your duty (`cover`).
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("assignment_id" = String, Path, format = Uuid)),
    request_body = NewSwapRequest,
    responses((status = 201, body = SwapRequest), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/assignments/{assignment_id}/swap-requests")]
pub async fn ask(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<NewSwapRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut checks = Checks::new();
    let kind = checks.require("kind", body.kind, |k| Ok(Some(k)));
    if kind == Some(SwapKind::Swap) && body.peer_assignment_id.is_none() {
        checks.fail("peer_assignment_id", Invalid::new("required", "name the peer's duty to swap with"));
    }
    checks.finish()?;
    let Some(kind) = kind else { return Err(ApiError::invalid("kind", "required", "is required")) };
    let (assignment_id, now) = (path.into_inner(), state.now());
    let request = state
        .db
        .write(move |conn| {
            let row = store::find_assignment(conn, &assignment_id)?.ok_or(ApiError::NotFound)?;
            access::authorize(conn, &caller, &row.cohort_id, Action::ActOnDuty)?;
            if row.user_id.as_deref() != Some(caller.user_id()) {
                return Err(ApiError::Forbidden {
                    code: "not_your_duty",
                    detail: "Only the member on duty asks for a swap or cover.".to_string(),
                });
            }
            let starts_at = session_start(conn, &row.session_id)?;
            crate::sessions::series_routes::started(starts_at, now)?;
            let mut peer = body.peer_id.clone();
            if let Some(other_id) = &body.peer_assignment_id {
                let other = store::find_assignment(conn, other_id)?
                    .filter(|o| o.cohort_id == row.cohort_id && o.user_id.is_some() && o.id != row.id)
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "peer_assignment_id",
                            "not_found",
                            "is not another member's duty in this cohort",
                        )
                    })?;
                crate::sessions::series_routes::started(session_start(conn, &other.session_id)?, now)?;
                peer = other.user_id;
            }
            let expires_at = starts_at.min(now + Duration::hours(OPEN_HOURS));
            let kind_text = kind.as_str();
            let values = (
                row.cohort_id.as_str(),
                row.id.as_str(),
                kind_text,
                caller.user_id(),
                peer.as_deref(),
                body.peer_assignment_id.as_deref(),
                expires_at.naive_utc(),
                now.naive_utc(),
            );
            let id = store::insert_swap(conn, values)?;
            let swap = store::find_swap(conn, &id)?.ok_or(ApiError::NotFound)?;
            let event = if kind == SwapKind::Swap { "swap.asked" } else { "cover.needed" };
            swap_event(event, &caller, &swap).with(json!({ "peer_id": swap.peer_id })).record(conn, now)?;
            Ok(SwapRequest::new(swap, now))
        })
        .await?;
    Ok(HttpResponse::Created().json(request))
}

/// An open request the caller may answer.
fn answerable(conn: &mut AnyConnection, caller: &Caller, id: &str, now: DateTime<Utc>) -> ApiResult<SwapRow> {
    let swap = store::find_swap(conn, id)?.ok_or(ApiError::NotFound)?;
    access::authorize(conn, caller, &swap.cohort_id, Action::ActOnDuty)?;
    let asked = match &swap.peer_id {
        Some(peer) => peer == caller.user_id(),
        None => swap.requester_id != caller.user_id(),
    };
    if !asked {
        return Err(ApiError::Forbidden { code: "not_asked", detail: "This request was not made of you.".to_string() });
    }
    match swap.state(now) {
        SwapState::Open => Ok(swap),
        SwapState::Expired => {
            Err(ApiError::conflict("request_expired", "Nobody answered in time; the duty stayed where it was."))
        }
        _ => Err(ApiError::conflict("request_closed", "This request has been answered already.")),
    }
}

/// Accept a swap or cover: both duties change at once, and are locked.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("swap_request_id" = String, Path, format = Uuid)),
    responses((status = 200, body = SwapRequest), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/swap-requests/{swap_request_id}/accept")]
pub async fn accept(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<web::Json<SwapRequest>> {
    let (id, now) = (path.into_inner(), state.now());
    let request = state
        .db
        .write(move |conn| {
            let swap = answerable(conn, &caller, &id, now)?;
            let mut mine = store::find_assignment(conn, &swap.assignment_id)?.ok_or(ApiError::NotFound)?;
            if mine.user_id.as_deref() != Some(swap.requester_id.as_str()) {
                return Err(ApiError::conflict("request_closed", "The duty has changed hands since the request."));
            }
            let duties = store::assignments_between(conn, &swap.cohort_id, store::beginning(), store::end_of_time())?;
            let on_duty = |user: &str, session: &str, except: Option<&String>| {
                duties.iter().any(|(a, _)| {
                    a.session_id == session && a.user_id.as_deref() == Some(user) && Some(&a.id) != except
                })
            };
            // Nobody ends up with two duties in one session.
            let mut busy = on_duty(caller.user_id(), &mine.session_id, swap.peer_assignment_id.as_ref());
            if let Some(other_id) = &swap.peer_assignment_id {
                let other_session = duties
                    .iter()
                    .find(|(a, _)| &a.id == other_id)
                    .map(|(a, _)| a.session_id.clone())
                    .unwrap_or_default();
                busy |= on_duty(&swap.requester_id, &other_session, Some(&mine.id));
            }
            if busy {
                return Err(ApiError::conflict("already_on_duty", "You already hold a duty in that session."));
            }
            // Only one answer wins, however many arrive at once.
            if !store::decide_swap(conn, &swap.id, "accepted", caller.user_id(), now)? {
                return Err(ApiError::conflict("request_closed", "This request has been answered already."));
            }
            if let Some(other_id) = &swap.peer_assignment_id {
                let mut theirs = store::find_assignment(conn, other_id)?.ok_or(ApiError::NotFound)?;
                theirs.user_id = Some(swap.requester_id.clone());
                theirs.locked = true;
                theirs.confirmed_at = Some(now.naive_utc());
                theirs.updated_at = now.naive_utc();
                store::save_assignment(conn, &theirs)?;
            }
            mine.user_id = Some(caller.user_id().to_string());
            mine.locked = true;
            mine.confirmed_at = Some(now.naive_utc());
            mine.updated_at = now.naive_utc();
            store::save_assignment(conn, &mine)?;
            let decided = store::find_swap(conn, &swap.id)?.ok_or(ApiError::NotFound)?;
            swap_event("swap.accepted", &caller, &decided).record(conn, now)?;
            Ok(SwapRequest::new(decided, now))
        })
        .await?;
    Ok(web::Json(request))
}

/// Decline a request made of you by name; the duty stays where it was.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("swap_request_id" = String, Path, format = Uuid)),
    responses((status = 200, body = SwapRequest), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/swap-requests/{swap_request_id}/decline")]
pub async fn decline(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<web::Json<SwapRequest>> {
    let (id, now) = (path.into_inner(), state.now());
    let request = state
        .db
        .write(move |conn| {
            let swap = answerable(conn, &caller, &id, now)?;
            if swap.peer_id.is_none() {
                return Err(ApiError::conflict(
                    "open_to_anyone",
                    "A request to anyone is not declined; it stays open until someone covers or it expires.",
                ));
            }
            if !store::decide_swap(conn, &swap.id, "declined", caller.user_id(), now)? {
                return Err(ApiError::conflict("request_closed", "This request has been answered already."));
            }
            let decided = store::find_swap(conn, &swap.id)?.ok_or(ApiError::NotFound)?;
            swap_event("swap.declined", &caller, &decided).record(conn, now)?;
            Ok(SwapRequest::new(decided, now))
        })
        .await?;
    Ok(web::Json(request))
}

/// A cohort's swap and cover requests, oldest first; filter by `state` (e.g. `open`).
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:read"])),
    params(("cohort_id" = String, Path, format = Uuid), SwapFilter, PageParams),
    responses((status = 200, body = inline(Page<SwapRequest>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/swap-requests")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    filter: web::Query<SwapFilter>,
    query: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<SwapRequest>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, wanted, request, now) = (path.into_inner(), filter.state, page.clone(), state.now());
    let rows = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadRota)?;
            store::list_swaps(conn, &cohort_id, &request)
        })
        .await?;
    let mut result = Page::from_rows(
        rows,
        &page,
        |r: &SwapRow| Cursor { created_at: r.created_at, id: r.id.clone() },
        |r| SwapRequest::new(r, now),
    );
    if let Some(wanted) = wanted {
        result.items.retain(|r| r.state == wanted);
    }
    Ok(web::Json(result))
}
