//! `/api/v1/cohorts/{cohort_id}/charter/versions`: propose, edit, discuss, endorse and adopt
//! charter versions; and the diff between two of them.

use actix_web::http::header;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};

use super::diff::diff;
use super::fields::{self, ValidFields};
use super::model::{
    CharterDiff, CharterFields, CharterVersion, DiffParams, DraftChanges, VersionFilter, VersionRow, VersionState,
    list_to,
};
use super::review::ReviewCadence;
use super::store;
use crate::auth::Caller;
use crate::cohorts::access::{self, Action};
use crate::cohorts::store as cohorts;
use crate::comments::{Comment, NewComment};
use crate::db::{AnyConnection, CohortId, UserId, new_id};
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::state::AppState;
use crate::validation::Checks;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_versions)
        .service(propose)
        .service(get_version)
        .service(edit_draft)
        .service(adopt)
        .service(endorse)
        .service(list_comments)
        .service(comment)
        .service(compare);
}

/// A version as the caller sees it, with its counts.
pub fn version_view(conn: &mut AnyConnection, row: VersionRow, user_id: &UserId) -> ApiResult<CharterVersion> {
    let tally = store::tallies(conn, std::slice::from_ref(&row.id), user_id)?.remove(&row.id).unwrap_or_default();
    Ok(CharterVersion::new(row, tally))
}

fn draft_of(conn: &mut AnyConnection, cohort_id: &CohortId, version_id: &str) -> ApiResult<VersionRow> {
    let version = store::find_version(conn, cohort_id, version_id)?.ok_or(ApiError::NotFound)?;
    if version.state() != VersionState::Draft {
        return Err(ApiError::conflict("version_not_draft", "Adopted and superseded versions never change."));
    }
    Ok(version)
}

/// A cohort's charter versions (drafts, adopted, superseded), oldest first.
#[utoipa::path(
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:read"])),
    params(("cohort_id" = String, Path, format = Uuid), VersionFilter, PageParams),
    responses((status = 200, body = inline(Page<CharterVersion>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/charter/versions")]
pub async fn list_versions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    filter: crate::http::Query<VersionFilter>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<CharterVersion>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, version_state, request) = (path.into_inner(), filter.state, page.clone());
    let (rows, mut tallies) = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadCharter)?;
            let rows = store::list(conn, &cohort_id, version_state, &request)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            Ok((rows, store::tallies(conn, &ids, caller.user_id())?))
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        &page,
        |row: &VersionRow| Cursor { created_at: row.created_at, id: row.id.clone() },
        |row| {
            let tally = tallies.remove(&row.id).unwrap_or_default();
            CharterVersion::new(row, tally)
        },
    )))
}

/// Propose a new version (any active member). It starts as a draft that its author may edit,
/// others comment on and endorse, and a facilitator or organizer adopts.
#[utoipa::path(
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = CharterFields,
    responses((status = 201, body = CharterVersion, headers(("location" = String))), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/charter/versions")]
pub async fn propose(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<CharterFields>,
) -> ApiResult<HttpResponse> {
    let fields = fields::check(body.0, true)?;
    let cadence =
        fields.review_cadence.ok_or_else(|| ApiError::invalid("review_cadence", "required", "is required"))?;
    let (cohort_id, now) = (path.into_inner(), state.now());
    let location_base = format!("/api/v1/cohorts/{cohort_id}/charter/versions");
    let version = state
        .db
        .write(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ProposeCharter)?;
            let based_on = store::current(conn, &cohort_id)?.map(|v| v.id);
            let row = new_draft(&cohort_id, caller.user_id(), based_on, fields.clone(), cadence, now);
            store::insert_version(conn, &row)?;
            NewEvent::by_in_cohort(ev::CharterProposed {}, caller.user_id(), &cohort_id, &row.id).record(conn, now)?;
            version_view(conn, row, caller.user_id())
        })
        .await?;
    let location = format!("{location_base}/{}", version.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(version))
}

fn new_draft(
    cohort_id: &CohortId,
    author: &UserId,
    based_on: Option<String>,
    f: ValidFields,
    cadence: ReviewCadence,
    now: DateTime<Utc>,
) -> VersionRow {
    VersionRow {
        id: new_id(),
        cohort_id: cohort_id.clone(),
        number: None,
        state: VersionState::Draft,
        author_id: Some(author.clone()),
        based_on_id: based_on,
        mission: f.mission.unwrap_or_default(),
        goals: list_to(&f.goals.unwrap_or_default()),
        weekly_minutes: f.weekly_minutes.unwrap_or_default(),
        learning_formats: list_to(&f.learning_formats.unwrap_or_default()),
        other_learning_formats: list_to(&f.other_learning_formats.unwrap_or_default()),
        norms: f.norms.unwrap_or_default(),
        confidentiality: f.confidentiality.unwrap_or_default(),
        project_kinds: list_to(&f.project_kinds.unwrap_or_default()),
        review_every: cadence.every as i32,
        review_unit: cadence.unit,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        adopted_at: None,
        adopted_by: None,
    }
}

