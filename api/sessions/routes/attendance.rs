//! `PUT /sessions/{session_id}/attendance`.

use super::*;
use crate::sessions::model::AttendanceRecord;

/// The most records one request may carry (a cohort is smaller).
pub const MAX_RECORDS: usize = 200;

/// Record who was present, late or absent (facilitators and organizers, or whoever is on duty in
/// the session, e.g. the note-taker), once the session has started: before its start the answer
/// is 409 `session_not_started` (absences known in advance are RSVPs or rota absences), and a
/// cancelled session is 409 `session_cancelled`. Each `user_id` must be an active member of the
/// cohort (422 `not_a_member` naming `records[i].user_id`); at most 200 records. Recording again
/// replaces a person's record.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("session_id" = String, Path, format = Uuid)),
    request_body = AttendanceRequest,
    responses((status = 200, body = Session), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[put("/sessions/{session_id}/attendance")]
pub async fn record_attendance(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SessionId>,
    body: JsonBody<AttendanceRequest>,
) -> ApiResult<web::Json<Session>> {
    let mut checks = Checks::new();
    let records = checks.require("records", body.0.records, |r: Vec<AttendanceRecord>| {
        if r.len() > MAX_RECORDS {
            return Err(Invalid::new("too_many", format!("must have at most {MAX_RECORDS} records")));
        }
        Ok(r)
    });
    checks.finish()?;
    update_session(
        &state,
        caller,
        path.into_inner(),
        Action::KeepSessionRecord,
        move |conn, caller, access, session, now| {
            let on_duty = crate::rota::store::holds_duty(conn, &session.id, caller.user_id())?;
            access::on_duty_or_facilitator(access, on_duty)?;
            let named = records.iter().enumerate().map(|(i, r)| (format!("records[{i}].user_id"), r.user_id.as_str()));
            check_active_members(conn, &session.cohort_id, named)?;
            not_cancelled(session)?;
            if session.starts_at > now.naive_utc() {
                return Err(ApiError::conflict(
                    "session_not_started",
                    "Attendance is recorded once the session has started.",
                ));
            }
            for record in &records {
                store::record_attendance(conn, &session.id, &record.user_id, record.status, caller.user_id(), now)?;
            }
            session_event(ev::SessionAttendanceRecorded {}, caller, session).record(conn, now)
        },
    )
    .await
}
