//! `/api/v1/cohorts/{cohort_id}/members`: who is in a cohort, their roles and states; and
//! `admit`, the one way anybody enters a cohort (invitation or invite link).

use actix_web::{HttpResponse, delete, get, patch, web};
use chrono::{DateTime, Utc};

use super::access::{self, Access, Action};
use super::model::{Member, MemberFilter, MemberState, MembershipRow, Role, UpdateMember};
use super::rules::{self, Refusal};
use super::store;
use crate::auth::Caller;
use crate::db::{AnyConnection, CohortId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::state::AppState;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_members).service(update_member).service(remove_member);
}

/// How someone came into a cohort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Joined,
    Rejoined,
    AlreadyMember,
}

/// Makes the user an active member with `role`, or leaves an existing membership as it is
/// (joining twice changes nothing). Someone who had left comes back with `role`.
pub fn admit(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    user_id: &UserId,
    role: Role,
    via: &str,
    now: DateTime<Utc>,
) -> ApiResult<Admission> {
    let admission = match store::membership(conn, cohort_id, user_id)? {
        Some(existing) if existing.state() != MemberState::Left => return Ok(Admission::AlreadyMember),
        Some(_) => {
            store::set_membership(conn, cohort_id, user_id, role, MemberState::Active, true, now)?;
            Admission::Rejoined
        }
        None => {
            store::insert_membership(
                conn,
                &MembershipRow {
                    cohort_id: cohort_id.clone(),
                    user_id: user_id.clone(),
                    role,
                    state: MemberState::Active,
                    joined_at: now.naive_utc(),
                    state_changed_at: now.naive_utc(),
                },
            )?;
            Admission::Joined
        }
    };
    let joined = ev::MemberJoined { role, via: via.to_string() };
    NewEvent::new(joined, user_id).by(user_id).in_cohort(cohort_id).record(conn, now)?;
    Ok(admission)
}

/// A cohort's members, in the order they joined; filter by `role` and `state`.
#[utoipa::path(
    tag = "members",
    security(("bearer" = []), ("personal_token" = ["cohorts:read"])),
    params(("cohort_id" = String, Path, format = Uuid), MemberFilter, PageParams),
    responses((status = 200, body = inline(Page<Member>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    filter: crate::http::Query<MemberFilter>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<Member>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, filter, request) = (path.into_inner(), filter.into_inner(), page.clone());
    let (rows, show_email) = state
        .db
        .read(move |conn| {
            let access = access::authorize(conn, &caller, &cohort_id, Action::ReadMembers)?;
            Ok((store::members(conn, &cohort_id, &filter, &request)?, access.role() == Role::Organizer))
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        &page,
        |(m, _, _)| Cursor { created_at: m.joined_at, id: m.user_id.to_string() },
        |(m, display_name, email)| member_view(m, display_name, email, show_email),
    )))
}

fn member_view(m: MembershipRow, display_name: String, email: String, show_email: bool) -> Member {
    Member {
        role: m.role(),
        state: m.state(),
        user_id: m.user_id,
        display_name,
        email: show_email.then_some(email),
        joined_at: m.joined_at.and_utc(),
        state_changed_at: m.state_changed_at.and_utc(),
    }
}

/// Applies a role and/or state change to a membership, within the rules.
fn change_membership(
    conn: &mut AnyConnection,
    caller: &Caller,
    cohort_id: &CohortId,
    user_id: &UserId,
    change: UpdateMember,
    now: DateTime<Utc>,
) -> ApiResult<Access> {
    let own_state_only = user_id == caller.user_id() && change.role.is_none();
    let action = if own_state_only { Action::ChangeOwnMembership } else { Action::ManageMembers };
    // Serialise membership changes in this cohort, and decide on roles as they are once the lock
    // is held: two organizers demoting each other at the same moment cannot leave it without one.
    store::lock_cohort(conn, cohort_id)?;
    let access = access::authorize(conn, caller, cohort_id, action)?;
    let current = store::membership(conn, cohort_id, user_id)?.ok_or(ApiError::NotFound)?;
    let from = (current.role(), current.state());
    let to = (change.role.unwrap_or(from.0), change.state.unwrap_or(from.1));
    let others = store::other_active_organizers(conn, cohort_id, user_id)?;
    rules::check_change(from, to, others).map_err(|refusal| match refusal {
        Refusal::LastOrganizer => ApiError::conflict(
            "last_organizer",
            "A cohort needs an active organizer: make someone else organizer first.",
        ),
        Refusal::HasLeft => {
            ApiError::conflict("member_left", "This member has left; invite them again to bring them back.")
        }
    })?;
    if from == to {
        return Ok(access);
    }
    store::set_membership(conn, cohort_id, user_id, to.0, to.1, from.1 != to.1, now)?;
    if to.1 == MemberState::Left && from.1 != MemberState::Left && user_id != caller.user_id() {
        store::mark_removed(conn, cohort_id, user_id, caller.user_id())?;
    }
    if from.0 != to.0 {
        let changed = ev::MemberRoleChanged { from: from.0, to: to.0 };
        NewEvent::new(changed, user_id).by(caller.user_id()).in_cohort(cohort_id).record(conn, now)?;
    }
    if from.1 != to.1 {
        // The rota reacts: their upcoming duties go back to it unless they are active.
        let changed = ev::MemberStateChanged { from: from.1, to: to.1 };
        NewEvent::new(changed, user_id).by(caller.user_id()).in_cohort(cohort_id).record(conn, now)?;
    }
    Ok(access)
}

/// Change a membership. Members pause, resume or leave their own (`state`); organizers change
/// anyone's `role` and `state`. The last active organizer cannot step down (409 `last_organizer`).
#[utoipa::path(
    tag = "members",
    security(("bearer" = []), ("personal_token" = ["cohorts:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("user_id" = String, Path, format = Uuid)),
    request_body = UpdateMember,
    responses((status = 200, body = Member), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[patch("/cohorts/{cohort_id}/members/{user_id}")]
pub async fn update_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, UserId)>,
    body: JsonBody<UpdateMember>,
) -> ApiResult<web::Json<Member>> {
    let ((cohort_id, user_id), now) = (path.into_inner(), state.now());
    let member = state
        .db
        .write(move |conn| {
            let access = change_membership(conn, &caller, &cohort_id, &user_id, body.0.clone(), now)?;
            let (m, display_name, email) = store::member(conn, &cohort_id, &user_id)?.ok_or(ApiError::NotFound)?;
            let show_email = access.role() == Role::Organizer || user_id == *caller.user_id();
            Ok(member_view(m, display_name, email, show_email))
        })
        .await?;
    Ok(web::Json(member))
}

/// Remove a member (organizers), or leave (yourself). The same as setting `state` to `left`.
#[utoipa::path(
    tag = "members",
    security(("bearer" = []), ("personal_token" = ["cohorts:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("user_id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Removed"), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[delete("/cohorts/{cohort_id}/members/{user_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, UserId)>,
) -> ApiResult<HttpResponse> {
    let ((cohort_id, user_id), now) = (path.into_inner(), state.now());
    let leave = UpdateMember { role: None, state: Some(MemberState::Left) };
    state
        .db
        .write(move |conn| change_membership(conn, &caller, &cohort_id, &user_id, leave.clone(), now).map(|_| ()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
