//! `/api/v1/cohorts/{cohort_id}/series`: recurring schedules. Creating a series stores its
//! sessions for the next 26 weeks; changing one splits it at a session, leaving the past alone.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{NaiveDate, NaiveTime};

use super::materialize::{self, horizon, start_mark};
use super::model::{NewSeries, Series, SeriesChange, SeriesRow};
use super::recurrence;
use super::store;
use crate::auth::Caller;
use crate::cohorts::access::{self, Action};
use crate::db::{CohortId, SessionId, new_id};
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::state::AppState;
use crate::validation::{self, Checks, Invalid};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_series).service(create_series).service(get_series).service(change_series);
}

pub fn local_time(raw: String) -> Result<String, Invalid> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M")
        .map(|t| t.format("%H:%M").to_string())
        .map_err(|_| Invalid::new("invalid_format", "must be a local time as HH:MM"))
}

pub fn duration(raw: i32) -> Result<i32, Invalid> {
    if (15..=480).contains(&raw) {
        Ok(raw)
    } else {
        Err(Invalid::new("out_of_range", "must be between 15 and 480 minutes"))
    }
}

fn rule(raw: String) -> Result<String, Invalid> {
    recurrence::parse_rule(&raw).map(|r| r.as_text()).map_err(|e| Invalid::new("invalid_rule", e))
}

fn date(raw: String) -> Result<String, Invalid> {
    crate::validation::date(raw).map(|day| day.to_string())
}

/// 422 on `rrule` when the rule cannot give this series a session (UNTIL before the first
/// date, a rule no date matches).
fn check_rule(rrule: &str, starts_on: &str, local_time: &str) -> ApiResult<()> {
    let invalid = |message: String| ApiError::invalid("rrule", "invalid_rule", message);
    let rule = recurrence::parse_rule(rrule).map_err(invalid)?;
    let (Ok(day), Ok(time)) = (starts_on.parse::<NaiveDate>(), NaiveTime::parse_from_str(local_time, "%H:%M")) else {
        return Ok(());
    };
    recurrence::check_series(&rule, day, time).map_err(invalid)
}

/// A cohort's series, oldest first (including ended and split ones).
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:read"])),
    params(("cohort_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<Series>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/series")]
pub async fn list_series(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<Series>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, request) = (path.into_inner(), page.clone());
    let (rows, time_zone) = state
        .db
        .read(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::ReadSessions)?;
            Ok((store::list_series(conn, &cohort_id, &request)?, access.cohort.time_zone))
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        &page,
        |row: &SeriesRow| Cursor { created_at: row.created_at, id: row.id.clone() },
        |row| Series::new(row, &time_zone),
    )))
}

/// Schedule a recurring series (facilitators and organizers): an RRULE, a first date and a local
/// start time in the cohort's zone. Its sessions for the next 26 weeks are stored at once and a
/// daily job keeps adding them.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = NewSeries,
    responses((status = 201, body = Series), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/series")]
pub async fn create_series(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<NewSeries>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut checks = Checks::new();
    let title = checks.optional("title", body.title, validation::label).unwrap_or_else(|| "Session".to_string());
    let rrule = checks.require("rrule", body.rrule, rule);
    let starts_on = checks.require("starts_on", body.starts_on, date);
    let local_time = checks.require("local_time", body.local_time, local_time);
    let duration_minutes = checks.require("duration_minutes", body.duration_minutes, duration);
    let location = checks.optional("location", body.location, validation::text_up_to(500)).unwrap_or_default();
    checks.finish()?;
    check_rule(&rrule, &starts_on, &local_time)?;
    let (cohort_id, now) = (path.into_inner(), state.now());
    let series = state
        .db
        .write(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::RunSessions)?;
            let first_day: NaiveDate =
                starts_on.parse().map_err(|_| ApiError::invalid("starts_on", "invalid_format", "bad date"))?;
            let row = SeriesRow {
                id: new_id(),
                cohort_id: cohort_id.clone(),
                title: title.clone(),
                rrule: rrule.clone(),
                starts_on: starts_on.clone(),
                local_time: local_time.clone(),
                duration_minutes,
                location: location.clone(),
                ends_before: None,
                materialized_until: start_mark(first_day),
                created_by: Some(caller.user_id().clone()),
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
            };
            store::insert_series(conn, &row)?;
            let tz = access.cohort.time_zone.tz();
            let template = materialize::template(crate::cohorts::store::agenda_template(conn, &cohort_id)?.as_deref());
            let added = materialize::materialize(conn, &row, tz, &template, horizon(now, tz), now)?;
            NewEvent::by_in_cohort(ev::SeriesCreated { sessions: added }, caller.user_id(), &cohort_id, &row.id)
                .record(conn, now)?;
            Ok(Series::new(row, &access.cohort.time_zone))
        })
        .await?;
    Ok(HttpResponse::Created().json(series))
}

