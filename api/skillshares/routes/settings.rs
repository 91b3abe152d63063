//! A cohort's rule for skill shares: whether offers wait for approval.

use super::*;

/// Whether members' offers wait for a facilitator's approval.
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:read"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    responses((status = 200, body = SkillShareSettings), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/skill-share-settings")]
pub async fn get_skill_share_settings(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
) -> ApiResult<web::Json<SkillShareSettings>> {
    let cohort_id = path.into_inner();
    let settings = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadSkillShares)?;
            Ok(SkillShareSettings { approval_required: store::approval_required(conn, &cohort_id)? })
        })
        .await?;
    Ok(web::Json(settings))
}

/// Ask for approval of members' offers, or stop asking (facilitators). Offers already made keep
/// their status.
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = SkillShareSettingsChange,
    responses((status = 200, body = SkillShareSettings), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[put("/cohorts/{cohort_id}/skill-share-settings")]
pub async fn set_skill_share_settings(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<SkillShareSettingsChange>,
) -> ApiResult<web::Json<SkillShareSettings>> {
    let mut checks = Checks::new();
    let required = checks.require("approval_required", body.0.approval_required, Ok::<bool, Invalid>);
    checks.finish()?;
    let cohort_id = path.into_inner();
    let settings = state
        .db
        .write(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::RunSkillShares)?;
            store::set_approval_required(conn, &cohort_id, required)?;
            Ok(SkillShareSettings { approval_required: required })
        })
        .await?;
    Ok(web::Json(settings))
}
