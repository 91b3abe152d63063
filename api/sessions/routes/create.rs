//! `POST /cohorts/{cohort_id}/sessions`: a one-off session.

use super::*;
use crate::db::CohortId;

/// Add a one-off session (facilitators and organizers), by its local start in the cohort's zone
/// or by its instant.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = NewSession,
    responses((status = 201, body = Session), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/sessions")]
pub async fn create_session(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<NewSession>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut checks = Checks::new();
    let title = checks.optional("title", body.title, validation::label).unwrap_or_else(|| "Session".to_string());
    let local = checks.optional("local_start", body.local_start, |raw: String| local_start(raw).map(Some)).flatten();
    let minutes = checks.require("duration_minutes", body.duration_minutes, duration);
    let location = checks.optional("location", body.location, validation::text_up_to(500)).unwrap_or_default();
    let starts_at = checks.optional("starts_at", body.starts_at, instant_in_range);
    if local.is_some() == body.starts_at.is_some() {
        checks.fail("local_start", Invalid::new("required", "give exactly one of local_start and starts_at"));
    }
    checks.finish()?;
    let (cohort_id, now) = (path.into_inner(), state.now());
    let session = state
        .db
        .write(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::RunSessions)?;
            let tz = zone(&access);
            let starts_at = starts_at.unwrap_or_else(|| recurrence::instant(local.unwrap_or_default(), tz));
            let template = materialize::template(cohorts::agenda_template(conn, &cohort_id)?.as_deref());
            let row = SessionRow {
                id: SessionId::new(),
                cohort_id: cohort_id.clone(),
                series_id: None,
                occurrence_key: None,
                title: title.clone(),
                location: location.clone(),
                starts_at: starts_at.naive_utc(),
                ends_at: (starts_at + Duration::minutes(i64::from(minutes))).naive_utc(),
                status: SessionStatus::Scheduled,
                cancel_reason: None,
                agenda: serde_json::to_string(&agenda::fit(&template, minutes as u32)).unwrap_or_default(),
                notes: String::new(),
                notes_published_at: None,
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
            };
            store::insert_session(conn, &row)?;
            session_event(ev::SessionCreated {}, &caller, &row).record(conn, now)?;
            detailed(conn, &access, row, caller.user_id())
        })
        .await?;
    Ok(HttpResponse::Created().json(session))
}
