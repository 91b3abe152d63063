//! Reading skill shares: one, a session's, a cohort's upcoming, and the caller's own.

use super::store::Listing;
use super::*;

/// One skill share, with places left, the caller's place and its box on the agenda.
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:read"])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = SkillShare), (status = 404, response = NotFound))
)]
#[get("/skill-shares/{id}")]
pub async fn get_skill_share(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<web::Json<SkillShare>> {
    let (id, now) = (path.into_inner(), state.now());
    let slot = state
        .db
        .read(move |conn| {
            let (_, slot) = slot_access(conn, &caller, &id, Action::ReadSkillShares)?;
            view::view(conn, &slot.id, caller.user_id(), now)
        })
        .await?;
    Ok(web::Json(slot))
}

/// A session's skill shares (withdrawn ones aside), oldest offer first; each carries its place
/// on the agenda. Complete: a session holds at most 20.
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:read"])),
    params(("session_id" = String, Path, format = Uuid)),
    responses((status = 200, body = inline(Page<SkillShare>)), (status = 404, response = NotFound))
)]
#[get("/sessions/{session_id}/skill-shares")]
pub async fn session_skill_shares(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SessionId>,
) -> ApiResult<web::Json<Page<SkillShare>>> {
    let (session_id, now) = (path.into_inner(), state.now());
    let page = state
        .db
        .read(move |conn| {
            let session = session_row(conn, &session_id)?;
            access::authorize(conn, &caller, &session.cohort_id, Action::ReadSkillShares)?;
            let rows = store::list(conn, Listing::Session(session_id.as_str()))?;
            Ok(Page::complete(view::views(conn, rows, caller.user_id(), now)?))
        })
        .await?;
    Ok(web::Json(page))
}

/// The skill shares of the cohort's sessions that have not started (withdrawn ones aside), by
/// session start: what there is to sign up for, with places left and the caller's place.
#[utoipa::path(
    tag = "skill-shares",
    security(("bearer" = []), ("personal_token" = ["skillshare:read"])),
    params(("cohort_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<SkillShare>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/skill-shares")]
pub async fn cohort_skill_shares(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<SkillShare>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, now) = (path.into_inner(), state.now());
    let result = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadSkillShares)?;
            let listing = Listing::Upcoming { cohort_id: &cohort_id, now: now.naive_utc(), page: &page };
            let rows = store::list(conn, listing)?;
            paged(conn, rows, &page, caller.user_id(), now)
        })
        .await?;
    Ok(web::Json(result))
}

/// Your skill shares in every cohort: those you present and those you hold a place in or wait
/// for, whose sessions have not ended, by session start.
#[utoipa::path(
    tag = "me",
    security(("bearer" = []), ("personal_token" = ["skillshare:read"])),
    params(PageParams),
    responses((status = 200, body = inline(Page<SkillShare>)))
)]
#[get("/me/skill-shares")]
pub async fn my_skill_shares(
    state: web::Data<AppState>,
    caller: Caller,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<SkillShare>>> {
    access::authorize_own(&caller, OwnAction::ListMySkillShares)?;
    let page = query.into_inner().validate()?;
    let now = state.now();
    let result = state
        .db
        .read(move |conn| {
            let listing = Listing::Mine { user_id: caller.user_id(), now: now.naive_utc(), page: &page };
            let rows = store::list(conn, listing)?;
            paged(conn, rows, &page, caller.user_id(), now)
        })
        .await?;
    Ok(web::Json(result))
}

/// A page of slot rows (fetched `limit + 1`, by session start), as views: `Page::from_rows` cuts
/// it, then the page's views are built together.
fn paged(
    conn: &mut AnyConnection,
    rows: Vec<store::SlotListRow>,
    page: &crate::pagination::PageRequest,
    user_id: &UserId,
    now: DateTime<Utc>,
) -> ApiResult<Page<SkillShare>> {
    let cut = Page::from_rows(rows, page, |r| Cursor { created_at: r.starts_at, id: r.slot.id.clone() }, |r| r);
    Ok(Page { items: view::views(conn, cut.items, user_id, now)?, next_cursor: cut.next_cursor })
}
