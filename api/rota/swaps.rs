//! Swaps and cover: `/api/v1/assignments/{id}/swap-requests`,
//! `/api/v1/swap-requests/{id}/accept|decline|withdraw`, and a cohort's list. Every transaction
//! here takes the cohort row lock first (the order every rota write uses), then decides on the
//! duties as they are: accepting moves both duties at once, only while both are still held by the
//! two people who agreed; of two peers accepting the same request at once, exactly one wins; a duty
//! has at most one open cover request. An unanswered request expires and the duty stays.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::model::{AssignmentRow, NewSwapRequest, SwapFilter, SwapKind, SwapRequest, SwapRow, SwapState};
use super::store;
use crate::auth::Caller;
use crate::cohorts::access::{self, Access, Action};
use crate::cohorts::model::MemberState;
use crate::cohorts::store as cohorts;
use crate::db::{AnyConnection, CohortId, SessionId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::events::{EventPayload, NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::sessions::store as sessions;
use crate::state::AppState;
use crate::validation::{Checks, Invalid};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(ask).service(accept).service(decline).service(withdraw).service(list);
}

/// How long an ask stays open at most; it also closes when the session starts.
const OPEN_HOURS: i64 = 72;

fn session_start(conn: &mut AnyConnection, session_id: &SessionId) -> ApiResult<DateTime<Utc>> {
    Ok(sessions::find_session(conn, session_id)?.ok_or(ApiError::NotFound)?.starts_at.and_utc())
}

fn swap_event<'a>(payload: impl Into<EventPayload>, caller: &'a Caller, swap: &'a SwapRow) -> NewEvent<'a> {
    NewEvent::new(payload, &swap.id).by(caller.user_id()).in_cohort(&swap.cohort_id)
}

fn zone(access: &Access) -> Tz {
    access.cohort.time_zone.tz()
}

/// The request as answered: with its session, role and people (one joined query).
fn view(conn: &mut AnyConnection, access: &Access, id: &str, now: DateTime<Utc>) -> ApiResult<SwapRequest> {
    Ok(SwapRequest::new(store::swap_view(conn, &access.cohort.id, id)?, zone(access), now))
}

/// Whether the member said they cannot make the session of this duty.
fn away_from(conn: &mut AnyConnection, access: &Access, user_id: &UserId, session_id: &SessionId) -> ApiResult<bool> {
    let starts_at = session_start(conn, session_id)?;
    let local_date = starts_at.with_timezone(&zone(access)).date_naive();
    store::is_absent(conn, &access.cohort.id, user_id, session_id, local_date)
}

fn absent_from_session() -> ApiError {
    ApiError::conflict("absent_from_session", "You said you cannot make that session, so you cannot take a duty in it.")
}

/// Takes the cohort row lock of the duty's cohort, then reads the duty as it is.
fn locked_assignment(conn: &mut AnyConnection, id: &str) -> ApiResult<AssignmentRow> {
    let cohort_id = store::find_assignment(conn, id)?.ok_or(ApiError::NotFound)?.cohort_id;
    cohorts::lock_cohort(conn, &cohort_id)?;
    store::find_assignment(conn, id)?.ok_or(ApiError::NotFound)
}

/// Ask a named peer to swap duties with you (`swap`, with the peer's `peer_assignment_id`), or
/// ask a peer — or, without `peer_id`, anyone — to cover your duty (`cover`). A peer named must be
/// an active member of the cohort who has not said they cannot make that session (422 naming
/// `peer_id`). A duty has at most one open cover request (409 `cover_already_requested`; withdraw
/// it first).
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
    let request = state.db.write(move |conn| ask_for(conn, &caller, &assignment_id, kind, &body, now)).await?;
    Ok(HttpResponse::Created().json(request))
}

