//! What the webhook routes read and answer.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::CohortId;
use crate::db::schema::{webhook_deliveries, webhooks};

/// A stored endpoint (its secrets never leave the server but in the answers that create them).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub cohort_id: CohortId,
    pub url: String,
    pub events: String,
    pub description: String,
    pub enabled: bool,
    pub after_seq: i64,
    pub disabled_reason: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl WebhookRow {
    /// The kinds it asked for (`*`: every kind a webhook may receive).
    pub fn event_list(&self) -> Vec<String> {
        self.events.split_whitespace().map(str::to_string).collect()
    }

    pub fn wants(&self, kind: &str) -> bool {
        self.events.split_whitespace().any(|k| k == "*" || k == kind)
    }

    /// The secrets deliveries are signed with at `now`: the current one, and during the overlap
    /// after a rotation the previous one.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(old), Some(until)) = (&self.previous_secret, self.previous_secret_until)
            && until.and_utc() > now
        {
            secrets.push(old);
        }
        secrets
    }
}

/// A webhook endpoint of a cohort.
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(value_type = String, format = Uuid)]
    pub cohort_id: CohortId,
    #[schema(example = "https://hooks.example.org/roundtable")]
    pub url: String,
    /// The event kinds delivered, or `["*"]` for every kind a webhook may receive.
    #[schema(example = json!(["session.moved", "session.cancelled"]))]
    pub events: Vec<String>,
    pub description: String,
    /// Off: nothing is queued or sent for it. The server turns it off after a `410 Gone` or
    /// three days of failures (`disabled_reason`).
    pub enabled: bool,
    /// Why the server turned it off; null when on or turned off by an organizer.
    pub disabled_reason: Option<String>,
    /// After `rotate_secret`: until then deliveries carry a signature with the old secret too.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    pub fn new(row: WebhookRow, now: DateTime<Utc>) -> Self {
        let events = row.event_list();
        Self {
            previous_secret_expires_at: row.previous_secret_until.map(|t| t.and_utc()).filter(|t| *t > now),
            id: row.id,
            cohort_id: row.cohort_id,
            url: row.url,
            events,
            description: row.description,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// A new endpoint, with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` and base64: the key deliveries are signed with (Standard Webhooks). Shown once.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// An endpoint after a change; `secret` only after `rotate_secret` (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"url": "https://hooks.example.org/roundtable", "events": ["session.moved", "session.cancelled"], "description": "Team calendar bot"}))]
pub struct NewWebhook {
    /// `https://` (or `http://`) to a public address.
    pub url: Option<String>,
    /// Event kinds (see `EventKind`) whose audience is the whole cohort, or `["*"]`.
    pub events: Option<Vec<String>>,
    /// Up to 500 characters.
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"enabled": true, "rotate_secret": true}))]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    /// Turn it on (again: what queued while it was off is sent, oldest first) or off.
    pub enabled: Option<bool>,
    /// `true`: a new secret, answered once; the old one keeps signing beside it for 24 hours.
    pub rotate_secret: Option<bool>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub seq: i64,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub response_status: Option<i32>,
    pub latency_ms: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting: for its time (`next_attempt_at`) or for the endpoint's earlier deliveries.
    Pending,
    /// Being sent now.
    Sending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up (410 Gone, or failing for three days).
    Failed,
}

/// One delivery of one event to one endpoint, with how it went.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub webhook_id: String,
    /// The event's id, sent as `webhook-id` (the same on every attempt: receivers dedupe by it).
    pub event_id: String,
    #[schema(example = "session.moved")]
    pub kind: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// The HTTP status of the last answer; null when there was none (timeout, refused).
    pub response_status: Option<i32>,
    /// How long the last attempt took, in milliseconds.
    pub latency_ms: Option<i32>,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRow> for WebhookDelivery {
    fn from(row: DeliveryRow) -> Self {
        let status = match row.status.as_str() {
            "sending" => DeliveryStatus::Sending,
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        };
        Self {
            id: row.id,
            webhook_id: row.webhook_id,
            event_id: row.event_id,
            kind: row.kind,
            status,
            attempts: row.attempts,
            response_status: row.response_status,
            latency_ms: row.latency_ms,
            next_attempt_at: row.next_attempt_at.filter(|_| status == DeliveryStatus::Pending).map(|t| t.and_utc()),
            last_error: row.last_error,
            created_at: row.created_at.and_utc(),
            delivered_at: row.delivered_at.map(|t| t.and_utc()),
        }
    }
}
