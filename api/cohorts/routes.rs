//! `/api/v1/cohorts`: create, list, read, change and archive cohorts.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};

use super::access::{self, Action, OwnAction};
use super::model::{Cohort, CohortChanges, CohortRow, MemberState, MembershipRow, NewCohort, Role, UpdateCohort};
use super::store;
use crate::auth::Caller;
use crate::db::CohortId;
use crate::error::ApiResult;
use crate::events::{EventPayload, NewEvent, changed_fields, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::state::AppState;
use crate::validation::{self, Checks};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_cohort).service(list_cohorts).service(get_cohort).service(update_cohort).service(archive_cohort);
}

const DESCRIPTION_MAX: usize = 2000;

/// An event about a cohort, done by the caller.
fn cohort_event<'a>(payload: impl Into<EventPayload>, caller: &'a Caller, cohort_id: &'a CohortId) -> NewEvent<'a> {
    NewEvent::new(payload, cohort_id.as_str()).by(caller.user_id()).in_cohort(cohort_id)
}

/// Create a cohort; you become its organizer.
#[utoipa::path(
    tag = "cohorts",
    security(("bearer" = []), ("personal_token" = ["cohorts:write"])),
    request_body = NewCohort,
    responses((status = 201, body = Cohort, headers(("location" = String))))
)]
#[post("/cohorts")]
pub async fn create_cohort(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<NewCohort>,
) -> ApiResult<HttpResponse> {
    access::authorize_own(&caller, OwnAction::CreateCohort)?;
    let body = body.0;
    let mut checks = Checks::new();
    let name = checks.require("name", body.name, validation::label);
    let description = checks.optional("description", body.description, validation::text_up_to(DESCRIPTION_MAX));
    let time_zone = checks.require("time_zone", body.time_zone, validation::time_zone);
    let locale = checks.optional("locale", body.locale, validation::locale);
    checks.finish()?;
    let now = state.now();
    let cohort = CohortRow {
        id: CohortId::new(),
        name,
        description: description.unwrap_or_default(),
        time_zone,
        locale: locale.unwrap_or_else(|| caller.user.locale.clone()),
        created_by: Some(caller.user.id.clone()),
        archived_at: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    let membership = MembershipRow {
        cohort_id: cohort.id.clone(),
        user_id: caller.user.id.clone(),
        role: Role::Organizer,
        state: MemberState::Active,
        joined_at: now.naive_utc(),
        state_changed_at: now.naive_utc(),
    };
    let created = state
        .db
        .write(move |conn| {
            store::insert_cohort(conn, &cohort)?;
            store::insert_membership(conn, &membership)?;
            crate::rota::store::add_default_roles(conn, &cohort.id, now)?;
            cohort_event(ev::CohortCreated {}, &caller, &cohort.id).record(conn, now)?;
            Ok(Cohort::new(cohort.clone(), &membership, 1))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/cohorts/{}", created.id)))
        .json(created))
}

/// The cohorts you belong to (active or paused), in the order you joined them.
#[utoipa::path(
    tag = "cohorts",
    security(("bearer" = []), ("personal_token" = ["cohorts:read"])),
    params(PageParams),
    responses((status = 200, body = inline(Page<Cohort>)))
)]
#[get("/cohorts")]
pub async fn list_cohorts(
    state: web::Data<AppState>,
    caller: Caller,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<Cohort>>> {
    access::authorize_own(&caller, OwnAction::ListMyCohorts)?;
    let page = query.into_inner().validate()?;
    let (user_id, request) = (caller.user.id, page.clone());
    let rows = state.db.read(move |conn| store::my_cohorts(conn, &user_id, &request)).await?;
    Ok(web::Json(Page::from_rows(
        rows,
        &page,
        |(_, membership, _)| Cursor { created_at: membership.joined_at, id: membership.cohort_id.to_string() },
        |(cohort, membership, count)| Cohort::new(cohort, &membership, count),
    )))
}

/// One cohort.
#[utoipa::path(
    tag = "cohorts",
    security(("bearer" = []), ("personal_token" = ["cohorts:read"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Cohort), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}")]
pub async fn get_cohort(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
) -> ApiResult<web::Json<Cohort>> {
    let cohort_id = path.into_inner();
    let cohort = state
        .db
        .read(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::ReadCohort)?;
            let count = store::member_count(conn, &cohort_id)?;
            Ok(Cohort::new(access.cohort, &access.membership, count))
        })
        .await?;
    Ok(web::Json(cohort))
}

/// Change a cohort's name, description, time zone or language (organizers).
#[utoipa::path(
    tag = "cohorts",
    security(("bearer" = []), ("personal_token" = ["cohorts:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = UpdateCohort,
    responses((status = 200, body = Cohort), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[patch("/cohorts/{cohort_id}")]
pub async fn update_cohort(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<UpdateCohort>,
) -> ApiResult<web::Json<Cohort>> {
    let body = body.0;
    let now = state.now();
    let mut checks = Checks::new();
    let changes = CohortChanges {
        name: checks.optional("name", body.name, validation::label),
        description: checks.optional("description", body.description, validation::text_up_to(DESCRIPTION_MAX)),
        time_zone: checks.optional("time_zone", body.time_zone, validation::time_zone),
        locale: checks.optional("locale", body.locale, validation::locale),
        updated_at: Some(now.naive_utc()),
    };
    checks.finish()?;
    let cohort_id = path.into_inner();
    let cohort = state
        .db
        .write(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::UpdateCohort)?;
            let changed = changed_fields(&[
                ("name", changes.name.is_some()),
                ("description", changes.description.is_some()),
                ("time_zone", changes.time_zone.is_some()),
                ("locale", changes.locale.is_some()),
            ]);
            if !changed.is_empty() {
                store::update_cohort(conn, &cohort_id, &changes)?;
                let mut time_zone = None;
                if let Some(zone) = changes.time_zone.filter(|z| *z != access.cohort.time_zone) {
                    // Series keep their local times in the new zone and the rota follows
                    // (reactors of the event).
                    time_zone =
                        Some(ev::TimeZoneChange { from: access.cohort.time_zone.to_string(), to: zone.to_string() });
                }
                cohort_event(ev::CohortUpdated { changed, time_zone }, &caller, &cohort_id).record(conn, now)?;
            }
            let row = store::find_cohort(conn, &cohort_id)?.unwrap_or(access.cohort);
            Ok(Cohort::new(row, &access.membership, store::member_count(conn, &cohort_id)?))
        })
        .await?;
    Ok(web::Json(cohort))
}

/// Archive a cohort (organizers): it stays readable, every change to it is refused with 409
/// `cohort_archived`, and nothing is erased.
#[utoipa::path(
    tag = "cohorts",
    security(("bearer" = []), ("personal_token" = ["cohorts:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Archived"), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[delete("/cohorts/{cohort_id}")]
pub async fn archive_cohort(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
) -> ApiResult<HttpResponse> {
    let (cohort_id, now) = (path.into_inner(), state.now());
    state
        .db
        .write(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ArchiveCohort)?;
            store::archive(conn, &cohort_id, now)?;
            cohort_event(ev::CohortArchived {}, &caller, &cohort_id).record(conn, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
