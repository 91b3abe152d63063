//! The feed routes. Minting a feed URL needs a sign-in (a personal token may not: a feed URL is a
//! credential of the account, as tokens are); the cohort feed is for the cohort's organizers
//! (`Action::UpdateCohort`, scope `cohorts:write`). Reading a feed needs only its URL, and reads
//! through the owner's memberships as they are at that moment. The secret opens that feed and
//! nothing else: it is no bearer token of the API (401 there).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use sha2::{Digest, Sha256};

use super::ics::{self, Feed};
use super::model::CalendarFeed;
use super::store;
use crate::auth::Caller;
use crate::auth::secrets;
use crate::cohorts::access::{self, Action};
use crate::db::{AnyConnection, CohortId, SessionId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::openapi::NotFound;
use crate::state::AppState;

/// The prefix of feed secrets (recognisable to secret scanners).
pub const PREFIX: &str = "rt_feed_";

pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

/// How long a calendar app, or the reader's own browser cache, may keep a feed without asking.
const CACHE: &str = "private, max-age=300";

/// `GET /feeds/{token}.ics`, outside `/api/v1`: calendar apps subscribe to a plain URL.
pub fn pages(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(read_feed);
}

/// Inside `/api/v1`.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_my_feed).service(create_cohort_feed).service(session_ics);
}

fn feed_url(state: &AppState, plain: &str) -> String {
    format!("{}/feeds/{plain}.ics", state.base_url.trim_end_matches('/'))
}

async fn put(state: &AppState, user_id: UserId, cohort_id: Option<CohortId>) -> ApiResult<HttpResponse> {
    let secret = secrets::generate(PREFIX);
    let now = state.now().naive_utc();
    let hash = secret.hash.clone();
    let created = state.db.write(move |conn| store::put_feed(conn, &user_id, cohort_id.as_ref(), &hash, now)).await?;
    let body = CalendarFeed { url: feed_url(state, &secret.plain) };
    Ok(if created { HttpResponse::Created().json(body) } else { HttpResponse::Ok().json(body) })
}

/// Your calendar feed: your sessions across your cohorts (30 days back to 180 ahead) with your
/// duties and skill-share slots, and your experiments' due dates. 201 with a new URL the first
/// time; 200 with a new URL after that, and the old URL answers 404 from now on. Sign-in only.
#[utoipa::path(
    tag = "feeds",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; the URL is shown only here", body = CalendarFeed),
        (status = 200, description = "Rotated: a new URL, the old one no longer works", body = CalendarFeed),
    )
)]
#[post("/me/calendar-feed")]
pub async fn create_my_feed(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_sign_in()?;
    put(&state, caller.user_id().clone(), None).await
}

/// The cohort's calendar feed, for its organizers: every session (30 days back to 180 ahead)
/// with each duty and who holds it; no experiments. Created (201) or rotated (200) as
/// `POST /me/calendar-feed`; it stops answering if you leave the cohort or stop being one of its
/// organizers. Sign-in only.
#[utoipa::path(
    tag = "feeds",
    security(("bearer" = [])),
    params(("cohort_id" = String, Path, format = Uuid)),
    responses(
        (status = 201, description = "Created; the URL is shown only here", body = CalendarFeed),
        (status = 200, description = "Rotated: a new URL, the old one no longer works", body = CalendarFeed),
        (status = 404, response = NotFound),
    )
)]
#[post("/cohorts/{cohort_id}/calendar-feed")]
pub async fn create_cohort_feed(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
) -> ApiResult<HttpResponse> {
    let cohort_id = path.into_inner();
    let (check, check_id) = (caller, cohort_id.clone());
    let check = state
        .db
        .read(move |conn| {
            access::authorize(conn, &check, &check_id, Action::UpdateCohort)?;
            Ok(check)
        })
        .await?;
    check.require_sign_in()?;
    put(&state, check.user_id().clone(), Some(cohort_id)).await
}

