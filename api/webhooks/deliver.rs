//! The webhook worker: follows the event stream with its own cursor, queues one delivery per
//! matching enabled endpoint, and sends each endpoint's deliveries in order.
//!
//! - **What goes out.** Only events whose audience is the whole cohort (`Audience::Cohort`): a
//!   private or buddy-only experiment, an invitation, who answered which RSVP reach no webhook.
//!   The body is what any member of the cohort could read of the event.
//! - **Safe on several replicas.** Queuing is keyed (endpoint, event); the cursor only moves
//!   forward; rows are claimed with a token (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and finished
//!   only while the claim holds.
//! - **Outbound safety.** The host is resolved and every address checked again before each
//!   attempt, and the request goes to exactly those addresses; a 5 s timeout, at most 64 KiB of
//!   the answer read, no redirects followed.
//! - **Retries.** After 1 m, 5 m, 30 m, 2 h, 5 h, 10 h, 14 h, 20 h and 20 h (about three days),
//!   the delivery fails, the endpoint is turned off and the cohort's organizers are mailed.
//!   `410 Gone` turns it off at once.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::store::{self, Attempt, Claimed, NewDelivery, Next};
use super::{address, sign};
use crate::cohorts::model::{MemberState, Role};
use crate::db::schema::{cohorts, memberships, users};
use crate::db::{AnyConnection, CohortId, UserId};
use crate::error::ApiResult;
use crate::events::{self, Audience, Event};
use crate::mail::OutgoingMail;
use crate::state::AppState;

/// The stream cursor of this consumer.
const CURSOR: &str = "webhooks";
const EVENTS_PER_PASS: i64 = 500;
/// Deliveries claimed at once (each is a different endpoint).
const CLAIM_BATCH: usize = 20;
/// The request's whole time, connect included.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// At most this much of an answer is read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// The waits after each failed attempt; after the last the delivery fails for good.
pub const BACKOFF_MINUTES: [i64; 9] = [1, 5, 30, 120, 300, 600, 840, 1200, 1200];

/// The kind of the test event `POST /webhooks/{id}/ping` sends.
pub const PING_KIND: &str = "webhook.ping";

/// When a delivery that failed its `attempts`-th attempt is tried again; `None`: given up.
pub fn retry_at(attempts: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let index = usize::try_from(attempts.max(1) - 1).ok()?;
    BACKOFF_MINUTES.get(index).map(|m| now + Duration::minutes(*m))
}

/// The body sent for an event: the Standard Webhooks envelope `{type, timestamp, data}`, with
/// what a cohort member could read of the event.
pub fn body_of(event: &Event) -> String {
    json!({
        "type": event.kind,
        "timestamp": event.created_at,
        "data": {
            "event_id": event.id,
            "seq": event.seq,
            "cohort_id": event.cohort_id,
            "actor_id": event.actor_id,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "payload": event.payload,
        }
    })
    .to_string()
}

/// The body of a ping.
pub fn ping_body(webhook_id: &str, cohort_id: &CohortId, now: DateTime<Utc>) -> String {
    json!({"type": PING_KIND, "timestamp": now, "data": {"webhook_id": webhook_id, "cohort_id": cohort_id}}).to_string()
}

/// May this event reach a webhook at all?
pub fn deliverable(event: &Event) -> bool {
    event.audience == Audience::Cohort && event.cohort_id.is_some()
}

