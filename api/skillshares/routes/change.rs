//! Changing a skill share (its presenter; a facilitator also reorders and moves it), and
//! withdrawing one.

use super::*;

/// Change a skill share before its session starts. Its presenter (or a facilitator) changes the
/// title, summary, minutes, capacity and experiment: new minutes must fit the agenda (422 on
/// `agenda`), and more places promote from the waitlist at once, in arrival order. A facilitator
/// also reorders it among the session's skill shares (`position`) and moves it to another
/// upcoming session of the cohort (`session_id`), its sign-ups with it; a presenter moves their
/// own only while it is proposed or offered back (its session was cancelled).
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:write"])),
    params(("id" = String, Path, format = Uuid)),
    request_body = SkillShareChange,
    responses((status = 200, body = SkillShare), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[patch("/skill-shares/{id}")]
pub async fn change_skill_share(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<SkillShareChange>,
) -> ApiResult<web::Json<SkillShare>> {
    let body = body.0;
    let mut checks = Checks::new();
    let title = checks.optional("title", body.title, validation::label);
    let summary = checks.optional("summary", body.summary, validation::text_up_to(1000));
    let length = checks.optional("minutes", body.minutes, minutes);
    let places = body.capacity.map(|c| checks.optional("capacity", c, capacity));
    let position = checks.optional("position", body.position, |p: i64| {
        if (1..=MAX_PER_SESSION).contains(&p) {
            Ok(p as usize)
        } else {
            Err(Invalid::new("out_of_range", format!("must be between 1 and {MAX_PER_SESSION}")))
        }
    });
    checks.finish()?;
    let (id, experiment, target, now) = (path.into_inner(), body.experiment_id, body.session_id, state.now());
    let slot = state
        .db
        .write(move |conn| {
            let (access, mut slot) = locked_slot(conn, &caller, &id, Action::TakePartInSkillShares, true)?;
            not_withdrawn(&slot)?;
            presenter_or_facilitator(&access, &caller, &slot)?;
            let facilitator = access.role() >= Role::Facilitator;
            let only_facilitators =
                |what: &str| ApiError::Forbidden { code: "forbidden", detail: format!("Only a facilitator {what}.") };
            let old_session = session_row(conn, &slot.session_id)?;
            crate::sessions::started(old_session.starts_at.and_utc(), now)?;
            let target = target.clone().filter(|t| *t != slot.session_id);
            if target.is_some() && !facilitator && slot.status == SlotStatus::Approved {
                return Err(only_facilitators("moves a skill share that is on the agenda"));
            }
            if position.is_some() && !facilitator {
                return Err(only_facilitators("reorders the agenda"));
            }
            let mut changed: Vec<String> = Vec::new();
            if let Some(title) = &title {
                slot.title = title.clone();
                changed.push("title".into());
            }
            if let Some(summary) = &summary {
                slot.summary = summary.clone();
                changed.push("summary".into());
            }
            if let Some(length) = length {
                slot.minutes = length;
                changed.push("minutes".into());
            }
            if let Some(places) = places {
                slot.capacity = places;
                changed.push("capacity".into());
            }
            if let Some(experiment) = &experiment {
                if let Some(experiment_id) = experiment {
                    check_experiment(conn, &slot.cohort_id, &slot.presenter_id, experiment_id)?;
                }
                slot.experiment_id = experiment.clone();
                changed.push("experiment_id".into());
            }
            slot.updated_at = now.naive_utc();
            let mut moved = None;
            if let Some(to) = target {
                let new_session = sessions::find_session(conn, &to)?
                    .filter(|s| s.cohort_id.as_str() == slot.cohort_id.as_str())
                    .ok_or_else(|| ApiError::invalid("session_id", "not_found", "is not a session of this cohort"))?;
                sessions::lock_session(conn, &new_session.id)?;
                let new_session = session_row(conn, &to)?;
                if open_session(&new_session, now).is_err() {
                    return Err(ApiError::invalid(
                        "session_id",
                        "not_open",
                        "must be a session that has not started and is not cancelled",
                    ));
                }
                if store::count_slots_of_session(conn, to.as_str())? >= MAX_PER_SESSION {
                    return Err(ApiError::invalid(
                        "session_id",
                        "too_many_skill_shares",
                        format!("that session has {MAX_PER_SESSION} skill shares already"),
                    ));
                }
                let was_on_agenda = agenda::skill_share_position(&old_session.agenda(), &slot.id).is_some();
                roster::take_off_agenda(conn, caller.user_id(), &slot.session_id, &slot.id, now)?;
                if slot.status == SlotStatus::OfferedBack {
                    slot.status = if was_on_agenda { SlotStatus::Approved } else { SlotStatus::Proposed };
                }
                moved = Some(std::mem::replace(&mut slot.session_id, to));
            }
            store::save_slot(conn, &slot)?;
            let on_agenda_changed = moved.is_some() || title.is_some() || length.is_some();
            if slot.status == SlotStatus::Approved && on_agenda_changed {
                put_on_agenda(conn, &caller, &slot, now)?;
            }
            if let Some(position) = position {
                if slot.status != SlotStatus::Approved {
                    return Err(ApiError::conflict(
                        "not_on_agenda",
                        "Only an approved skill share has a place on the agenda.",
                    ));
                }
                let session = session_row(conn, &slot.session_id)?;
                let items = agenda::move_skill_share(&session.agenda(), &slot.id, position);
                roster::save_agenda(conn, caller.user_id(), session, &items, now)?;
                changed.push("position".into());
            }
            if let Some(from) = moved {
                let payload = ev::SkillShareMoved {
                    from_session_id: from.to_string(),
                    to_session_id: slot.session_id.to_string(),
                };
                slot_event(payload, &caller, &slot).record(conn, now)?;
            }
            if !changed.is_empty() {
                slot_event(ev::SkillShareChanged { changed }, &caller, &slot).record(conn, now)?;
            }
            if places.is_some() {
                roster::promote(conn, &slot, caller.user_id(), now)?;
            }
            view::view(conn, &slot.id, caller.user_id(), now)
        })
        .await?;
    Ok(web::Json(slot))
}

/// Withdraw a skill share before its session starts (its presenter, or a facilitator): its box
/// leaves the agenda and its sign-ups end. Withdrawing a withdrawn one changes nothing.
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:write"])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Withdrawn"), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[delete("/skill-shares/{id}")]
pub async fn withdraw_skill_share(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (id, now) = (path.into_inner(), state.now());
    state
        .db
        .write(move |conn| {
            let (access, mut slot) = locked_slot(conn, &caller, &id, Action::TakePartInSkillShares, true)?;
            presenter_or_facilitator(&access, &caller, &slot)?;
            if slot.status == SlotStatus::Withdrawn {
                return Ok(());
            }
            crate::sessions::started(session_row(conn, &slot.session_id)?.starts_at.and_utc(), now)?;
            roster::take_off_agenda(conn, caller.user_id(), &slot.session_id, &slot.id, now)?;
            slot.status = SlotStatus::Withdrawn;
            slot.updated_at = now.naive_utc();
            store::save_slot(conn, &slot)?;
            slot_event(ev::SkillShareWithdrawn {}, &caller, &slot).record(conn, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