/// One charter version.
#[utoipa::path(
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:read"])),
    params(("cohort_id" = String, Path, format = Uuid), ("version_id" = String, Path, format = Uuid)),
    responses((status = 200, body = CharterVersion), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/charter/versions/{version_id}")]
pub async fn get_version(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, String)>,
) -> ApiResult<web::Json<CharterVersion>> {
    let (cohort_id, version_id) = path.into_inner();
    let version = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadCharter)?;
            let row = store::find_version(conn, &cohort_id, &version_id)?.ok_or(ApiError::NotFound)?;
            version_view(conn, row, caller.user_id())
        })
        .await?;
    Ok(web::Json(version))
}

/// Edit your own draft; fields left out stay as they are. Editing also brings the draft up to
/// date with the version that is current now (see `based_on_id`).
#[utoipa::path(
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("version_id" = String, Path, format = Uuid)),
    request_body = CharterFields,
    responses(
        (status = 200, body = CharterVersion),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
#[patch("/cohorts/{cohort_id}/charter/versions/{version_id}")]
pub async fn edit_draft(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, String)>,
    body: JsonBody<CharterFields>,
) -> ApiResult<web::Json<CharterVersion>> {
    let f = fields::check(body.0, false)?;
    let ((cohort_id, version_id), now) = (path.into_inner(), state.now());
    let version = state
        .db
        .write(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ProposeCharter)?;
            let draft = draft_of(conn, &cohort_id, &version_id)?;
            if draft.author_id.as_ref() != Some(caller.user_id()) {
                return Err(ApiError::Forbidden {
                    code: "not_author",
                    detail: "Only its author edits a draft; comment on it or propose your own.".to_string(),
                });
            }
            let changes = DraftChanges {
                based_on_id: Some(store::current(conn, &cohort_id)?.map(|v| v.id)),
                mission: f.mission.clone(),
                goals: f.goals.as_deref().map(list_to),
                weekly_minutes: f.weekly_minutes,
                learning_formats: f.learning_formats.as_deref().map(list_to),
                other_learning_formats: f.other_learning_formats.as_deref().map(list_to),
                norms: f.norms.clone(),
                confidentiality: f.confidentiality.clone(),
                project_kinds: f.project_kinds.as_deref().map(list_to),
                review_every: f.review_cadence.map(|c| c.every as i32),
                review_unit: f.review_cadence.map(|c| c.unit),
                updated_at: Some(now.naive_utc()),
            };
            store::update_draft(conn, &version_id, &changes)?;
            NewEvent::by_in_cohort(ev::CharterEdited {}, caller.user_id(), &cohort_id, &version_id)
                .record(conn, now)?;
            let row = store::find_version(conn, &cohort_id, &version_id)?.ok_or(ApiError::NotFound)?;
            version_view(conn, row, caller.user_id())
        })
        .await?;
    Ok(web::Json(version))
}

/// Adopt a draft (facilitators and organizers): it becomes the current charter with the next
/// number, the previous one is superseded, and every member is asked to accept it. A draft
/// proposed before the current version was adopted must be edited first (409 `draft_outdated`),
/// so two adoptions racing cannot both win.
#[utoipa::path(
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("version_id" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = CharterVersion),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
#[post("/cohorts/{cohort_id}/charter/versions/{version_id}/adopt")]
pub async fn adopt(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, String)>,
) -> ApiResult<web::Json<CharterVersion>> {
    let ((cohort_id, version_id), now) = (path.into_inner(), state.now());
    let version = state
        .db
        .write(move |conn| {
            // One adoption at a time per cohort; the second one then sees the first's result.
            cohorts::lock_cohort(conn, &cohort_id)?;
            access::authorize(conn, &caller, &cohort_id, Action::AdoptCharter)?;
            let draft = draft_of(conn, &cohort_id, &version_id)?;
            let current = store::current(conn, &cohort_id)?;
            if draft.based_on_id != current.as_ref().map(|v| v.id.clone()) {
                return Err(ApiError::conflict(
                    "draft_outdated",
                    "Another version was adopted since this draft was written: its author edits it first.",
                ));
            }
            let number = store::highest_number(conn, &cohort_id)?.unwrap_or(0) + 1;
            if let Some(current) = &current {
                store::supersede(conn, &current.id)?;
            }
            if !store::adopt(conn, &version_id, number, caller.user_id(), now)? {
                return Err(ApiError::conflict("version_not_draft", "This version was adopted already."));
            }
            NewEvent::by_in_cohort(ev::CharterAdopted { number }, caller.user_id(), &cohort_id, &version_id)
                .record(conn, now)?;
            let row = store::find_version(conn, &cohort_id, &version_id)?.ok_or(ApiError::NotFound)?;
            version_view(conn, row, caller.user_id())
        })
        .await?;
    Ok(web::Json(version))
}

