//! Duty roles: `/api/v1/cohorts/{cohort_id}/roles`.

use actix_web::{HttpResponse, get, patch, post, web};

use crate::auth::Caller;
use crate::cohorts::access::{self, Action};
use crate::cohorts::store as cohorts;
use crate::db::{CohortId, new_id};
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::Page;
use crate::rota::model::{DutyRole, RoleFields, RoleRow};
use crate::rota::plan::MAX_ROLES;
use crate::rota::store;
use crate::state::AppState;
use crate::validation::{self, Checks, Invalid};

/// A cohort's duty roles, in the order duties are filled, retired ones included: a complete set
/// of at most 20 (`next_cursor` is always null).
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:read"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    responses((status = 200, body = inline(Page<DutyRole>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/roles")]
pub async fn list_roles(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
) -> ApiResult<web::Json<Page<DutyRole>>> {
    let cohort_id = path.into_inner();
    let roles = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadRota)?;
            store::roles(conn, &cohort_id, true)
        })
        .await?;
    Ok(web::Json(Page::complete(roles.into_iter().map(DutyRole::from).collect())))
}

fn min_attended(raw: i32) -> Result<i32, Invalid> {
    if (0..=100).contains(&raw) { Ok(raw) } else { Err(Invalid::new("out_of_range", "must be between 0 and 100")) }
}

/// Add a duty role (organizers). A cohort has at most 20 roles, retired ones included (409
/// `too_many_roles` beyond: retire and rename one instead).
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = RoleFields,
    responses((status = 201, body = DutyRole), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/roles")]
pub async fn add_role(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<RoleFields>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut checks = Checks::new();
    let name = checks.require("name", body.name, validation::label);
    let min = checks.optional("min_attended", body.min_attended, min_attended).unwrap_or(0);
    checks.finish()?;
    let (cohort_id, now) = (path.into_inner(), state.now());
    let role = state
        .db
        .write(move |conn| {
            cohorts::lock_cohort(conn, &cohort_id)?;
            access::authorize(conn, &caller, &cohort_id, Action::ManageRoles)?;
            if store::count_roles(conn, &cohort_id)? >= MAX_ROLES as i64 {
                return Err(ApiError::conflict(
                    "too_many_roles",
                    format!("A cohort has at most {MAX_ROLES} roles; retire and rename one instead."),
                ));
            }
            let position = store::roles(conn, &cohort_id, true)?.iter().map(|r| r.position + 1).max().unwrap_or(0);
            let row = RoleRow {
                id: new_id(),
                cohort_id: cohort_id.clone(),
                name: name.clone(),
                position,
                min_attended: min,
                facilitation: body.facilitation.unwrap_or(false),
                retired_at: None,
                created_at: now.naive_utc(),
            };
            store::insert_role(conn, &row)?;
            NewEvent::new(ev::RoleAdded {}, &row.id).by(caller.user_id()).in_cohort(&cohort_id).record(conn, now)?;
            Ok(DutyRole::from(row))
        })
        .await?;
    Ok(HttpResponse::Created().json(role))
}

/// Rename a role, change its experience requirement, or retire it (organizers). A retired role
/// is no longer planned; its history stays.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("role_id" = String, Path, format = Uuid)),
    request_body = RoleFields,
    responses((status = 200, body = DutyRole), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[patch("/cohorts/{cohort_id}/roles/{role_id}")]
pub async fn change_role(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, String)>,
    body: JsonBody<RoleFields>,
) -> ApiResult<web::Json<DutyRole>> {
    let body = body.0;
    let mut checks = Checks::new();
    let name = checks.optional("name", body.name, validation::label);
    let min = checks.optional("min_attended", body.min_attended, min_attended);
    checks.finish()?;
    let ((cohort_id, role_id), now) = (path.into_inner(), state.now());
    let role = state
        .db
        .write(move |conn| {
            cohorts::lock_cohort(conn, &cohort_id)?;
            access::authorize(conn, &caller, &cohort_id, Action::ManageRoles)?;
            let mut row = store::find_role(conn, &cohort_id, &role_id)?.ok_or(ApiError::NotFound)?;
            row.name = name.clone().unwrap_or(row.name);
            row.min_attended = min.unwrap_or(row.min_attended);
            row.facilitation = body.facilitation.unwrap_or(row.facilitation);
            if let Some(retired) = body.retired {
                row.retired_at = if retired { row.retired_at.or(Some(now.naive_utc())) } else { None };
            }
            store::save_role(conn, &row)?;
            NewEvent::new(ev::RoleChanged {}, &row.id).by(caller.user_id()).in_cohort(&cohort_id).record(conn, now)?;
            Ok(DutyRole::from(row))
        })
        .await?;
    Ok(web::Json(role))
}