/// Asks for a swap or cover of the caller's duty `assignment_id` (the JSON route and the "can't
/// make it" link in mail).
pub(crate) fn ask_for(
    conn: &mut AnyConnection,
    caller: &Caller,
    assignment_id: &str,
    kind: SwapKind,
    body: &NewSwapRequest,
    now: DateTime<Utc>,
) -> ApiResult<SwapRequest> {
    let row = locked_assignment(conn, assignment_id)?;
    let access = access::authorize(conn, caller, &row.cohort_id, Action::ActOnDuty)?;
    if row.user_id.as_ref() != Some(caller.user_id()) {
        return Err(ApiError::Forbidden {
            code: "not_your_duty",
            detail: "Only the member on duty asks for a swap or cover.".to_string(),
        });
    }
    let starts_at = session_start(conn, &row.session_id)?;
    crate::sessions::started(starts_at, now)?;
    let mut peer = body.peer_id.clone();
    if let Some(peer_id) = &body.peer_id {
        let active =
            cohorts::membership(conn, &row.cohort_id, peer_id)?.is_some_and(|m| m.state() == MemberState::Active);
        if !active || peer_id == caller.user_id() {
            return Err(ApiError::invalid(
                "peer_id",
                "not_an_active_member",
                "is not another active member of this cohort",
            ));
        }
        if kind == SwapKind::Cover && away_from(conn, &access, peer_id, &row.session_id)? {
            return Err(ApiError::invalid("peer_id", "absent", "has said they cannot make this session"));
        }
    }
    if let Some(other_id) = &body.peer_assignment_id {
        let other = store::find_assignment(conn, other_id)?
            .filter(|o| o.cohort_id == row.cohort_id && o.user_id.is_some() && o.id != row.id)
            .ok_or_else(|| {
                ApiError::invalid("peer_assignment_id", "not_found", "is not another member's duty in this cohort")
            })?;
        if body.peer_id.as_ref().is_some_and(|p| Some(p) != other.user_id.as_ref()) {
            return Err(ApiError::invalid("peer_id", "not_the_holder", "does not hold that duty"));
        }
        crate::sessions::started(session_start(conn, &other.session_id)?, now)?;
        peer = other.user_id;
    }
    // Decided under the cohort row lock: a second ask waits for the first to commit and
    // then sees it.
    if kind == SwapKind::Cover && store::open_cover_exists(conn, &row.id, now)? {
        return Err(ApiError::conflict(
            "cover_already_requested",
            "This duty already has an open cover request; withdraw it first.",
        ));
    }
    let expires_at = starts_at.min(now + Duration::hours(OPEN_HOURS));
    let values = (
        &row.cohort_id,
        row.id.as_str(),
        kind.as_str(),
        caller.user_id(),
        peer.as_ref(),
        body.peer_assignment_id.as_deref(),
        expires_at.naive_utc(),
        now.naive_utc(),
    );
    let id = store::insert_swap(conn, values)?;
    let swap = store::find_swap(conn, &id)?.ok_or(ApiError::NotFound)?;
    let peer_id = swap.peer_id.clone().map(String::from);
    let event: EventPayload =
        if kind == SwapKind::Swap { ev::SwapAsked { peer_id }.into() } else { ev::CoverNeeded { peer_id }.into() };
    swap_event(event, caller, &swap).record(conn, now)?;
    view(conn, &access, &id, now)
}

/// Takes the cohort row lock of the request's cohort, then reads the request as it is.
fn locked_swap(conn: &mut AnyConnection, id: &str) -> ApiResult<SwapRow> {
    let cohort_id = store::find_swap(conn, id)?.ok_or(ApiError::NotFound)?.cohort_id;
    cohorts::lock_cohort(conn, &cohort_id)?;
    store::find_swap(conn, id)?.ok_or(ApiError::NotFound)
}

fn still_open(swap: SwapRow, now: DateTime<Utc>) -> ApiResult<SwapRow> {
    match swap.state(now) {
        SwapState::Open => Ok(swap),
        SwapState::Expired => {
            Err(ApiError::conflict("request_expired", "Nobody answered in time; the duty stayed where it was."))
        }
        _ => Err(ApiError::conflict("request_closed", "This request has been answered already.")),
    }
}

/// An open request the caller may answer.
fn answerable(conn: &mut AnyConnection, caller: &Caller, id: &str, now: DateTime<Utc>) -> ApiResult<(Access, SwapRow)> {
    let swap = locked_swap(conn, id)?;
    let access = access::authorize(conn, caller, &swap.cohort_id, Action::ActOnDuty)?;
    let asked = match &swap.peer_id {
        Some(peer) => peer == caller.user_id(),
        None => swap.requester_id != caller.user_id(),
    };
    if !asked {
        return Err(ApiError::Forbidden { code: "not_asked", detail: "This request was not made of you.".to_string() });
    }
    Ok((access, still_open(swap, now)?))
}

fn duty_changed() -> ApiError {
    ApiError::conflict("duty_changed", "A duty in this request has changed hands since it was made.")
}

/// Accept a swap or cover: both duties change at once, and are locked. Refused (409
/// `duty_changed`) when either duty is no longer held by the person who held it when asked, and
/// (409 `absent_from_session`) when the one taking a duty said they cannot make its session.
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
    let request = state.db.write(move |conn| accept_request(conn, &caller, &id, now)).await?;
    Ok(web::Json(request))
}

