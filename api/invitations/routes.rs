//! Invitations by mail: `/api/v1/cohorts/{cohort_id}/invitations` for organizers, and
//! `/api/v1/invitations/accept` for the invitee.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};

use super::model::{
    AcceptInvitation, Invitation, InvitationFilter, InvitationRow, InvitationState, InvitationsSent,
    MAX_INVITATIONS_PER_REQUEST, NewInvitations, Skipped,
};
use super::store;
use crate::auth::Caller;
use crate::auth::secrets;
use crate::cohorts::access::{self, Action, OwnAction};
use crate::cohorts::members;
use crate::cohorts::model::{Cohort, CohortRow, MemberState, Role};
use crate::cohorts::store as cohorts;
use crate::db::{AnyConnection, CohortId};
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::mail::{outbox, templates};
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::state::AppState;
use crate::validation::{self, Checks, Invalid};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(invite)
        .service(list_invitations)
        .service(resend_invitation)
        .service(revoke_invitation)
        .service(accept_invitation);
}

const TOKEN_PREFIX: &str = "rt_inv_";

/// Queues the invitation mail carrying `token`.
fn send(
    conn: &mut AnyConnection,
    state: &AppState,
    cohort: &CohortRow,
    inviter: &str,
    address: &str,
    token: &secrets::Secret,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let link = templates::link(&state.base_url, "invitation", &token.plain);
    outbox::enqueue(conn, &templates::invitation(address, inviter, &cohort.name, &link), now)?;
    Ok(())
}

/// Invite people by email (organizers). Each address gets a mail with a single-use link valid
/// for 14 days; inviting an address again renews its invitation. Members are skipped.
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = []), ("personal_token" = ["cohorts:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = NewInvitations,
    responses((status = 201, body = InvitationsSent), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/invitations")]
pub async fn invite(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<NewInvitations>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut checks = Checks::new();
    let emails: Vec<String> = checks.require("emails", body.emails, |emails: Vec<String>| match emails.len() {
        0 => Err(Invalid::new("required", "name at least one address")),
        n if n > MAX_INVITATIONS_PER_REQUEST => {
            Err(Invalid::new("too_many", format!("at most {MAX_INVITATIONS_PER_REQUEST} addresses at once")))
        }
        _ => Ok(emails),
    });
    let mut addresses: Vec<(String, String)> = Vec::new();
    for (i, raw) in emails.into_iter().enumerate() {
        match validation::email(raw) {
            Ok(email) => {
                let key = validation::email_key(&email);
                if !addresses.iter().any(|(_, k)| *k == key) {
                    addresses.push((email, key));
                }
            }
            Err(invalid) => checks.fail(&format!("emails[{i}]"), invalid),
        }
    }
    checks.finish()?;
    let role = body.role.unwrap_or(Role::Member);
    let (cohort_id, now, app) = (path.into_inner(), state.now(), state.clone());
    let sent = state
        .db
        .write(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::ManageInvitations)?;
            let keys: Vec<String> = addresses.iter().map(|(_, key)| key.clone()).collect();
            let members = store::member_addresses(conn, &cohort_id, &keys)?;
            let open = store::open_for(conn, &cohort_id, &keys)?;
            let (mut ids, mut skipped) = (Vec::new(), Vec::new());
            for (email, key) in addresses.clone() {
                if members.contains(&key) {
                    skipped.push(Skipped { email, reason: "already_member" });
                    continue;
                }
                let token = secrets::generate(TOKEN_PREFIX);
                let new = store::NewInvitation {
                    cohort_id: &cohort_id,
                    email: &email,
                    email_key: &key,
                    role,
                    invited_by: caller.user_id(),
                    token_hash: &token.hash,
                };
                let id = store::invite(conn, new, open.get(&key), now)?;
                send(conn, &app, &access.cohort, &caller.user.display_name, &email, &token, now)?;
                NewEvent::by_in_cohort(ev::InvitationSent {}, caller.user_id(), &cohort_id, &id).record(conn, now)?;
                ids.push(id);
            }
            // Answer in the order the addresses were given, renewed or new alike.
            let mut rows = store::find_many(conn, &cohort_id, &ids)?;
            rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
            let invited = rows.into_iter().map(|row| Invitation::new(row, now)).collect();
            Ok(InvitationsSent { invited, skipped })
        })
        .await?;
    state.mailer.wake();
    Ok(HttpResponse::Created().json(sent))
}

/// A cohort's invitations (organizers), oldest first; filter by `state`.
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = []), ("personal_token" = ["cohorts:read"])),
    params(("cohort_id" = String, Path, format = Uuid), InvitationFilter, PageParams),
    responses((status = 200, body = inline(Page<Invitation>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    filter: crate::http::Query<InvitationFilter>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<Invitation>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, state_filter, request, now) = (path.into_inner(), filter.state, page.clone(), state.now());
    let rows = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadInvitations)?;
            store::list(conn, &cohort_id, state_filter, &request, now)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        &page,
        |row: &InvitationRow| Cursor { created_at: row.created_at, id: row.id.clone() },
        |row| Invitation::new(row, now),
    )))
}

