//! `PUT /sessions/{session_id}/attendance`.

use super::*;

/// Record who was present, late or absent (facilitators and organizers, or whoever is on duty in
/// the session, e.g. the note-taker).
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("session_id" = String, Path, format = Uuid)),
    request_body = AttendanceRequest,
    responses((status = 200, body = Session), (status = 404, response = NotFound))
)]
#[put("/sessions/{session_id}/attendance")]
pub async fn record_attendance(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<AttendanceRequest>,
) -> ApiResult<web::Json<Session>> {
    let mut checks = Checks::new();
    let records = checks.require("records", body.0.records, |r: Vec<_>| Ok(r));
    checks.finish()?;
    update_session(
        &state,
        caller,
        path.into_inner(),
        Action::KeepSessionRecord,
        move |conn, caller, access, session, now| {
            let on_duty = crate::rota::store::holds_duty(conn, &session.id, caller.user_id())?;
            access::on_duty_or_facilitator(access, on_duty)?;
            let mut unknown = Checks::new();
            let ids: Vec<String> = records.iter().map(|r| r.user_id.clone()).collect();
            let members = cohorts::members_among(conn, &session.cohort_id, &ids)?;
            for (i, record) in records.iter().enumerate() {
                if !members.contains(&record.user_id) {
                    let invalid = Invalid::new("not_a_member", "is not a member of this cohort");
                    unknown.fail(&format!("records[{i}].user_id"), invalid);
                }
            }
            unknown.finish()?;
            for record in &records {
                store::record_attendance(conn, &session.id, &record.user_id, record.status, caller.user_id(), now)?;
            }
            session_event("session.attendance_recorded", caller, session).record(conn, now)
        },
    )
    .await
}
