//! `/api/v1/cohorts/{cohort_id}/roles|absences|rota|pairs` and `/api/v1/assignments/{id}`.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::json;

use super::engine::{self, DEFAULT_WEEKS};
use super::model::{
    Absence, AbsenceRow, AssignmentRow, Duty, DutyOverride, DutyRole, Fairness, FairnessParams, MemberLoad, NewAbsence,
    PairCycle, PlanRequest, PlanResult, RoleFields, RoleRow, RoleTurns, RotaSession,
};
use super::{cycles, store};
use crate::auth::Caller;
use crate::cohorts::access::{self, Access, Action};
use crate::cohorts::model::{MemberFilter, MemberState};
use crate::cohorts::store as cohorts;
use crate::db::{AnyConnection, new_id};
use crate::error::{ApiError, ApiResult};
use crate::events::NewEvent;
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams, PageRequest};
use crate::people::Person;
use super::plan::MAX_ROLES;
use crate::sessions::store as sessions;
use crate::state::AppState;
use crate::validation::{self, Checks, Invalid};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_roles)
        .service(add_role)
        .service(change_role)
        .service(list_absences)
        .service(add_absence)
        .service(remove_absence)
        .service(rota)
        .service(plan)
        .service(override_duty)
        .service(confirm_duty)
        .service(fairness)
        .service(list_pairs)
        .service(next_pairs)
        .service(pair_settings)
        .service(set_pair_settings);
}

fn zone(access: &Access) -> Tz {
    access.cohort.time_zone.parse().unwrap_or(chrono_tz::UTC)
}

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
    path: web::Path<String>,
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
    path: web::Path<String>,
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
            let access = access::authorize(conn, &caller, &cohort_id, Action::ManageRoles)?;
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
                name,
                position,
                min_attended: min,
                facilitation: body.facilitation.unwrap_or(false),
                retired_at: None,
                created_at: now.naive_utc(),
            };
            store::insert_role(conn, &row)?;
            NewEvent::new("role.added", "duty_role", &row.id)
                .by(caller.user_id())
                .in_cohort(&cohort_id)
                .record(conn, now)?;
            engine::replan_if_planned(conn, &cohort_id, &access.cohort.time_zone, now)?;
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
    path: web::Path<(String, String)>,
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
            let access = access::authorize(conn, &caller, &cohort_id, Action::ManageRoles)?;
            let mut row = store::find_role(conn, &cohort_id, &role_id)?.ok_or(ApiError::NotFound)?;
            row.name = name.unwrap_or(row.name);
            row.min_attended = min.unwrap_or(row.min_attended);
            row.facilitation = body.facilitation.unwrap_or(row.facilitation);
            if let Some(retired) = body.retired {
                row.retired_at = if retired { row.retired_at.or(Some(now.naive_utc())) } else { None };
            }
            store::save_role(conn, &row)?;
            NewEvent::new("role.changed", "duty_role", &row.id)
                .by(caller.user_id())
                .in_cohort(&cohort_id)
                .record(conn, now)?;
            engine::replan_if_planned(conn, &cohort_id, &access.cohort.time_zone, now)?;
            Ok(DutyRole::from(row))
        })
        .await?;
    Ok(web::Json(role))
}

/// Who cannot make which sessions, oldest first.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:read"])),
    params(("cohort_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<Absence>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/absences")]
pub async fn list_absences(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<Absence>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, request) = (path.into_inner(), page.clone());
    let rows = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadRota)?;
            store::list_absences_with_people(conn, &cohort_id, &request)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        &page,
        |(r, _): &(AbsenceRow, String)| Cursor { created_at: r.created_at, id: r.id.clone() },
        Absence::from,
    )))
}

fn date(raw: String) -> Result<NaiveDate, Invalid> {
    raw.trim().parse().map_err(|_| Invalid::new("invalid_format", "must be a date as YYYY-MM-DD"))
}

