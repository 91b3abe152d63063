//! The webhook tables: endpoints, and the delivery queue with its claims.
//!
//! Delivery rows: `pending` -> `sending` (claimed, with a token) -> `delivered`, or `pending`
//! again with a later `next_attempt_at`, or `failed`. A worker finishes a row only while it still
//! holds it (`sending` with its token). An endpoint's rows go out one at a time, in stream order
//! (`seq`): only the first open (`pending` or `sending`) row of an endpoint is ever claimed, so
//! its next event waits until the previous one is delivered or given up.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::model::{DeliveryRow, WebhookRow};
use crate::db::schema::{webhook_deliveries as d, webhooks as w};
use crate::db::{AnyConnection, CohortId, UserId, new_id};
use crate::error::ApiResult;
use crate::pagination::{PageRequest, after_cursor};

/// How long after a rotation the previous secret still signs.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;
/// How long a worker may hold a delivery (the request itself times out after 5 s).
pub const CLAIM_SECONDS: i64 = 60;

pub const PENDING: &str = "pending";
pub const SENDING: &str = "sending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

pub struct NewEndpoint<'a> {
    pub cohort_id: &'a CohortId,
    pub url: &'a str,
    pub events: &'a str,
    pub description: &'a str,
    pub secret: &'a str,
    pub created_by: &'a UserId,
}

