//! `/api/v1/cohorts/{cohort_id}/charter`: the current charter, members' acceptance of it, and
//! reviews that keep it as it is.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};

use super::model::{AcceptRequest, Acceptances, AcceptedBy, Charter, MyAcceptance, NewReview, PendingFrom, Review};
use super::review::{is_due, next_review_after};
use super::routes::version_view;
use super::store;
use crate::auth::Caller;
use crate::cohorts::access::{self, Access, Action};
use crate::cohorts::model::MemberState;
use crate::cohorts::store as cohorts;
use crate::db::{AnyConnection, CohortId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::people::Person;
use crate::state::AppState;
use crate::validation::{self, Checks};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_charter).service(list_acceptances).service(accept).service(review);
}

/// The charter as the caller sees it: current version, their acceptance, the review date.
fn charter_view(conn: &mut AnyConnection, access: &Access, user_id: &UserId, now: DateTime<Utc>) -> ApiResult<Charter> {
    let Some(current) = store::current(conn, &access.cohort.id)? else {
        return Ok(Charter {
            version: None,
            my_acceptance: None,
            owes_acceptance: false,
            review_due: false,
            review: None,
        });
    };
    let accepted_at = store::acceptance(conn, &current.id, user_id)?;
    let last_review = store::last_review(conn, &current.id)?.map(|t| t.and_utc());
    let tz = access.cohort.time_zone.tz();
    let adopted_at = current.adopted_at.map_or(now, |t| t.and_utc());
    let next_review_on = next_review_after(adopted_at, last_review, tz, current.cadence());
    Ok(Charter {
        owes_acceptance: accepted_at.is_none() && access.membership.state() == MemberState::Active,
        my_acceptance: accepted_at.map(|t| MyAcceptance { accepted_at: t.and_utc() }),
        review_due: is_due(next_review_on, now, tz),
        review: Some(Review { next_review_on, last_reviewed_at: last_review }),
        version: Some(version_view(conn, current, user_id)?),
    })
}

/// The cohort's current charter, whether you still owe your acceptance, and when it is next due
/// for review (`review_due`: the next session should hold a charter check).
#[utoipa::path(
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:read"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Charter), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/charter")]
pub async fn get_charter(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
) -> ApiResult<web::Json<Charter>> {
    let (cohort_id, now) = (path.into_inner(), state.now());
    let charter = state
        .db
        .read(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::ReadCharter)?;
            charter_view(conn, &access, caller.user_id(), now)
        })
        .await?;
    Ok(web::Json(charter))
}

/// Who among the active members has accepted the current version, and who has not
/// (facilitators and organizers).
#[utoipa::path(
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:read"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Acceptances), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/charter/acceptances")]
pub async fn list_acceptances(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
) -> ApiResult<web::Json<Acceptances>> {
    let cohort_id = path.into_inner();
    let report = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadAcceptances)?;
            let Some(current) = store::current(conn, &cohort_id)? else {
                return Ok(Acceptances {
                    version_id: None,
                    accepted: vec![],
                    pending: vec![],
                    accepted_count: 0,
                    pending_count: 0,
                });
            };
            let (mut accepted, mut pending) = (Vec::new(), Vec::new());
            for (user_id, display_name, at) in store::acceptance_report(conn, &cohort_id, &current.id)? {
                match at {
                    Some(at) => accepted.push(AcceptedBy {
                        user: Person::new(user_id.clone(), display_name.clone()),
                        user_id,
                        display_name,
                        accepted_at: at.and_utc(),
                    }),
                    None => pending.push(PendingFrom {
                        user: Person::new(user_id.clone(), display_name.clone()),
                        user_id,
                        display_name,
                    }),
                }
            }
            Ok(Acceptances {
                version_id: Some(current.id),
                accepted_count: accepted.len(),
                pending_count: pending.len(),
                accepted,
                pending,
            })
        })
        .await?;
    Ok(web::Json(report))
}

/// Accept the current charter version. Accepting it again changes nothing (200); accepting any
/// other version is refused (409 `not_current_version`).
#[utoipa::path(
    operation_id = "accept_charter",
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = AcceptRequest,
    responses(
        (status = 201, description = "Accepted", body = Charter),
        (status = 200, description = "Already accepted", body = Charter),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
#[post("/cohorts/{cohort_id}/charter/acceptances")]
pub async fn accept(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<AcceptRequest>,
) -> ApiResult<HttpResponse> {
    let mut checks = Checks::new();
    let version_id = checks.require("version_id", body.0.version_id, |id: String| Ok(id));
    checks.finish()?;
    let (cohort_id, now) = (path.into_inner(), state.now());
    let (created, charter) =
        state.db.write(move |conn| accept_version(conn, &caller, &cohort_id, &version_id, now)).await?;
    Ok(if created { HttpResponse::Created().json(charter) } else { HttpResponse::Ok().json(charter) })
}

/// The caller accepts version `version_id`, which must be the cohort's current one; `true` when
/// this made the acceptance, `false` when it was there already (the JSON route and the link in
/// mail).
pub(crate) fn accept_version(
    conn: &mut AnyConnection,
    caller: &Caller,
    cohort_id: &CohortId,
    version_id: &str,
    now: DateTime<Utc>,
) -> ApiResult<(bool, Charter)> {
    cohorts::lock_cohort(conn, cohort_id)?;
    let access = access::authorize(conn, caller, cohort_id, Action::AcceptCharter)?;
    let current = store::current(conn, cohort_id)?
        .ok_or_else(|| ApiError::conflict("no_charter", "This cohort has not adopted a charter yet."))?;
    if current.id != version_id {
        return Err(ApiError::conflict(
            "not_current_version",
            "Only the current version can be accepted; read it with GET .../charter.",
        ));
    }
    let created = store::acceptance(conn, &current.id, caller.user_id())?.is_none();
    if created {
        store::accept(conn, &current.id, caller.user_id(), now)?;
        NewEvent::by_in_cohort(ev::CharterAccepted {}, caller.user_id(), cohort_id, &current.id).record(conn, now)?;
    }
    Ok((created, charter_view(conn, &access, caller.user_id(), now)?))
}

/// Record a review that keeps the charter as it is (facilitators and organizers); the next
/// review date counts from now.
#[utoipa::path(
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = NewReview,
    responses((status = 201, body = Charter), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/charter/reviews")]
pub async fn review(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<NewReview>,
) -> ApiResult<HttpResponse> {
    let mut checks = Checks::new();
    let note = checks.optional("note", body.0.note, validation::text_up_to(2000)).unwrap_or_default();
    checks.finish()?;
    let (cohort_id, now) = (path.into_inner(), state.now());
    let charter = state
        .db
        .write(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::ReviewCharter)?;
            let current = store::current(conn, &cohort_id)?
                .ok_or_else(|| ApiError::conflict("no_charter", "This cohort has not adopted a charter yet."))?;
            store::insert_review(conn, &cohort_id, &current.id, caller.user_id(), &note, now)?;
            NewEvent::by_in_cohort(ev::CharterReviewed {}, caller.user_id(), &cohort_id, &current.id)
                .record(conn, now)?;
            charter_view(conn, &access, caller.user_id(), now)
        })
        .await?;
    Ok(HttpResponse::Created().json(charter))
}