/// Reads the stream from this consumer's cursor, queues a delivery per matching enabled
/// endpoint, and moves the cursor on; returns how many events it read.
pub fn follow_events(conn: &mut AnyConnection, now: DateTime<Utc>) -> ApiResult<usize> {
    let cursor = crate::events::cursor::position(conn, CURSOR)?;
    let batch = events::after(conn, cursor, EVENTS_PER_PASS)?;
    let Some(last) = batch.last().map(|e| e.seq) else { return Ok(0) };
    let mut cohorts: Vec<CohortId> =
        batch.iter().filter(|e| deliverable(e)).filter_map(|e| e.cohort_id.clone()).collect();
    cohorts.sort();
    cohorts.dedup();
    if !cohorts.is_empty() {
        let endpoints = store::enabled_of(conn, &cohorts)?;
        let bodies: Vec<(usize, String)> =
            batch.iter().enumerate().filter(|(_, e)| deliverable(e)).map(|(i, e)| (i, body_of(e))).collect();
        let mut queued = Vec::new();
        for (i, body) in &bodies {
            let event = &batch[*i];
            for endpoint in endpoints.iter().filter(|w| Some(&w.cohort_id) == event.cohort_id.as_ref()) {
                if event.seq > endpoint.after_seq && endpoint.wants(event.kind.as_str()) {
                    queued.push(NewDelivery {
                        webhook_id: &endpoint.id,
                        event_id: &event.id,
                        seq: event.seq,
                        kind: event.kind.as_str(),
                        body,
                    });
                }
            }
        }
        store::enqueue(conn, &queued, now)?;
    }
    crate::events::cursor::advance(conn, CURSOR, last)?;
    Ok(batch.len())
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    pub events: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// One pass of this process: reads new events into deliveries, then sends what is due, each
/// endpoint's in order, until nothing is due.
pub async fn run_pass(state: &AppState) -> ApiResult<PassReport> {
    let db = &state.db;
    let mut report = PassReport::default();
    loop {
        let now = state.now();
        let read = db.write(move |conn| follow_events(conn, now)).await?;
        report.events += read;
        if read == 0 {
            break;
        }
    }
    let now = state.now();
    db.write(move |conn| store::release_stale_claims(conn, now)).await?;
    loop {
        let now = state.now();
        let claimed = db.write(move |conn| store::claim_heads(conn, now, CLAIM_BATCH)).await?;
        if claimed.is_empty() {
            break;
        }
        let outcomes = futures_util::future::join_all(claimed.into_iter().map(|c| attempt(state, c))).await;
        let mut progressed = false;
        for outcome in outcomes {
            match outcome? {
                Next::Delivered => {
                    report.delivered += 1;
                    progressed = true;
                }
                Next::RetryAt(_) => report.retrying += 1,
                Next::Failed => {
                    report.failed += 1;
                    progressed = true;
                }
            }
        }
        // Only a delivered or given-up head makes the endpoint's next row due now.
        if !progressed {
            break;
        }
    }
    Ok(report)
}

/// Runs `run_pass`, logging instead of answering errors.
pub async fn run_pass_logged(state: &AppState) -> PassReport {
    match run_pass(state).await {
        Ok(report) => report,
        Err(err) => {
            tracing::error!(error = %err, "webhook pass failed");
            PassReport::default()
        }
    }
}

/// Sends one claimed delivery and records how it went.
async fn attempt(state: &AppState, claimed: Claimed) -> ApiResult<Next> {
    let started = Instant::now();
    let timestamp = state.now().timestamp();
    let result = send(&claimed, timestamp, state.webhook_allow_private).await;
    let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let now = state.now();
    let (attempt, next, disable) = match result {
        Ok(status) if (200..300).contains(&status) => {
            (Attempt { response_status: Some(status.into()), latency_ms, error: None }, Next::Delivered, None)
        }
        Ok(410) => (
            Attempt {
                response_status: Some(410),
                latency_ms,
                error: Some("410 Gone: the endpoint asked to stop".into()),
            },
            Next::Failed,
            Some("The endpoint answered 410 Gone."),
        ),
        other => {
            let (status, error) = match other {
                Ok(status) => (Some(i32::from(status)), format!("answered {status}")),
                Err(error) => (None, error),
            };
            let attempt = Attempt { response_status: status, latency_ms, error: Some(error) };
            match retry_at(claimed.attempts, now) {
                Some(at) => (attempt, Next::RetryAt(at), None),
                None => (attempt, Next::Failed, Some("Deliveries kept failing for three days.")),
            }
        }
    };
    let (id, token, webhook_id, cohort_id) =
        (claimed.id.clone(), claimed.token.clone(), claimed.webhook_id.clone(), claimed.cohort_id.clone());
    let url = claimed.url.clone();
    let finished = state
        .db
        .write(move |conn| {
            if !store::finish(conn, &id, &token, &attempt, next, now)? {
                return Ok(false);
            }
            if let Some(reason) = disable
                && store::disable(conn, &webhook_id, reason, now)?
            {
                tell_organizers(conn, &cohort_id, &url, reason, now)?;
            }
            Ok(true)
        })
        .await?;
    if !finished {
        tracing::warn!(delivery_id = %claimed.id, "webhook claim was taken over; its outcome is not recorded");
    }
    if disable.is_some() {
        state.mailer.wake();
    }
    Ok(next)
}

/// The HTTP status the endpoint answered, or why there was none.
async fn send(claimed: &Claimed, timestamp: i64, allow_private: bool) -> Result<u16, String> {
    let url = url::Url::parse(&claimed.url).map_err(|e| format!("invalid URL: {e}"))?;
    let addrs = address::resolve(&url, allow_private).await.map_err(|refused| refused.message())?;
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .resolve_to_addrs(&host, &addrs)
        .no_proxy()
        .user_agent("Roundtable-Webhooks/1")
        .build()
        .map_err(|e| format!("client: {e}"))?;
    let secrets: Vec<&str> = claimed.secrets.iter().map(String::as_str).collect();
    let mut request = client.post(url).header("content-type", "application/json").body(claimed.body.clone());
    for (name, value) in sign::headers(&secrets, &claimed.event_id, timestamp, &claimed.body) {
        request = request.header(name, value);
    }
    let mut response = request.send().await.map_err(describe)?;
    let status = response.status().as_u16();
    // Read at most MAX_RESPONSE_BYTES of the answer, then let the connection go.
    let mut read = 0usize;
    while read < MAX_RESPONSE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => break,
        }
    }
    Ok(status)
}