/// A strong ETag: the SHA-256 of the body (its first 128 bits, quoted).
fn etag(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// `If-None-Match` holds `tag` (or `*`); weak comparison, as RFC 9110 asks for this header.
fn matches(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .any(|value| value.split(',').map(str::trim).any(|given| given == "*" || given.trim_start_matches("W/") == tag))
}

/// A feed, read with its URL alone (no sign-in): `text/calendar`, a strong `ETag` over the body
/// (`If-None-Match` with it answers 304), `Cache-Control: private, max-age=300`. The body only
/// changes when what it shows changes. An unknown or replaced URL: 404.
#[utoipa::path(
    tag = "feeds",
    params(("token" = String, Path, description = "The feed's secret, as in its URL")),
    responses(
        (status = 200, description = "The feed", content_type = "text/calendar", body = String,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 404, response = NotFound),
    )
)]
#[get("/feeds/{token}.ics")]
pub async fn read_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let token = path.into_inner();
    if !token.starts_with(PREFIX) {
        return Err(ApiError::NotFound);
    }
    let hash = secrets::hash(&token);
    let now = state.now();
    let base_url = state.base_url.trim_end_matches('/').to_string();
    let body = state
        .db
        .read(move |conn| {
            let owner = store::feed_by_hash(conn, &hash)?.ok_or(ApiError::NotFound)?;
            let (name, sessions, dues) = match &owner.cohort_id {
                Some(cohort_id) => {
                    let cohort = store::organized_cohort(conn, &owner.user_id, cohort_id)?.ok_or(ApiError::NotFound)?;
                    let sessions = store::feed_sessions(conn, &owner.user_id, Some(cohort_id), now)?;
                    (format!("Roundtable — {cohort}"), sessions, Vec::new())
                }
                None => {
                    let name = store::display_name(conn, &owner.user_id)?.ok_or(ApiError::NotFound)?;
                    let sessions = store::feed_sessions(conn, &owner.user_id, None, now)?;
                    (format!("Roundtable — {name}"), sessions, store::my_due_dates(conn, &owner.user_id)?)
                }
            };
            Ok(ics::calendar(&Feed { name, base_url }, &sessions, &dues, now))
        })
        .await?;
    let tag = etag(&body);
    let mut response = if matches(&req, &tag) {
        HttpResponse::NotModified().finish()
    } else {
        HttpResponse::Ok().content_type(CONTENT_TYPE).body(body)
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    Ok(response)
}

/// `attachment; filename="<title>.ics"`, with `filename*` (RFC 6266) when the title is not ASCII.
fn disposition(title: &str) -> String {
    let name = format!("{}.ics", ics::file_name(title));
    if name.is_ascii() {
        return format!("attachment; filename=\"{name}\"");
    }
    let fallback: String = name.chars().map(|c| if c.is_ascii() { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// One session as an `.ics` file (for "add to calendar"), with your duties and skill-share slots
/// in it: the same VEVENT (UID, SEQUENCE) as in your feed. Members of the session's cohort.
#[utoipa::path(
    tag = "feeds",
    security(("bearer" = []), ("personal_token" = ["sessions:read"])),
    params(("session_id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "The session as a calendar file", content_type = "text/calendar", body = String,
            headers(("Content-Disposition" = String))),
        (status = 404, response = NotFound),
    )
)]
#[get("/sessions/{session_id}/calendar.ics")]
pub async fn session_ics(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SessionId>,
) -> ApiResult<HttpResponse> {
    let session_id = path.into_inner();
    let base_url = state.base_url.clone();
    let (title, body) = state.db.read(move |conn| session_file(conn, &caller, &session_id, &base_url)).await?;
    Ok(session_file_response(&title, body))
}

/// One session as a calendar file for `caller` (a member: `cohorts::access` decides; their own
/// duties and slots in it): its title and the document. Also behind the "Add it to my calendar"
/// link in a session's mail (`notifications::link_pages`).
pub fn session_file(
    conn: &mut AnyConnection,
    caller: &Caller,
    session_id: &SessionId,
    base_url: &str,
) -> ApiResult<(String, String)> {
    let row = store::one_session(conn, session_id)?.ok_or(ApiError::NotFound)?;
    access::authorize(conn, caller, &row.0.cohort_id, Action::ReadSessions)?;
    let title = row.0.title.clone();
    let entry = store::session_entry(conn, row, caller.user_id())?;
    let feed = Feed { name: title.clone(), base_url: base_url.trim_end_matches('/').to_string() };
    Ok((title, ics::single(&feed, &entry)))
}

/// The download of one session's calendar file: `text/calendar`, as an attachment named after it.
pub fn session_file_response(title: &str, body: String) -> HttpResponse {
    let mut response = HttpResponse::Ok().content_type(CONTENT_TYPE).body(body);
    if let Ok(value) = HeaderValue::from_str(&disposition(title)) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_in_content_disposition() {
        assert_eq!(disposition("Weekly circle"), "attachment; filename=\"Weekly circle.ics\"");
        assert_eq!(disposition("Café"), "attachment; filename=\"Caf_.ics\"; filename*=UTF-8''Caf%C3%A9.ics");
    }

    #[test]
    fn etags_are_strong_and_follow_the_body() {
        assert_eq!(etag("a"), etag("a"));
        assert_ne!(etag("a"), etag("b"));
        assert!(etag("a").starts_with('"') && !etag("a").starts_with("W/"));
    }
}