/// Endorse a draft: say you would like it adopted. Endorsing twice counts once.
#[utoipa::path(
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("version_id" = String, Path, format = Uuid)),
    responses((status = 200, body = CharterVersion), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/charter/versions/{version_id}/endorsements")]
pub async fn endorse(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, String)>,
) -> ApiResult<web::Json<CharterVersion>> {
    let ((cohort_id, version_id), now) = (path.into_inner(), state.now());
    let version = state
        .db
        .write(move |conn| {
            cohorts::lock_cohort(conn, &cohort_id)?;
            access::authorize(conn, &caller, &cohort_id, Action::ProposeCharter)?;
            let draft = draft_of(conn, &cohort_id, &version_id)?;
            if store::endorse(conn, &version_id, caller.user_id(), now)? {
                NewEvent::by_in_cohort(ev::CharterEndorsed {}, caller.user_id(), &cohort_id, &version_id)
                    .record(conn, now)?;
            }
            version_view(conn, draft, caller.user_id())
        })
        .await?;
    Ok(web::Json(version))
}

/// The discussion of a version, oldest first.
#[utoipa::path(
    operation_id = "list_charter_comments",
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:read"])),
    params(("cohort_id" = String, Path, format = Uuid), ("version_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<Comment>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/charter/versions/{version_id}/comments")]
pub async fn list_comments(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, String)>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<Comment>>> {
    let page = query.into_inner().validate()?;
    let ((cohort_id, version_id), request) = (path.into_inner(), page.clone());
    let rows = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadCharter)?;
            store::find_version(conn, &cohort_id, &version_id)?.ok_or(ApiError::NotFound)?;
            store::comments(conn, &version_id, &request)
        })
        .await?;
    Ok(web::Json(Page::from_rows(rows, &page, |row| Cursor { created_at: row.4, id: row.0.clone() }, Comment::from)))
}

/// Comment on a draft (Markdown).
#[utoipa::path(
    operation_id = "comment_on_charter_version",
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("version_id" = String, Path, format = Uuid)),
    request_body = NewComment,
    responses((status = 201, body = Comment), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/charter/versions/{version_id}/comments")]
pub async fn comment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(CohortId, String)>,
    body: JsonBody<NewComment>,
) -> ApiResult<HttpResponse> {
    let mut checks = Checks::new();
    let text = crate::comments::body(&mut checks, body.0);
    checks.finish()?;
    let ((cohort_id, version_id), now) = (path.into_inner(), state.now());
    let created = state
        .db
        .write(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ProposeCharter)?;
            draft_of(conn, &cohort_id, &version_id)?;
            let id = store::add_comment(conn, &version_id, caller.user_id(), &text, now)?;
            NewEvent::by_in_cohort(ev::CharterCommented {}, caller.user_id(), &cohort_id, &version_id)
                .record(conn, now)?;
            Ok(Comment::from(store::find_comment(conn, &id)?))
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// What changed between two versions, field by field.
#[utoipa::path(
    tag = "charter",
    security(("bearer" = []), ("personal_token" = ["charter:read"])),
    params(("cohort_id" = String, Path, format = Uuid), DiffParams),
    responses((status = 200, body = CharterDiff), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/charter/diff")]
pub async fn compare(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    query: crate::http::Query<DiffParams>,
) -> ApiResult<web::Json<CharterDiff>> {
    let (cohort_id, DiffParams { from, to }) = (path.into_inner(), query.into_inner());
    let (old, new) = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadCharter)?;
            let old = store::find_version(conn, &cohort_id, &from)?.ok_or(ApiError::NotFound)?;
            let new = store::find_version(conn, &cohort_id, &to)?.ok_or(ApiError::NotFound)?;
            Ok((old, new))
        })
        .await?;
    Ok(web::Json(CharterDiff { fields: diff(&old.content(), &new.content()), from: old.id, to: new.id }))
}
