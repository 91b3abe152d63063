//! Absences: `/api/v1/cohorts/{cohort_id}/absences`.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::zone;
use crate::auth::Caller;
use crate::cohorts::access::{self, Access, Action};
use crate::cohorts::store as cohorts;
use crate::db::{AnyConnection, CohortId, SessionId, new_id};
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::rota::model::{Absence, AbsenceRow, NewAbsence};
use crate::rota::store;
use crate::sessions::store as sessions;
use crate::state::AppState;
use crate::validation::{self, Checks, Invalid};

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
    path: web::Path<CohortId>,
    query: crate::http::Query<PageParams>,
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
    crate::validation::date(raw)
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
    path: web::Path<CohortId>,
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
                user_id: caller.user_id().clone(),
                session_id: body.session_id.clone(),
                from_on: from.map(|d| d.to_string()),
                to_on: to.map(|d| d.to_string()),
                note: note.clone(),
                created_at: now.naive_utc(),
            };
            store::insert_absence(conn, &row)?;
            release_covered(conn, &access, &row, now)?;
            NewEvent::new(ev::AbsenceAdded {}, &row.id).by(caller.user_id()).in_cohort(&cohort_id).record(conn, now)?;
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
    let covered: Vec<SessionId> =
        store::assignments_between(conn, &absence.cohort_id, now.naive_utc(), horizon.naive_utc())?
            .into_iter()
            .filter(|(row, at)| {
                row.user_id.as_ref() == Some(&absence.user_id)
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
    path: web::Path<(CohortId, String)>,
) -> ApiResult<HttpResponse> {
    let ((cohort_id, absence_id), now) = (path.into_inner(), state.now());
    state
        .db
        .write(move |conn| {
            cohorts::lock_cohort(conn, &cohort_id)?;
            access::authorize(conn, &caller, &cohort_id, Action::ActOnDuty)?;
            let absence = store::find_absence(conn, &cohort_id, &absence_id)?.ok_or(ApiError::NotFound)?;
            if absence.user_id != caller.user_id() {
                access::authorize(conn, &caller, &cohort_id, Action::RunRota)?;
            }
            store::delete_absence(conn, &absence_id)?;
            NewEvent::new(ev::AbsenceRemoved {}, &absence_id)
                .by(caller.user_id())
                .in_cohort(&cohort_id)
                .record(conn, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
