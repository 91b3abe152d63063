//! `PUT /sessions/{session_id}/notes`.

use super::*;

/// The most action items one session's notes may carry.
pub const MAX_ACTION_ITEMS: usize = 50;

/// Write the notes (Markdown) and action items (facilitators and organizers, or whoever is on duty
/// in the session, e.g. the note-taker); `publish` shares them with the members. The list of
/// action items (at most 50) replaces the previous one as a whole; an item's `owner_id` must be an
/// active member of the cohort (422 `not_a_member` naming `action_items[i].owner_id`). The writer
/// is shown as `notes_author`.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = []), ("personal_token" = ["sessions:write"])),
    params(("session_id" = String, Path, format = Uuid)),
    request_body = NotesRequest,
    responses((status = 200, body = Session), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[put("/sessions/{session_id}/notes")]
pub async fn write_notes(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SessionId>,
    body: JsonBody<NotesRequest>,
) -> ApiResult<web::Json<Session>> {
    let body = body.0;
    let mut checks = Checks::new();
    let notes = checks.optional("notes", body.notes, validation::markdown_up_to(20_000));
    if let Some(items) = &body.action_items {
        if items.len() > MAX_ACTION_ITEMS {
            checks
                .fail("action_items", Invalid::new("too_many", format!("must have at most {MAX_ACTION_ITEMS} items")));
        }
        for (i, item) in items.iter().enumerate() {
            if let Err(invalid) = validation::nonblank_text_up_to(500)(item.text.clone()) {
                checks.fail(&format!("action_items[{i}].text"), invalid);
            }
            if let Some(Err(invalid)) = item.due_on.map(|d| year_in_range(d.year())) {
                checks.fail(&format!("action_items[{i}].due_on"), invalid);
            }
        }
    }
    checks.finish()?;
    update_session(
        &state,
        caller,
        path.into_inner(),
        Action::KeepSessionRecord,
        move |conn, caller, access, session, now| {
            let on_duty = crate::rota::store::holds_duty(conn, &session.id, caller.user_id())?;
            access::on_duty_or_facilitator(access, on_duty)?;
            if let Some(items) = &body.action_items {
                let owners = items.iter().enumerate().filter_map(|(i, item)| {
                    item.owner_id.as_deref().map(|id| (format!("action_items[{i}].owner_id"), id))
                });
                check_active_members(conn, &session.cohort_id, owners)?;
            }
            if let Some(notes) = notes.clone() {
                session.notes = notes;
                store::set_notes_author(conn, &session.id, caller.user_id())?;
            }
            if let Some(items) = &body.action_items {
                store::replace_action_items(conn, &session.id, items, now)?;
            }
            if body.publish == Some(true) && session.notes_published_at.is_none() {
                session.notes_published_at = Some(now.naive_utc());
                session_event(ev::SessionNotesPublished {}, caller, session).record(conn, now)?;
            }
            Ok(())
        },
    )
    .await
}
