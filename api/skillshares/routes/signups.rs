//! Sign-ups: taking a place (or a place on the waitlist), leaving, a facilitator adding or
//! removing someone, and who is in.

use super::*;

/// 409 `signups_closed` unless the slot takes sign-ups now: approved, its session neither
/// cancelled nor started.
fn signups_now(conn: &mut AnyConnection, slot: &SlotRow, now: DateTime<Utc>) -> ApiResult<()> {
    let session = session_row(conn, &slot.session_id)?;
    if signups_open(slot.status, session.status(), session.starts_at.and_utc(), now) {
        return Ok(());
    }
    let why = match slot.status {
        SlotStatus::Proposed => "It waits for a facilitator's approval.",
        SlotStatus::OfferedBack => "Its session was cancelled.",
        SlotStatus::Withdrawn => "It was withdrawn.",
        SlotStatus::Approved if session.status() == SessionStatus::Cancelled => "Its session was cancelled.",
        SlotStatus::Approved => "Its session has started.",
    };
    Err(ApiError::conflict("signups_closed", format!("This skill share takes no sign-ups now. {why}")))
}

/// Sign up for a skill share. A place while one is free (`attending`), else the first-come
/// waitlist (`waitlisted`, with your `position`; 1 is next): 201. Signing up again answers your
/// place as it is (200). A facilitator may sign up another active member (`user_id`), who then
/// attends at once, past capacity if need be. The presenter never signs up for their own (409
/// `presenter_cannot_sign_up`); sign-ups close when the session starts (409 `signups_closed`).
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:write"])),
    params(("id" = String, Path, format = Uuid), ("idempotency-key" = Option<String>, Header, description = "Retrying with the same key returns the first answer")),
    request_body(content = Option<NewSignup>, description = "Optional: leave out to sign yourself up"),
    responses(
        (status = 201, body = SignupResult, description = "Signed up"),
        (status = 200, body = SignupResult, description = "Already signed up: your place as it is"),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict)
    )
)]
#[post("/skill-shares/{id}/signups")]
pub async fn sign_up_for_skill_share(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: OptionalJsonBody<NewSignup>,
) -> ApiResult<HttpResponse> {
    let (id, target, now) = (path.into_inner(), body.0.user_id, state.now());
    // One transaction: an answer read after the commit would need a second connection, and a
    // 503 there would hide a sign-up that was made.
    let (created, result) = state
        .db
        .write(move |conn| {
            let (_, slot) = slot_access(conn, &caller, &id, Action::TakePartInSkillShares)?;
            let user_id = target.clone().unwrap_or_else(|| caller.user_id().clone());
            let for_someone_else = user_id != *caller.user_id();
            if for_someone_else {
                access::authorize(conn, &caller, &slot.cohort_id, Action::RunSkillShares)?;
                let active = crate::cohorts::store::membership(conn, &slot.cohort_id, &user_id)?
                    .is_some_and(|m| m.state() == MemberState::Active);
                if !active {
                    return Err(ApiError::invalid(
                        "user_id",
                        "not_a_member",
                        "must be an active member of this cohort",
                    ));
                }
            }
            store::lock_slot(conn, &slot.id)?;
            let mut slot = store::find_slot(conn, &slot.id)?.ok_or(ApiError::NotFound)?;
            signups_now(conn, &slot, now)?;
            if slot.presenter_id == user_id {
                return Err(ApiError::conflict(
                    "presenter_cannot_sign_up",
                    "The presenter runs this skill share and does not take one of its places.",
                ));
            }
            let added_by = for_someone_else.then(|| caller.user_id().clone());
            let joined = roster::sign_up(conn, &mut slot, &user_id, caller.user_id(), added_by.as_ref(), now)?;
            let user =
                store::people(conn, std::slice::from_ref(&user_id))?.remove(&user_id).ok_or(ApiError::NotFound)?;
            let skill_share = view::view(conn, &slot.id, caller.user_id(), now)?;
            Ok((joined.changed, SignupResult { status: joined.status, position: joined.position, user, skill_share }))
        })
        .await?;
    let mut response = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(response.json(result))
}

/// Give up your place, or leave the waitlist, before the session starts; the first on the
/// waitlist moves up into a freed place in the same transaction. Leaving when you hold no place
/// changes nothing.
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:write"])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Left"), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[delete("/skill-shares/{id}/signups/me")]
pub async fn leave_skill_share(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (id, now) = (path.into_inner(), state.now());
    state
        .db
        .write(move |conn| {
            let (_, slot) = locked_slot(conn, &caller, &id, Action::TakePartInSkillShares, false)?;
            if store::signup_of(conn, &slot.id, caller.user_id())?.is_none() {
                return Ok(());
            }
            crate::sessions::started(session_row(conn, &slot.session_id)?.starts_at.and_utc(), now)?;
            roster::leave(conn, &slot, caller.user_id(), caller.user_id(), None, now).map(|_| ())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Take someone's place or waitlist entry away (facilitators), before the session starts; the
/// first on the waitlist moves up into a freed place. Removing someone who holds no place
/// changes nothing.
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:write"])),
    params(("id" = String, Path, format = Uuid), ("user_id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Removed"), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[delete("/skill-shares/{id}/signups/{user_id}")]
pub async fn remove_skill_share_signup(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, UserId)>,
) -> ApiResult<HttpResponse> {
    let ((id, user_id), now) = (path.into_inner(), state.now());
    state
        .db
        .write(move |conn| {
            let (_, slot) = locked_slot(conn, &caller, &id, Action::RunSkillShares, false)?;
            if store::signup_of(conn, &slot.id, &user_id)?.is_none() {
                return Ok(());
            }
            crate::sessions::started(session_row(conn, &slot.session_id)?.starts_at.and_utc(), now)?;
            roster::leave(conn, &slot, &user_id, caller.user_id(), Some(caller.user_id()), now).map(|_| ())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who has a place and who waits (with positions; 1 is next), in arrival order. Complete: at
/// most the cohort's members.
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:read"])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Signups), (status = 404, response = NotFound))
)]
#[get("/skill-shares/{id}/signups")]
pub async fn skill_share_signups(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<web::Json<Signups>> {
    let id = path.into_inner();
    let result = state
        .db
        .read(move |conn| {
            let (_, slot) = slot_access(conn, &caller, &id, Action::ReadSkillShares)?;
            let rows = store::signups_with_people(conn, &slot.id)?;
            let adders: Vec<UserId> = rows.iter().filter_map(|(r, _)| r.added_by.clone()).collect();
            let adders = if adders.is_empty() { Default::default() } else { store::people(conn, &adders)? };
            let (mut attending, mut waitlist) = (Vec::new(), Vec::new());
            for (row, name) in rows {
                let signup = Signup {
                    added_by: row.added_by.as_ref().and_then(|a| adders.get(a).cloned()),
                    user: crate::people::Person::new(row.user_id, name),
                    status: row.status,
                    position: None,
                    signed_up_at: row.created_at.and_utc(),
                };
                match row.status {
                    SignupStatus::Attending => attending.push(signup),
                    SignupStatus::Waitlisted => {
                        // In arrival order already: the position is the place in this list.
                        waitlist.push(Signup { position: Some(waitlist.len() as i64 + 1), ..signup });
                    }
                }
            }
            Ok(Signups { attending, waitlist })
        })
        .await?;
    Ok(web::Json(result))
}