/// Accepts a swap or cover asked of the caller (the JSON route and links in mail).
pub(crate) fn accept_request(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: &str,
    now: DateTime<Utc>,
) -> ApiResult<SwapRequest> {
    let (access, swap) = answerable(conn, caller, id, now)?;
    let mut mine = store::find_assignment(conn, &swap.assignment_id)?.ok_or(ApiError::NotFound)?;
    if mine.user_id.as_ref() != Some(&swap.requester_id) {
        return Err(duty_changed());
    }
    let mut theirs = match &swap.peer_assignment_id {
        Some(other_id) => {
            let theirs = store::find_assignment(conn, other_id)?.ok_or_else(duty_changed)?;
            if theirs.user_id.as_ref() != Some(caller.user_id()) {
                return Err(duty_changed());
            }
            Some(theirs)
        }
        None => None,
    };
    if away_from(conn, &access, caller.user_id(), &mine.session_id)? {
        return Err(absent_from_session());
    }
    if let Some(theirs) = &theirs
        && away_from(conn, &access, &swap.requester_id, &theirs.session_id)?
    {
        return Err(ApiError::conflict(
            "absent_from_session",
            "The requester said they cannot make the session of your duty.",
        ));
    }
    let duties = store::assignments_between(conn, &swap.cohort_id, store::beginning(), store::end_of_time())?;
    let on_duty = |user: &UserId, session: &SessionId, except: Option<&String>| {
        duties
            .iter()
            .any(|(a, _)| a.session_id == *session && a.user_id.as_ref() == Some(user) && Some(&a.id) != except)
    };
    // Nobody ends up with two duties in one session.
    let mut busy = on_duty(caller.user_id(), &mine.session_id, swap.peer_assignment_id.as_ref());
    if let Some(theirs) = &theirs {
        busy |= on_duty(&swap.requester_id, &theirs.session_id, Some(&mine.id));
    }
    if busy {
        return Err(ApiError::conflict("already_on_duty", "You already hold a duty in that session."));
    }
    // Only one answer wins, however many arrive at once.
    if !store::decide_swap(conn, &swap.id, "accepted", caller.user_id(), now)? {
        return Err(ApiError::conflict("request_closed", "This request has been answered already."));
    }
    if let Some(theirs) = &mut theirs {
        theirs.user_id = Some(swap.requester_id.clone());
        theirs.locked = true;
        theirs.confirmed_at = Some(now.naive_utc());
        theirs.updated_at = now.naive_utc();
        store::save_assignment(conn, theirs)?;
    }
    mine.user_id = Some(caller.user_id().clone());
    mine.locked = true;
    mine.confirmed_at = Some(now.naive_utc());
    mine.updated_at = now.naive_utc();
    store::save_assignment(conn, &mine)?;
    swap_event(ev::SwapAccepted {}, caller, &swap).record(conn, now)?;
    view(conn, &access, &swap.id, now)
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
    let request = state.db.write(move |conn| decline_request(conn, &caller, &id, now)).await?;
    Ok(web::Json(request))
}

/// Declines a request made of the caller by name (the JSON route and links in mail).
pub(crate) fn decline_request(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: &str,
    now: DateTime<Utc>,
) -> ApiResult<SwapRequest> {
    let (access, swap) = answerable(conn, caller, id, now)?;
    if swap.peer_id.is_none() {
        return Err(ApiError::conflict(
            "open_to_anyone",
            "A request to anyone is not declined; it stays open until someone covers or it expires.",
        ));
    }
    if !store::decide_swap(conn, &swap.id, "declined", caller.user_id(), now)? {
        return Err(ApiError::conflict("request_closed", "This request has been answered already."));
    }
    swap_event(ev::SwapDeclined {}, caller, &swap).record(conn, now)?;
    view(conn, &access, &swap.id, now)
}

/// Withdraw your own open request (state `withdrawn`); the duty stays with you. Only the
/// requester may (403 `not_requester`); an answered or expired request is 409.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("swap_request_id" = String, Path, format = Uuid)),
    responses((status = 200, body = SwapRequest), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/swap-requests/{swap_request_id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<web::Json<SwapRequest>> {
    let (id, now) = (path.into_inner(), state.now());
    let request = state
        .db
        .write(move |conn| {
            let swap = locked_swap(conn, &id)?;
            let access = access::authorize(conn, &caller, &swap.cohort_id, Action::ActOnDuty)?;
            if swap.requester_id != caller.user_id() {
                return Err(ApiError::Forbidden {
                    code: "not_requester",
                    detail: "Only the member who asked withdraws a request.".to_string(),
                });
            }
            let swap = still_open(swap, now)?;
            if !store::decide_swap(conn, &swap.id, SwapState::Withdrawn.as_str(), caller.user_id(), now)? {
                return Err(ApiError::conflict("request_closed", "This request has been answered already."));
            }
            swap_event(ev::SwapWithdrawn {}, &caller, &swap).record(conn, now)?;
            view(conn, &access, &swap.id, now)
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
    path: web::Path<CohortId>,
    filter: crate::http::Query<SwapFilter>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<SwapRequest>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, wanted, request, now) = (path.into_inner(), filter.state, page.clone(), state.now());
    let (rows, tz) = state
        .db
        .read(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::ReadRota)?;
            Ok((store::swap_views(conn, &cohort_id, &request, None)?, zone(&access)))
        })
        .await?;
    let mut result = Page::from_rows(
        rows,
        &page,
        |r: &super::model::SwapViewRow| Cursor { created_at: r.0.created_at, id: r.0.id.clone() },
        |r| SwapRequest::new(r, tz, now),
    );
    if let Some(wanted) = wanted {
        result.items.retain(|r| r.state == wanted);
    }
    Ok(web::Json(result))
}