/// Mark a session, or a range of dates, you cannot make. Duties you held there go back to the
/// rota, which re-plans them.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = NewAbsence,
    responses((status = 201, body = Absence), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/absences")]
pub async fn add_absence(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<NewAbsence>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut checks = Checks::new();
    let from = checks.optional("from", body.from, |d| date(d).map(Some)).flatten();
    let to = checks.optional("to", body.to, |d| date(d).map(Some)).flatten();
    let note = checks.optional("note", body.note, validation::text_up_to(500)).unwrap_or_default();
    match (&body.session_id, from, to) {
        (Some(_), None, None) => {}
        (None, Some(f), Some(t)) if f <= t => {}
        (None, Some(_), Some(_)) => checks.fail("to", Invalid::new("before_from", "must not be before from")),
        _ => checks.fail("session_id", Invalid::new("required", "give a session_id, or from and to")),
    }
    checks.finish()?;
    let (cohort_id, now) = (path.into_inner(), state.now());
    let absence = state
        .db
        .write(move |conn| {
            cohorts::lock_cohort(conn, &cohort_id)?;
            let access = access::authorize(conn, &caller, &cohort_id, Action::ActOnDuty)?;
            if let Some(session_id) = &body.session_id {
                sessions::find_session(conn, session_id)?
                    .filter(|s| s.cohort_id == cohort_id)
                    .ok_or_else(|| ApiError::invalid("session_id", "not_found", "is not a session of this cohort"))?;
            }
            let row = AbsenceRow {
                id: new_id(),
                cohort_id: cohort_id.clone(),
                user_id: caller.user_id().to_string(),
                session_id: body.session_id,
                from_on: from.map(|d| d.to_string()),
                to_on: to.map(|d| d.to_string()),
                note,
                created_at: now.naive_utc(),
            };
            store::insert_absence(conn, &row)?;
            release_covered(conn, &access, &row, now)?;
            NewEvent::new("absence.added", "absence", &row.id)
                .by(caller.user_id())
                .in_cohort(&cohort_id)
                .record(conn, now)?;
            engine::replan_if_planned(conn, &cohort_id, &access.cohort.time_zone, now)?;
            Ok(Absence::from(store::absence_with_person(conn, &row.id)?.ok_or(ApiError::NotFound)?))
        })
        .await?;
    Ok(HttpResponse::Created().json(absence))
}

/// Frees the member's locked or confirmed duties in the sessions an absence covers.
fn release_covered(
    conn: &mut AnyConnection,
    access: &Access,
    absence: &AbsenceRow,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let tz = zone(access);
    let horizon = now + Duration::weeks(52);
    let covered: Vec<String> =
        store::assignments_between(conn, &absence.cohort_id, now.naive_utc(), horizon.naive_utc())?
            .into_iter()
            .filter(|(row, at)| {
                row.user_id.as_deref() == Some(absence.user_id.as_str())
                    && absence.covers(&row.session_id, at.and_utc().with_timezone(&tz).date_naive())
            })
            .map(|(row, _)| row.session_id)
            .collect();
    store::release_duties(conn, &absence.cohort_id, &absence.user_id, &covered)
}

/// Withdraw an absence (your own; facilitators may withdraw anyone's).
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("absence_id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Withdrawn"), (status = 404, response = NotFound))
)]
#[delete("/cohorts/{cohort_id}/absences/{absence_id}")]
pub async fn remove_absence(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let ((cohort_id, absence_id), now) = (path.into_inner(), state.now());
    state
        .db
        .write(move |conn| {
            cohorts::lock_cohort(conn, &cohort_id)?;
            let access = access::authorize(conn, &caller, &cohort_id, Action::ActOnDuty)?;
            let absence = store::find_absence(conn, &cohort_id, &absence_id)?.ok_or(ApiError::NotFound)?;
            if absence.user_id != caller.user_id() {
                access::authorize(conn, &caller, &cohort_id, Action::RunRota)?;
            }
            store::delete_absence(conn, &absence_id)?;
            engine::replan_if_planned(conn, &cohort_id, &access.cohort.time_zone, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

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
    path: web::Path<String>,
    query: web::Query<PageParams>,
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
    let ids: Vec<String> = rows.iter().map(|s| s.id.clone()).collect();
    let duties: Vec<Duty> = store::duties_in_sessions(conn, &ids)?.into_iter().map(Duty::from_row).collect();
    let tz = zone(access);
    Ok(Page::from_rows(
        rows,
        page,
        |s| Cursor { created_at: s.starts_at, id: s.id.clone() },
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
    path: web::Path<String>,
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

/// The instants that bracket exactly the session starting at `starts_at`.
fn session_bounds(starts_at: DateTime<Utc>) -> (chrono::NaiveDateTime, chrono::NaiveDateTime) {
    (starts_at.naive_utc(), (starts_at + Duration::seconds(1)).naive_utc())
}

fn duty_of(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<(Access, AssignmentRow, DateTime<Utc>)> {
    let cohort_id = store::find_assignment(conn, id)?.ok_or(ApiError::NotFound)?.cohort_id;
    // The cohort row first, then the duty as it is once the lock is held.
    cohorts::lock_cohort(conn, &cohort_id)?;
    let row = store::find_assignment(conn, id)?.ok_or(ApiError::NotFound)?;
    let access = access::authorize(conn, caller, &row.cohort_id, action)?;
    let session = sessions::find_session(conn, &row.session_id)?.ok_or(ApiError::NotFound)?;
    Ok((access, row, session.starts_at.and_utc()))
}

/// Give a duty to someone else, or leave it empty (facilitators and organizers). The duty is
/// locked: re-planning leaves it alone.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("assignment_id" = String, Path, format = Uuid)),
    request_body = DutyOverride,
    responses((status = 200, body = Duty), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[put("/assignments/{assignment_id}")]
pub async fn override_duty(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<DutyOverride>,
) -> ApiResult<web::Json<Duty>> {
    let (id, now, user_id) = (path.into_inner(), state.now(), body.0.user_id);
    let duty = state
        .db
        .write(move |conn| {
            let (_, mut row, starts_at) = duty_of(conn, &caller, &id, Action::RunRota)?;
            crate::sessions::series_routes::started(starts_at, now)?;
            if let Some(user) = &user_id {
                let active =
                    cohorts::membership(conn, &row.cohort_id, user)?.is_some_and(|m| m.state() == MemberState::Active);
                if !active {
                    return Err(ApiError::invalid(
                        "user_id",
                        "not_an_active_member",
                        "is not an active member of this cohort",
                    ));
                }
                let starts = session_bounds(starts_at);
                let busy =
                    store::assignments_between(conn, &row.cohort_id, starts.0, starts.1)?.into_iter().any(|(a, _)| {
                        a.session_id == row.session_id && a.id != row.id && a.user_id.as_deref() == Some(user.as_str())
                    });
                if busy {
                    return Err(ApiError::conflict(
                        "already_on_duty",
                        "That member already holds a duty in this session.",
                    ));
                }
            }
            row.user_id = user_id;
            row.locked = true;
            row.confirmed_at = None;
            row.updated_at = now.naive_utc();
            store::save_assignment(conn, &row)?;
            NewEvent::new("duty.assigned", "assignment", &row.id)
                .by(caller.user_id())
                .in_cohort(&row.cohort_id)
                .with(json!({ "user_id": row.user_id, "override": true }))
                .record(conn, now)?;
            engine::duties(conn, std::slice::from_ref(&row.id))?.pop().ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(web::Json(duty))
}

/// Confirm your duty: re-planning keeps it with you.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:write"])),
    params(("assignment_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Duty), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/assignments/{assignment_id}/confirm")]
pub async fn confirm_duty(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<web::Json<Duty>> {
    let (id, now) = (path.into_inner(), state.now());
    let duty = state
        .db
        .write(move |conn| {
            let (_, mut row, starts_at) = duty_of(conn, &caller, &id, Action::ActOnDuty)?;
            crate::sessions::series_routes::started(starts_at, now)?;
            if row.user_id.as_deref() != Some(caller.user_id()) {
                return Err(ApiError::Forbidden {
                    code: "not_your_duty",
                    detail: "Only the member on duty confirms it.".to_string(),
                });
            }
            row.confirmed_at = row.confirmed_at.or(Some(now.naive_utc()));
            row.updated_at = now.naive_utc();
            store::save_assignment(conn, &row)?;
            NewEvent::new("duty.confirmed", "assignment", &row.id)
                .by(caller.user_id())
                .in_cohort(&row.cohort_id)
                .record(conn, now)?;
            engine::duties(conn, std::slice::from_ref(&row.id))?.pop().ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(web::Json(duty))
}

/// Who carries how much: duties per member and role over a window, upcoming load, who is
/// overloaded, who has never held a role.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:read"])),
    params(("cohort_id" = String, Path, format = Uuid), FairnessParams),
    responses((status = 200, body = Fairness), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/rota/fairness")]
pub async fn fairness(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<FairnessParams>,
) -> ApiResult<web::Json<Fairness>> {
    let weeks = query.weeks.unwrap_or(26).clamp(1, 520);
    let (cohort_id, now) = (path.into_inner(), state.now());
    let from = now - Duration::weeks(weeks);
    let report = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadRota)?;
            let roles = store::roles(conn, &cohort_id, false)?;
            let duties = store::assignments_between(
                conn,
                &cohort_id,
                from.naive_utc(),
                (now + Duration::weeks(52)).naive_utc(),
            )?;
            let everyone_ever: Vec<String> =
                store::assignments_between(conn, &cohort_id, store::beginning(), now.naive_utc())?
                    .into_iter()
                    .filter_map(|(d, _)| d.user_id.map(|u| format!("{u}/{}", d.role_id)))
                    .collect();
            let filter = MemberFilter { role: None, state: Some(MemberState::Active) };
            let everyone = PageRequest { limit: 10_000, after: None };
            let members = cohorts::members(conn, &cohort_id, &filter, &everyone)?;
            let upcoming = |user: &str| {
                duties.iter().filter(|(d, at)| *at > now.naive_utc() && d.user_id.as_deref() == Some(user)).count()
                    as i64
            };
            let total_upcoming: i64 = members.iter().map(|(m, _, _)| upcoming(&m.user_id)).sum();
            let average = total_upcoming as f64 / members.len().max(1) as f64;
            let loads = members
                .iter()
                .map(|(m, name, _)| {
                    let served = |role: &str| {
                        duties
                            .iter()
                            .filter(|(d, at)| {
                                *at <= now.naive_utc()
                                    && d.role_id == role
                                    && d.user_id.as_deref() == Some(m.user_id.as_str())
                            })
                            .count() as i64
                    };
                    let turns: Vec<RoleTurns> =
                        roles.iter().map(|r| RoleTurns { role_id: r.id.clone(), turns: served(&r.id) }).collect();
                    let coming = upcoming(&m.user_id);
                    MemberLoad {
                        total: turns.iter().map(|t| t.turns).sum(),
                        never_held: roles
                            .iter()
                            .filter(|r| !everyone_ever.contains(&format!("{}/{}", m.user_id, r.id)))
                            .map(|r| r.id.clone())
                            .collect(),
                        overloaded: coming as f64 > average + 1.0,
                        upcoming: coming,
                        turns,
                        user: Person::new(m.user_id.clone(), name.clone()),
                        user_id: m.user_id.clone(),
                        display_name: name.clone(),
                    }
                })
                .collect();
            Ok(Fairness { from, members: loads })
        })
        .await?;
    Ok(web::Json(report))
}

/// The coaching pairs of every cycle so far, the latest last.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:read"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Vec<PairCycle>), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/pairs")]
pub async fn list_pairs(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<web::Json<Vec<PairCycle>>> {
    let cohort_id = path.into_inner();
    let cycles = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadRota)?;
            store::pair_cycles(conn, &cohort_id, None)
        })
        .await?;
    Ok(web::Json(cycles))
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
    path: web::Path<String>,
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
    path: web::Path<String>,
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
    path: web::Path<String>,
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
            NewEvent::new("pairs.settings_changed", "cohort", &cohort_id)
                .by(caller.user_id())
                .in_cohort(&cohort_id)
                .record(conn, now)
        })
        .await?;
    Ok(web::Json(PairSettings { every_sessions: every }))
}
