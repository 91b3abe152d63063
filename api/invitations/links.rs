//! Invite links: `/api/v1/cohorts/{cohort_id}/invite-links` for organizers, and
//! `/api/v1/invite-links/join` for anyone holding a link.

use actix_web::{HttpResponse, delete, get, post, web};

use super::model::{CreatedInviteLink, InviteLink, InviteLinkRow, JoinByLink, NewInviteLink};
use super::store;
use crate::auth::Caller;
use crate::auth::secrets;
use crate::cohorts::access::{self, Action, OwnAction};
use crate::cohorts::members::{self, Admission};
use crate::cohorts::model::{Cohort, MemberState, Role};
use crate::cohorts::store as cohorts;
use crate::db::CohortId;
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::state::AppState;
use crate::validation::{Checks, Invalid};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_link).service(list_links).service(revoke_link).service(join);
}

const CODE_PREFIX: &str = "rt_join_";
const MAX_USES_LIMIT: i32 = 10_000;

/// Create an invite link (organizers): anyone who has it may join as a member, until it expires,
/// is used up or is revoked. The code is in this answer only.
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = []), ("personal_token" = ["cohorts:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = NewInviteLink,
    responses((status = 201, body = CreatedInviteLink), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/invite-links")]
pub async fn create_link(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<NewInviteLink>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let now = state.now();
    let mut checks = Checks::new();
    if body.expires_at.is_some_and(|at| at <= now) {
        checks.fail("expires_at", Invalid::new("in_the_past", "must be in the future"));
    } else if let Some(Err(invalid)) = body.expires_at.map(crate::validation::instant) {
        checks.fail("expires_at", invalid);
    }
    if body.max_uses.is_some_and(|n| !(1..=MAX_USES_LIMIT).contains(&n)) {
        checks.fail("max_uses", Invalid::new("out_of_range", format!("must be between 1 and {MAX_USES_LIMIT}")));
    }
    checks.finish()?;
    let (cohort_id, base_url) = (path.into_inner(), state.base_url.clone());
    let created = state
        .db
        .write(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ManageInvitations)?;
            let code = secrets::generate(CODE_PREFIX);
            let hint = format!("{}…", &code.plain[..CODE_PREFIX.len() + 3]);
            let new = store::NewLink {
                cohort_id: &cohort_id,
                code_hash: &code.hash,
                code_hint: &hint,
                created_by: caller.user_id(),
                expires_at: body.expires_at,
                max_uses: body.max_uses,
            };
            let row = store::insert_link(conn, new, now)?;
            NewEvent::by_in_cohort(ev::InviteLinkCreated {}, caller.user_id(), &cohort_id, &row.id)
                .record(conn, now)?;
            let url = format!("{base_url}/app/join#code={}", code.plain);
            Ok(CreatedInviteLink { details: InviteLink::new(row, now), code: code.plain, url })
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// A cohort's invite links (organizers), oldest first, without their codes.
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = []), ("personal_token" = ["cohorts:read"])),
    params(("cohort_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<InviteLink>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/invite-links")]
pub async fn list_links(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<InviteLink>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, request, now) = (path.into_inner(), page.clone(), state.now());
    let rows = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadInvitations)?;
            store::list_links(conn, &cohort_id, &request)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        &page,
        |row: &InviteLinkRow| Cursor { created_at: row.created_at, id: row.id.clone() },
        |row| InviteLink::new(row, now),
    )))
}

/// Revoke an invite link (organizers): it stops working at once.
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = []), ("personal_token" = ["cohorts:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("link_id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Revoked"), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[delete("/cohorts/{cohort_id}/invite-links/{link_id}")]
pub async fn revoke_link(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, String)>,
) -> ApiResult<HttpResponse> {
    let ((cohort_id, link_id), now) = (path.into_inner(), state.now());
    state
        .db
        .write(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ManageInvitations)?;
            if !store::revoke_link(conn, &cohort_id, &link_id, now)? {
                return Err(ApiError::NotFound);
            }
            NewEvent::by_in_cohort(ev::InviteLinkRevoked {}, caller.user_id(), &cohort_id, &link_id).record(conn, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The code in what was pasted: the bare code, or the whole invite URL (`…/app/join#code=…`,
/// also with `?code=`), with any spaces around it.
pub fn code_from(pasted: String) -> Result<String, crate::validation::Invalid> {
    let text = pasted.trim();
    let code = match text.rfind("code=") {
        Some(at) => text[at + "code=".len()..].split(['&', '#', ' ']).next().unwrap_or(""),
        None => text,
    };
    if code.is_empty() {
        return Err(crate::validation::Invalid::new("required", "must be the code or the whole invite link"));
    }
    Ok(code.to_string())
}

/// Join a cohort as a member with the code from an invite link (the bare code, or the whole link
/// as pasted). Joining when already a member
/// answers 200 and changes nothing (the link is not used up).
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = []), ("personal_token" = ["cohorts:write"])),
    request_body = JoinByLink,
    responses(
        (status = 201, description = "Joined; the cohort as you now see it", body = Cohort),
        (status = 200, description = "Already a member", body = Cohort),
        (status = 409, response = Conflict),
        (status = 410, description = "`invite_link_invalid`: unknown, expired, revoked or used up", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invite-links/join")]
pub async fn join(state: web::Data<AppState>, caller: Caller, body: JsonBody<JoinByLink>) -> ApiResult<HttpResponse> {
    access::authorize_own(&caller, OwnAction::JoinCohort)?;
    let mut checks = Checks::new();
    let code = checks.require("code", body.0.code, code_from);
    checks.finish()?;
    let now = state.now();
    let (admission, cohort) = state
        .db
        .write(move |conn| {
            let gone = || ApiError::Gone {
                code: "invite_link_invalid",
                detail: "This invite link is unknown, has expired, was revoked or is used up.".to_string(),
            };
            let link = store::usable_link(conn, &secrets::hash(&code), now)?.ok_or_else(gone)?;
            let cohort = cohorts::find_cohort(conn, &link.cohort_id)?.ok_or_else(gone)?;
            if cohort.archived_at.is_some() {
                return Err(ApiError::conflict("cohort_archived", "This cohort is archived and read-only."));
            }
            cohorts::lock_cohort(conn, &cohort.id)?;
            let already = cohorts::membership(conn, &cohort.id, caller.user_id())?
                .is_some_and(|m| m.state() != MemberState::Left);
            if !already && cohorts::was_removed(conn, &cohort.id, caller.user_id())? {
                return Err(ApiError::Forbidden {
                    code: "removed_from_cohort",
                    detail: "An organizer removed you from this cohort: only a new invitation brings you back."
                        .to_string(),
                });
            }
            let admission = if already {
                Admission::AlreadyMember
            } else {
                if !store::spend_use(conn, &link.id)? {
                    return Err(gone());
                }
                NewEvent::by_in_cohort(ev::InviteLinkUsed {}, caller.user_id(), &cohort.id, &link.id)
                    .record(conn, now)?;
                members::admit(conn, &cohort.id, caller.user_id(), Role::Member, "invite_link", now)?
            };
            let membership = cohorts::membership(conn, &cohort.id, caller.user_id())?.ok_or(ApiError::NotFound)?;
            let count = cohorts::member_count(conn, &cohort.id)?;
            Ok((admission, Cohort::new(cohort, &membership, count)))
        })
        .await?;
    Ok(match admission {
        Admission::AlreadyMember => HttpResponse::Ok().json(cohort),
        Admission::Joined | Admission::Rejoined => HttpResponse::Created().json(cohort),
    })
}