/// One series.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:read"])),
    params(("cohort_id" = String, Path, format = Uuid), ("series_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Series), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/series/{series_id}")]
pub async fn get_series(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, String)>,
) -> ApiResult<web::Json<Series>> {
    let (cohort_id, series_id) = path.into_inner();
    let series = state
        .db
        .read(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::ReadSessions)?;
            let row = store::find_series(conn, &cohort_id, &series_id)?.ok_or(ApiError::NotFound)?;
            Ok(Series::new(row, &access.cohort.time_zone))
        })
        .await?;
    Ok(web::Json(series))
}

/// Change a series from one of its sessions on (facilitators and organizers). The series is split
/// there: earlier sessions stay as they were; from that session on a new series follows the
/// change. Sessions on the new schedule's days keep their ids (so RSVPs and duties stay with
/// them): scheduled ones take the new time and length (their agenda shrinks to fit), moved or
/// cancelled ones stay as they are and are never doubled; scheduled sessions on other days are
/// cancelled. Without a new `rrule`, a `COUNT` counts what remains, so the total stays; a new
/// `rrule` counts from the given session. A rule that gives no session is 422 on `rrule`.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("series_id" = String, Path, format = Uuid)),
    request_body = SeriesChange,
    responses(
        (status = 200, description = "The new series that continues from the given session", body = Series),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
#[patch("/cohorts/{cohort_id}/series/{series_id}")]
pub async fn change_series(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, String)>,
    body: JsonBody<SeriesChange>,
) -> ApiResult<web::Json<Series>> {
    let body = body.0;
    let mut checks = Checks::new();
    let from_session_id = checks.require("from_session_id", body.from_session_id, |id: String| Ok(id));
    let title = checks.optional("title", body.title, validation::label);
    let rrule = checks.optional("rrule", body.rrule, rule);
    let local_time = checks.optional("local_time", body.local_time, local_time);
    let duration_minutes = checks.optional("duration_minutes", body.duration_minutes, duration);
    let location = checks.optional("location", body.location, validation::text_up_to(500));
    checks.finish()?;
    let ((cohort_id, series_id), now) = (path.into_inner(), state.now());
    let series = state
        .db
        .write(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::RunSessions)?;
            // The cohort's row first, as every sessions write takes it: two changes at once are
            // decided one after the other.
            crate::cohorts::store::lock_cohort(conn, &cohort_id)?;
            let old = store::find_series(conn, &cohort_id, &series_id)?.ok_or(ApiError::NotFound)?;
            let at = store::find_session(conn, &SessionId::from_untyped(&from_session_id))?
                .filter(|s| s.series_id.as_deref() == Some(series_id.as_str()))
                .ok_or_else(|| {
                    ApiError::invalid("from_session_id", "not_in_series", "is not a session of this series")
                })?;
            started(at.starts_at.and_utc(), now)?;
            let from_key = at.occurrence_key.clone().unwrap_or_default();
            // A new rule counts from this session on; the old one keeps counting what remains.
            let rrule = match rrule.clone() {
                Some(rrule) => rrule,
                None => materialize::remaining_rule(&old, &from_key)?,
            };
            let new = SeriesRow {
                id: new_id(),
                title: title.clone().unwrap_or(old.title.clone()),
                rrule,
                starts_on: from_key.get(..10).unwrap_or(&old.starts_on).to_string(),
                local_time: local_time.clone().unwrap_or(old.local_time.clone()),
                duration_minutes: duration_minutes.unwrap_or(old.duration_minutes),
                location: location.clone().unwrap_or(old.location.clone()),
                // Splitting a series that was split before: the part after it stays with the
                // series that continued it then.
                ends_before: old.ends_before.clone(),
                materialized_until: from_key.clone(),
                created_by: Some(caller.user_id().clone()),
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
                ..old.clone()
            };
            check_rule(&new.rrule, &new.starts_on, &new.local_time)?;
            let tz = access.cohort.time_zone.tz();
            let template = materialize::template(crate::cohorts::store::agenda_template(conn, &cohort_id)?.as_deref());
            materialize::split(conn, &old, &new, &from_key, tz, &template, now)?;
            let changed = ev::SeriesChanged { continued_by: new.id.clone() };
            NewEvent::by_in_cohort(changed, caller.user_id(), &cohort_id, &old.id).record(conn, now)?;
            Ok(Series::new(new, &access.cohort.time_zone))
        })
        .await?;
    Ok(web::Json(series))
}

pub use super::started;