pub fn insert(conn: &mut AnyConnection, new: NewEndpoint<'_>, now: DateTime<Utc>) -> ApiResult<WebhookRow> {
    let id = new_id();
    let end: Option<i64> =
        crate::db::schema::events::table.select(diesel::dsl::max(crate::db::schema::events::seq)).first(conn)?;
    diesel::insert_into(w::table)
        .values((
            w::id.eq(&id),
            w::cohort_id.eq(new.cohort_id),
            w::url.eq(new.url),
            w::events.eq(new.events),
            w::description.eq(new.description),
            w::enabled.eq(true),
            w::after_seq.eq(end.unwrap_or(0)),
            w::secret.eq(new.secret),
            w::created_by.eq(Some(new.created_by)),
            w::created_at.eq(now.naive_utc()),
            w::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(w::table.find(&id).select(WebhookRow::as_select()).first(conn)?)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> ApiResult<Option<WebhookRow>> {
    Ok(w::table.find(id).select(WebhookRow::as_select()).first(conn).optional()?)
}

/// The cohort of a webhook, to authorize before anything else is read.
pub fn cohort_of(conn: &mut AnyConnection, id: &str) -> ApiResult<Option<CohortId>> {
    Ok(w::table.find(id).select(w::cohort_id).first(conn).optional()?)
}

pub fn list(conn: &mut AnyConnection, cohort_id: &CohortId, page: &PageRequest) -> ApiResult<Vec<WebhookRow>> {
    let mut query = w::table
        .filter(w::cohort_id.eq(cohort_id))
        .order((w::created_at.asc(), w::id.asc()))
        .limit(page.fetch_limit())
        .select(WebhookRow::as_select())
        .into_boxed();
    query = after_cursor!(query, page, w::created_at, w::id);
    Ok(query.load(conn)?)
}

/// What a PATCH sets (validated).
#[derive(Default)]
pub struct Change {
    pub url: Option<String>,
    pub events: Option<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    /// The new secret of a rotation.
    pub new_secret: Option<String>,
}

pub fn update(conn: &mut AnyConnection, row: &WebhookRow, change: Change, now: DateTime<Utc>) -> ApiResult<WebhookRow> {
    let at = now.naive_utc();
    if let Some(url) = change.url {
        diesel::update(w::table.find(&row.id)).set(w::url.eq(url)).execute(conn)?;
    }
    if let Some(events) = change.events {
        diesel::update(w::table.find(&row.id)).set(w::events.eq(events)).execute(conn)?;
    }
    if let Some(description) = change.description {
        diesel::update(w::table.find(&row.id)).set(w::description.eq(description)).execute(conn)?;
    }
    if let Some(enabled) = change.enabled {
        diesel::update(w::table.find(&row.id))
            .set((w::enabled.eq(enabled), w::disabled_reason.eq(None::<String>)))
            .execute(conn)?;
    }
    if let Some(secret) = change.new_secret {
        let until = (now + Duration::hours(ROTATION_OVERLAP_HOURS)).naive_utc();
        diesel::update(w::table.find(&row.id))
            .set((
                w::previous_secret.eq(Some(&row.secret)),
                w::previous_secret_until.eq(Some(until)),
                w::secret.eq(secret),
            ))
            .execute(conn)?;
    }
    diesel::update(w::table.find(&row.id)).set(w::updated_at.eq(at)).execute(conn)?;
    Ok(w::table.find(&row.id).select(WebhookRow::as_select()).first(conn)?)
}

pub fn delete(conn: &mut AnyConnection, id: &str) -> ApiResult<bool> {
    diesel::delete(d::table.filter(d::webhook_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(w::table.find(id)).execute(conn)? == 1)
}

/// Turns an endpoint off on the server's own account (410 Gone, failing for days); true when it
/// was on.
pub fn disable(conn: &mut AnyConnection, id: &str, reason: &str, now: DateTime<Utc>) -> ApiResult<bool> {
    Ok(diesel::update(w::table.find(id).filter(w::enabled.eq(true)))
        .set((w::enabled.eq(false), w::disabled_reason.eq(Some(reason)), w::updated_at.eq(now.naive_utc())))
        .execute(conn)?
        == 1)
}

/// The enabled endpoints of these cohorts.
pub fn enabled_of(conn: &mut AnyConnection, cohorts: &[CohortId]) -> ApiResult<Vec<WebhookRow>> {
    Ok(w::table
        .filter(w::cohort_id.eq_any(cohorts))
        .filter(w::enabled.eq(true))
        .order((w::created_at.asc(), w::id.asc()))
        .select(WebhookRow::as_select())
        .load(conn)?)
}

/// One delivery to queue.
pub struct NewDelivery<'a> {
    pub webhook_id: &'a str,
    pub event_id: &'a str,
    pub seq: i64,
    pub kind: &'a str,
    pub body: &'a str,
}

/// Queues deliveries, due now; one per (endpoint, event) however often this is called (two
/// replicas reading the same events queue each once). Returns how many were new.
pub fn enqueue(conn: &mut AnyConnection, new: &[NewDelivery<'_>], now: DateTime<Utc>) -> ApiResult<usize> {
    let at = now.naive_utc();
    let mut added = 0;
    for delivery in new {
        let insert = diesel::insert_into(d::table)
            .values((
                d::id.eq(new_id()),
                d::webhook_id.eq(delivery.webhook_id),
                d::event_id.eq(delivery.event_id),
                d::seq.eq(delivery.seq),
                d::kind.eq(delivery.kind),
                d::body.eq(delivery.body),
                d::status.eq(PENDING),
                d::attempts.eq(0),
                d::next_attempt_at.eq(Some(at)),
                d::created_at.eq(at),
            ))
            .on_conflict((d::webhook_id, d::event_id))
            .do_nothing();
        added += crate::per_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(added)
}

pub fn find_delivery(conn: &mut AnyConnection, webhook_id: &str, id: &str) -> ApiResult<Option<DeliveryRow>> {
    Ok(d::table
        .find(id)
        .filter(d::webhook_id.eq(webhook_id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_delivery_by_event(conn: &mut AnyConnection, webhook_id: &str, event_id: &str) -> ApiResult<DeliveryRow> {
    Ok(d::table
        .filter(d::webhook_id.eq(webhook_id))
        .filter(d::event_id.eq(event_id))
        .select(DeliveryRow::as_select())
        .first(conn)?)
}

pub fn deliveries(conn: &mut AnyConnection, webhook_id: &str, page: &PageRequest) -> ApiResult<Vec<DeliveryRow>> {
    let mut query = d::table
        .filter(d::webhook_id.eq(webhook_id))
        .order((d::created_at.asc(), d::id.asc()))
        .limit(page.fetch_limit())
        .select(DeliveryRow::as_select())
        .into_boxed();
    query = after_cursor!(query, page, d::created_at, d::id);
    Ok(query.load(conn)?)
}

/// Puts a finished delivery (delivered or failed) back in the queue, due now, with its attempts
/// counted afresh; false when it is still queued or being sent.
pub fn redeliver(conn: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> ApiResult<bool> {
    Ok(diesel::update(d::table.find(id).filter(d::status.eq_any([DELIVERED, FAILED])))
        .set((
            d::status.eq(PENDING),
            d::attempts.eq(0),
            d::next_attempt_at.eq(Some(now.naive_utc())),
            d::last_error.eq(None::<String>),
        ))
        .execute(conn)?
        == 1)
}

/// A delivery a worker holds and should now send.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub body: String,
    /// Attempts including this one.
    pub attempts: i32,
    pub token: String,
    pub url: String,
    pub secrets: Vec<String>,
    pub cohort_id: CohortId,
}

/// Open rows looked at per claim (the first of each endpoint is its head).
const OPEN_SCAN: i64 = 10_000;

/// Claims the head of each enabled endpoint's queue that is due, at most `limit`, under one new
/// token. On PostgreSQL the heads are locked `FOR UPDATE SKIP LOCKED`, so two workers claiming at
/// once take different rows and neither waits; the update repeats "still pending and due", so a
/// row is claimed once whichever way workers cross. A head that another worker is sending
/// (`sending`) holds its endpoint back: the endpoint's next row is not a head.
pub fn claim_heads(conn: &mut AnyConnection, now: DateTime<Utc>, limit: usize) -> ApiResult<Vec<Claimed>> {
    let at = now.naive_utc();
    type Open = (String, String, String, Option<NaiveDateTime>);
    let open: Vec<Open> = d::table
        .inner_join(w::table)
        .filter(w::enabled.eq(true))
        .filter(d::status.eq_any([PENDING, SENDING]))
        .order((d::webhook_id.asc(), d::seq.asc(), d::created_at.asc(), d::id.asc()))
        .select((d::id, d::webhook_id, d::status, d::next_attempt_at))
        .limit(OPEN_SCAN)
        .load(conn)?;
    let mut heads: Vec<String> = Vec::new();
    let mut seen: Option<&str> = None;
    for (id, webhook, status, next) in &open {
        if seen == Some(webhook.as_str()) {
            continue;
        }
        seen = Some(webhook);
        if status == PENDING && next.is_none_or(|t| t <= at) {
            heads.push(id.clone());
        }
        if heads.len() >= limit {
            break;
        }
    }
    if heads.is_empty() {
        return Ok(Vec::new());
    }
    let still = d::table.filter(d::id.eq_any(&heads)).filter(d::status.eq(PENDING)).select(d::id);
    let ids: Vec<String> = match conn {
        AnyConnection::Postgresql(pg) => still.for_update().skip_locked().load(pg)?,
        AnyConnection::Sqlite(lite) => still.load(lite)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let token = new_id();
    diesel::update(d::table.filter(d::id.eq_any(&ids)).filter(d::status.eq(PENDING)))
        .set((
            d::status.eq(SENDING),
            d::claim_token.eq(Some(&token)),
            d::locked_until.eq(Some((now + Duration::seconds(CLAIM_SECONDS)).naive_utc())),
            d::attempts.eq(d::attempts + 1),
        ))
        .execute(conn)?;
    type Row = (String, String, String, String, i32, String, String, Option<String>, Option<NaiveDateTime>, CohortId);
    let rows: Vec<Row> = d::table
        .inner_join(w::table)
        .filter(d::id.eq_any(&ids))
        .filter(d::claim_token.eq(&token))
        .select((
            d::id,
            d::webhook_id,
            d::event_id,
            d::body,
            d::attempts,
            w::url,
            w::secret,
            w::previous_secret,
            w::previous_secret_until,
            w::cohort_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, webhook_id, event_id, body, attempts, url, secret, previous, until, cohort_id)| {
            let mut secrets = vec![secret];
            if let (Some(old), Some(until)) = (previous, until)
                && until > at
            {
                secrets.push(old);
            }
            Claimed { id, webhook_id, event_id, body, attempts, token: token.clone(), url, secrets, cohort_id }
        })
        .collect())
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub response_status: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
}

/// Where the row goes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(DateTime<Utc>),
    Failed,
}

/// Finishes an attempt, only while `token`'s claim still holds the row; false when it was taken
/// over (nothing changed).
pub fn finish(
    conn: &mut AnyConnection,
    id: &str,
    token: &str,
    attempt: &Attempt,
    next: Next,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let held = d::table.find(id).filter(d::status.eq(SENDING)).filter(d::claim_token.eq(token));
    let (status, next_at, delivered_at) = match next {
        Next::Delivered => (DELIVERED, None, Some(now.naive_utc())),
        Next::RetryAt(at) => (PENDING, Some(at.naive_utc()), None),
        Next::Failed => (FAILED, None, None),
    };
    let error: Option<String> = attempt.error.as_ref().map(|e| e.chars().take(500).collect());
    Ok(diesel::update(held)
        .set((
            d::status.eq(status),
            d::next_attempt_at.eq(next_at),
            d::delivered_at.eq(delivered_at),
            d::claim_token.eq(None::<String>),
            d::locked_until.eq(None::<NaiveDateTime>),
            d::response_status.eq(attempt.response_status),
            d::latency_ms.eq(Some(attempt.latency_ms)),
            d::last_error.eq(error),
        ))
        .execute(conn)?
        == 1)
}

/// Puts every `sending` row whose claim ran out (its worker died mid-send) back in the queue,
/// due now; returns how many. Receivers dedupe by `webhook-id`, which stays the same.
pub fn release_stale_claims(conn: &mut AnyConnection, now: DateTime<Utc>) -> ApiResult<usize> {
    Ok(diesel::update(d::table.filter(d::status.eq(SENDING)).filter(d::locked_until.lt(now.naive_utc())))
        .set((
            d::status.eq(PENDING),
            d::next_attempt_at.eq(Some(now.naive_utc())),
            d::claim_token.eq(None::<String>),
            d::locked_until.eq(None::<NaiveDateTime>),
            d::last_error.eq(Some("the worker's claim ran out while sending; sent again")),
        ))
        .execute(conn)?)
}
