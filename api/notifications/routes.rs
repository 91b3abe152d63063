//! `GET /me/notifications`: what the engine sent the caller or plans to, newest first (by when it
//! goes out), with where it stands; `POST /me/notifications/{id}/read` marks one read. The app and
//! a chat bot show the same things the mail did.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::kinds::NotificationKind;
use super::store;
use crate::auth::Caller;
use crate::auth::scopes::Scope;
use crate::db::schema::{cohorts, notifications as n, outbound_mail as mail};
use crate::db::{AnyConnection, CohortId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Cursor, Page, PageParams, PageRequest};
use crate::state::AppState;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(my_notifications).service(mark_read);
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationStatus {
    /// Planned; goes out at `planned_at`.
    Planned,
    /// Its mail is queued (or being retried while the mail server is away).
    Queued,
    /// Handed to the mail server now.
    Sending,
    Sent,
    /// The mail server refused it for good.
    Failed,
    /// The mail server's answer was lost: it may have arrived; it is not sent again by itself.
    Unknown,
    /// Its mail could not be sent before what it reminds of began (the mail server was away).
    Expired,
    /// No longer planned: the session moved, the member said no, a preference changed.
    Withdrawn,
    /// It fell due but was no longer called for (`reason`).
    Skipped,
}

/// What a notification is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationSubject {
    /// `session`, `assignment`, `swap_request`, `charter_version`, `skill_share`, `experiment`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CohortRef {
    #[schema(value_type = String, format = Uuid)]
    pub id: CohortId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationItem {
    #[schema(format = Uuid)]
    pub id: String,
    pub kind: NotificationKind,
    pub subject: NotificationSubject,
    pub cohort: Option<CohortRef>,
    pub status: NotificationStatus,
    /// Why it was withdrawn or skipped.
    pub reason: Option<String>,
    /// When it goes (or went) out.
    pub planned_at: DateTime<Utc>,
    /// When the mail server took it.
    pub sent_at: Option<DateTime<Utc>>,
    /// The mail's subject line, once its mail was written.
    pub title: Option<String>,
    /// When the thing it is about happens.
    pub occurs_at: Option<DateTime<Utc>>,
    pub read: bool,
}

fn subject_type(kind: NotificationKind) -> &'static str {
    use NotificationKind::*;
    match kind {
        SessionSoon | DutySoon | SessionChanged => "session",
        DutyChanged => "assignment",
        SwapAsked | CoverNeeded | SwapAnswered => "swap_request",
        CharterToAccept | CharterReviewDue => "charter_version",
        SkillsharePromoted | SkillshareSoon => "skill_share",
        CheckinDue | ExperimentDue => "experiment",
        _ => "user",
    }
}

type Row = (
    String,
    NotificationKind,
    String,
    Option<CohortId>,
    Option<String>,
    String,
    Option<String>,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<String>,
    Option<NaiveDateTime>,
    Option<String>,
);

/// One query: the notifications, their cohorts' names and their mails' state.
fn list(conn: &mut AnyConnection, user_id: &UserId, page: &PageRequest) -> ApiResult<Vec<Row>> {
    let mut query = n::table
        .left_join(cohorts::table.on(cohorts::id.nullable().eq(n::cohort_id)))
        .left_join(mail::table.on(mail::id.nullable().eq(n::mail_id)))
        .filter(n::user_id.eq(user_id))
        .order((n::planned_at.desc(), n::id.desc()))
        .limit(page.fetch_limit())
        .select((
            n::id,
            n::kind,
            n::subject_id,
            n::cohort_id,
            cohorts::name.nullable(),
            n::status,
            n::reason,
            n::planned_at,
            n::occurs_at,
            n::read_at,
            mail::status.nullable(),
            mail::sent_at.nullable(),
            mail::subject.nullable(),
        ))
        .into_boxed();
    if let Some(after) = &page.after {
        let (at, id) = (after.created_at, after.id.clone());
        query = query.filter(n::planned_at.lt(at).or(n::planned_at.eq(at).and(n::id.lt(id))));
    }
    Ok(query.load(conn)?)
}

fn item(row: Row) -> NotificationItem {
    let (
        id,
        kind,
        subject_id,
        cohort_id,
        cohort_name,
        status,
        reason,
        planned_at,
        occurs_at,
        read_at,
        mail_status,
        sent_at,
        title,
    ) = row;
    let status = match (status.as_str(), mail_status.as_deref()) {
        (store::QUEUED, Some("sent" | "logged")) => NotificationStatus::Sent,
        (store::QUEUED, Some("sending")) => NotificationStatus::Sending,
        (store::QUEUED, Some("failed")) => NotificationStatus::Failed,
        (store::QUEUED, Some("unknown")) => NotificationStatus::Unknown,
        (store::QUEUED, Some("expired")) => NotificationStatus::Expired,
        (store::QUEUED, _) => NotificationStatus::Queued,
        (store::WITHDRAWN, _) => NotificationStatus::Withdrawn,
        (store::SKIPPED, _) => NotificationStatus::Skipped,
        _ => NotificationStatus::Planned,
    };
    NotificationItem {
        id,
        kind,
        subject: NotificationSubject { kind: subject_type(kind), id: subject_id },
        cohort: cohort_id.zip(cohort_name).map(|(id, name)| CohortRef { id, name }),
        status,
        reason,
        planned_at: planned_at.and_utc(),
        sent_at: sent_at.map(|t| t.and_utc()),
        title,
        occurs_at: occurs_at.map(|t| t.and_utc()),
        read: read_at.is_some(),
    }
}

/// Your notifications, newest first by when they go out (planned ones ahead of sent ones):
/// each with its kind, what it is about, where it stands and whether you read it. A personal
/// token needs `notifications:read`.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Page<NotificationItem>))
)]
#[get("/me/notifications")]
pub async fn my_notifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<NotificationItem>>> {
    caller.require_scope(Scope::NotificationsRead)?;
    let page = query.into_inner().validate()?;
    let user_id = caller.user.id.clone();
    let request = page.clone();
    let rows = state.db.read(move |conn| list(conn, &user_id, &request)).await?;
    Ok(web::Json(Page::from_rows(rows, &page, |row| Cursor { created_at: row.7, id: row.0.clone() }, item)))
}

/// Marks one of your notifications read (again: no change). A personal token needs
/// `notifications:write`.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(("notification_id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Read."), (status = 404, description = "No such notification of yours."))
)]
#[post("/me/notifications/{notification_id}/read")]
pub async fn mark_read(state: web::Data<AppState>, caller: Caller, path: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_scope(Scope::NotificationsWrite)?;
    let (user_id, id, now) = (caller.user.id.clone(), path.into_inner(), state.now());
    let found = state
        .db
        .write(move |conn| {
            let mine = n::table.find(&id).filter(n::user_id.eq(&user_id));
            let exists: Option<String> = mine.select(n::id).first(conn).optional()?;
            if exists.is_some() {
                diesel::update(mine.filter(n::read_at.is_null())).set(n::read_at.eq(now.naive_utc())).execute(conn)?;
            }
            Ok(exists.is_some())
        })
        .await?;
    if !found {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}