fn describe(error: reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if error.is_connect() {
        "could not connect".to_string()
    } else {
        format!("request failed: {error}")
    }
}

/// Mails the cohort's active organizers that an endpoint was turned off.
fn tell_organizers(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    url: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let name: String = cohorts::table.find(cohort_id).select(cohorts::name).first(conn)?;
    let organizers: Vec<(UserId, String, String)> = users::table
        .inner_join(memberships::table)
        .filter(memberships::cohort_id.eq(cohort_id))
        .filter(memberships::role.eq(Role::Organizer.as_str()))
        .filter(memberships::state.eq(MemberState::Active.as_str()))
        .select((users::id, users::email, users::display_name))
        .load(conn)?;
    for (user_id, email, display_name) in organizers {
        let lead = format!(
            "The webhook {url} of {name} was turned off: {reason} Nothing more is sent to it. \
             Fix the endpoint, then turn the webhook on again (PATCH /api/v1/webhooks/{{id}} with \
             \"enabled\": true): what it missed is sent then, oldest first."
        );
        let text = format!("Hello {display_name},\n\n{lead}\n\n-- Roundtable\n");
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\"><p>Hello {},</p><p>{}</p>\
             <p>&mdash; Roundtable</p></body></html>",
            html_escape::encode_text(&display_name),
            html_escape::encode_text(&lead)
        );
        let mail = OutgoingMail {
            kind: "webhook_disabled",
            user_id: Some(user_id),
            to: email,
            subject: format!("A webhook of {name} was turned off"),
            text,
            html,
            list: None,
            expires_at: None,
        };
        crate::mail::outbox::enqueue(conn, &mail, now)?;
    }
    Ok(())
}

/// Starts a pass in the background now (after a ping or a redelivery).
pub fn kick(state: actix_web::web::Data<AppState>) {
    tokio::spawn(async move {
        run_pass_logged(&state).await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_spread_over_about_three_days_then_stop() {
        let now = Utc::now();
        let total: i64 = BACKOFF_MINUTES.iter().sum();
        assert!((60 * 60..=80 * 60).contains(&total), "{} hours", total / 60);
        assert_eq!(retry_at(1, now), Some(now + Duration::minutes(1)));
        assert_eq!(retry_at(2, now), Some(now + Duration::minutes(5)));
        assert_eq!(retry_at(9, now), Some(now + Duration::minutes(1200)));
        assert_eq!(retry_at(10, now), None, "the tenth failure gives up");
        assert!(BACKOFF_MINUTES.windows(2).all(|w| w[0] <= w[1]), "never shorter than the wait before");
    }
}
