//! Offering a skill share, and approving one.

use super::*;

/// Offer a skill share on a session that has not started. When the cohort asks for approval
/// (`skill-share-settings`), a member's offer waits as `proposed` for a facilitator; otherwise,
/// and for facilitators' own offers, it goes on the session's agenda at once, after the skill
/// shares already there: the agenda's other boxes shrink to fit, or the offer answers 422 on
/// `agenda` when the session has no room.
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:write"])),
    params(("session_id" = String, Path, format = Uuid), ("idempotency-key" = Option<String>, Header, description = "Retrying with the same key returns the first answer")),
    request_body = NewSkillShare,
    responses((status = 201, body = SkillShare), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/sessions/{session_id}/skill-shares")]
pub async fn offer_skill_share(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SessionId>,
    body: JsonBody<NewSkillShare>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut checks = Checks::new();
    let title = checks.require("title", body.title, validation::label);
    let summary = checks.optional("summary", body.summary, validation::text_up_to(1000)).unwrap_or_default();
    let length = checks.require("minutes", body.minutes, minutes);
    let places = checks.optional("capacity", body.capacity, capacity);
    checks.finish()?;
    let (session_id, now) = (path.into_inner(), state.now());
    let slot = state
        .db
        .write(move |conn| {
            let session = sessions::find_session(conn, &session_id)?.ok_or(ApiError::NotFound)?;
            let cohort_id = session.cohort_id.clone();
            let access = access::authorize(conn, &caller, &cohort_id, Action::TakePartInSkillShares)?;
            sessions::lock_session(conn, &session.id)?;
            let session = session_row(conn, &session_id)?;
            open_session(&session, now)?;
            if let Some(experiment) = &body.experiment_id {
                check_experiment(conn, &cohort_id, caller.user_id(), experiment)?;
            }
            if store::count_slots_of_session(conn, session_id.as_str())? >= MAX_PER_SESSION {
                return Err(ApiError::conflict(
                    "too_many_skill_shares",
                    format!("This session has {MAX_PER_SESSION} skill shares already, the most one session holds."),
                ));
            }
            let needs_approval = store::approval_required(conn, &cohort_id)? && access.role() < Role::Facilitator;
            let row = SlotRow {
                id: new_id(),
                cohort_id: cohort_id.clone(),
                session_id: session_id.clone(),
                presenter_id: caller.user_id().clone(),
                title: title.clone(),
                summary: summary.clone(),
                minutes: length,
                capacity: places,
                experiment_id: body.experiment_id.clone(),
                status: if needs_approval { SlotStatus::Proposed } else { SlotStatus::Approved },
                next_arrival: 1,
                approved_by: None,
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
            };
            store::insert_slot(conn, &row)?;
            let offered = ev::SkillShareOffered { session_id: session_id.to_string(), approval_needed: needs_approval };
            slot_event(offered, &caller, &row).record(conn, now)?;
            if !needs_approval {
                put_on_agenda(conn, &caller, &row, now)?;
                slot_event(ev::SkillShareApproved { session_id: session_id.to_string() }, &caller, &row)
                    .record(conn, now)?;
            }
            view::view(conn, &row.id, caller.user_id(), now)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/skill-shares/{}", slot.id)))
        .json(slot))
}

/// Approve a proposed skill share (facilitators): it goes on its session's agenda after the skill
/// shares already there, the other boxes shrinking to fit; 422 on `agenda` when the session has
/// no room. Approving an approved one changes nothing.
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:write"])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = SkillShare), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/skill-shares/{id}/approve")]
pub async fn approve_skill_share(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<web::Json<SkillShare>> {
    let (id, now) = (path.into_inner(), state.now());
    let slot = state
        .db
        .write(move |conn| {
            let (_, mut slot) = locked_slot(conn, &caller, &id, Action::RunSkillShares, true)?;
            match slot.status {
                SlotStatus::Approved => return view::view(conn, &slot.id, caller.user_id(), now),
                SlotStatus::Proposed => {}
                SlotStatus::OfferedBack => {
                    return Err(ApiError::conflict(
                        "session_cancelled",
                        "Its session was cancelled; move it to another session first.",
                    ));
                }
                SlotStatus::Withdrawn => not_withdrawn(&slot)?,
            }
            open_session(&session_row(conn, &slot.session_id)?, now)?;
            slot.status = SlotStatus::Approved;
            slot.approved_by = Some(caller.user_id().clone());
            slot.updated_at = now.naive_utc();
            store::save_slot(conn, &slot)?;
            put_on_agenda(conn, &caller, &slot, now)?;
            let approved = ev::SkillShareApproved { session_id: slot.session_id.to_string() };
            slot_event(approved, &caller, &slot).record(conn, now)?;
            view::view(conn, &slot.id, caller.user_id(), now)
        })
        .await?;
    Ok(web::Json(slot))
}