/// An invitation of this cohort that is still open (not accepted, not revoked).
fn open_invitation(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    id: &str,
    now: DateTime<Utc>,
) -> ApiResult<InvitationRow> {
    let row = store::find(conn, cohort_id, id)?.ok_or(ApiError::NotFound)?;
    match row.state(now) {
        InvitationState::Pending | InvitationState::Expired => Ok(row),
        InvitationState::Accepted | InvitationState::Revoked => {
            Err(ApiError::conflict("invitation_closed", "This invitation was accepted or revoked."))
        }
    }
}

/// Send an open invitation again (organizers): a new link, valid 14 days; the old link stops working.
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = []), ("personal_token" = ["cohorts:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("invitation_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Invitation), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/invitations/{invitation_id}/resend")]
pub async fn resend_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, String)>,
) -> ApiResult<web::Json<Invitation>> {
    let ((cohort_id, id), now, app) = (path.into_inner(), state.now(), state.clone());
    let invitation = state
        .db
        .write(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::ManageInvitations)?;
            let row = open_invitation(conn, &cohort_id, &id, now)?;
            let token = secrets::generate(TOKEN_PREFIX);
            store::renew(conn, &id, &token.hash, None, now)?;
            send(conn, &app, &access.cohort, &caller.user.display_name, &row.email, &token, now)?;
            NewEvent::by_in_cohort(ev::InvitationSent {}, caller.user_id(), &cohort_id, &id).record(conn, now)?;
            Ok(Invitation::new(store::find(conn, &cohort_id, &id)?.ok_or(ApiError::NotFound)?, now))
        })
        .await?;
    state.mailer.wake();
    Ok(web::Json(invitation))
}

/// Revoke an open invitation (organizers): its link stops working.
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = []), ("personal_token" = ["cohorts:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("invitation_id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Revoked"), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[delete("/cohorts/{cohort_id}/invitations/{invitation_id}")]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, String)>,
) -> ApiResult<HttpResponse> {
    let ((cohort_id, id), now) = (path.into_inner(), state.now());
    state
        .db
        .write(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ManageInvitations)?;
            open_invitation(conn, &cohort_id, &id, now)?;
            store::revoke(conn, &id, now)?;
            NewEvent::by_in_cohort(ev::InvitationRevoked {}, caller.user_id(), &cohort_id, &id).record(conn, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accept an invitation with the secret from its mail, signed in with the invited address.
/// Accepting it again answers the same and changes nothing; so does accepting when already a member.
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = []), ("personal_token" = ["cohorts:write"])),
    request_body = AcceptInvitation,
    responses(
        (status = 200, description = "You are a member; the cohort as you now see it", body = Cohort),
        (status = 403, description = "`invitation_for_other_address`: sign in with the invited address", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, response = Conflict),
        (status = 410, description = "`invitation_invalid`: unknown, expired, revoked or used", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<AcceptInvitation>,
) -> ApiResult<web::Json<Cohort>> {
    access::authorize_own(&caller, OwnAction::JoinCohort)?;
    caller.require_confirmed_address()?;
    let mut checks = Checks::new();
    let token = checks.require("token", body.0.token, |t: String| Ok(t));
    checks.finish()?;
    let now = state.now();
    let cohort = state
        .db
        .write(move |conn| {
            let gone = || ApiError::Gone {
                code: "invitation_invalid",
                detail: "This invitation is unknown, has expired, was revoked or was already used.".to_string(),
            };
            let invitation = store::by_token(conn, &secrets::hash(&token))?.ok_or_else(gone)?;
            let accepted_by_caller = invitation.accepted_by.as_ref() == Some(caller.user_id());
            if invitation.state(now) != InvitationState::Pending && !accepted_by_caller {
                return Err(gone());
            }
            if invitation.email_lower != caller.user.email_lower {
                return Err(ApiError::Forbidden {
                    code: "invitation_for_other_address",
                    detail: "This invitation is for another address: sign in with the address it was sent to."
                        .to_string(),
                });
            }
            let cohort = cohorts::find_cohort(conn, &invitation.cohort_id)?.ok_or_else(gone)?;
            if !accepted_by_caller {
                if cohort.archived_at.is_some() {
                    return Err(ApiError::conflict("cohort_archived", "This cohort is archived and read-only."));
                }
                cohorts::lock_cohort(conn, &cohort.id)?;
                if !store::accept(conn, &invitation.id, caller.user_id(), now)? {
                    return Err(gone());
                }
                let role = invitation.role;
                members::admit(conn, &cohort.id, caller.user_id(), role, "invitation", now)?;
                // The mail reached them: the address is theirs.
                let session = match &caller.credential {
                    crate::auth::caller::Credential::SignIn { session_id } => session_id.as_str(),
                    crate::auth::caller::Credential::Token { .. } => "",
                };
                crate::auth::routes::confirm_email(
                    conn,
                    caller.user_id(),
                    crate::auth::routes::Proof::SignedIn(session),
                    now,
                )?;
                NewEvent::by_in_cohort(ev::InvitationAccepted {}, caller.user_id(), &cohort.id, &invitation.id)
                    .record(conn, now)?;
            }
            let membership = cohorts::membership(conn, &cohort.id, caller.user_id())?.ok_or_else(gone)?;
            if membership.state() == MemberState::Left {
                return Err(gone()); // they accepted once, then left: the invitation is spent
            }
            let count = cohorts::member_count(conn, &cohort.id)?;
            Ok(Cohort::new(cohort, &membership, count))
        })
        .await?;
    Ok(web::Json(cohort))
}
