//! One duty: `/api/v1/assignments/{assignment_id}` (override) and `.../confirm`.

use actix_web::{post, put, web};
use chrono::{DateTime, Duration, Utc};

use crate::auth::Caller;
use crate::cohorts::access::{self, Access, Action};
use crate::cohorts::model::MemberState;
use crate::cohorts::store as cohorts;
use crate::db::AnyConnection;
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::rota::engine::{self};
use crate::rota::model::{AssignmentRow, Duty, DutyOverride};
use crate::rota::store;
use crate::sessions::store as sessions;
use crate::state::AppState;

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
/// locked: re-planning leaves it alone. `user_id` must be an active member of the cohort who has
/// not said they cannot make the session (422 naming `user_id`).
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
            let (access, mut row, starts_at) = duty_of(conn, &caller, &id, Action::RunRota)?;
            crate::sessions::started(starts_at, now)?;
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
                // Rule 2 of the rota holds for overrides too: nobody is put on duty in a session
                // they said they cannot make.
                let local_date = starts_at.with_timezone(&crate::rota::routes::zone(&access)).date_naive();
                if store::is_absent(conn, &row.cohort_id, user, &row.session_id, local_date)? {
                    return Err(ApiError::invalid("user_id", "absent", "has said they cannot make this session"));
                }
                let starts = session_bounds(starts_at);
                let busy = store::assignments_between(conn, &row.cohort_id, starts.0, starts.1)?
                    .into_iter()
                    .any(|(a, _)| a.session_id == row.session_id && a.id != row.id && a.user_id.as_ref() == Some(user));
                if busy {
                    return Err(ApiError::conflict(
                        "already_on_duty",
                        "That member already holds a duty in this session.",
                    ));
                }
            }
            row.user_id = user_id.clone();
            row.locked = true;
            row.confirmed_at = None;
            row.updated_at = now.naive_utc();
            store::save_assignment(conn, &row)?;
            let assigned = ev::DutyAssigned {
                user_id: row.user_id.clone().map(String::from),
                session_id: None,
                role_id: None,
                by_hand: true,
            };
            NewEvent::new(assigned, &row.id).by(caller.user_id()).in_cohort(&row.cohort_id).record(conn, now)?;
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
    let duty = state.db.write(move |conn| confirm(conn, &caller, &id, now)).await?;
    Ok(web::Json(duty))
}

/// Confirms the caller's own duty `id` (409 once its session has started, 403 `not_your_duty`
/// for anyone else's); confirming again keeps the first confirmation. The JSON route and links in
/// mail (`notifications::links`) both act through this.
pub(crate) fn confirm(conn: &mut AnyConnection, caller: &Caller, id: &str, now: DateTime<Utc>) -> ApiResult<Duty> {
    let (_, mut row, starts_at) = duty_of(conn, caller, id, Action::ActOnDuty)?;
    crate::sessions::started(starts_at, now)?;
    if row.user_id.as_ref() != Some(caller.user_id()) {
        return Err(ApiError::Forbidden {
            code: "not_your_duty",
            detail: "Only the member on duty confirms it.".to_string(),
        });
    }
    row.confirmed_at = row.confirmed_at.or(Some(now.naive_utc()));
    row.updated_at = now.naive_utc();
    store::save_assignment(conn, &row)?;
    NewEvent::new(ev::DutyConfirmed {}, &row.id).by(caller.user_id()).in_cohort(&row.cohort_id).record(conn, now)?;
    engine::duties(conn, std::slice::from_ref(&row.id))?.pop().ok_or(ApiError::NotFound)
}
