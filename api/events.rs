//! The transactional outbox. Every state change someone may need to hear about appends an event
//! in the same transaction as the change, so an event exists exactly when the change does.
//! Notifications, webhooks and the activity feed read from here; nothing calls out in a request.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::events;
use crate::db::{AnyConnection, new_id};
use crate::error::ApiResult;

pub struct NewEvent<'a> {
    /// Dotted name, e.g. `user.signed_up`.
    pub kind: &'a str,
    pub actor_id: Option<&'a str>,
    pub cohort_id: Option<&'a str>,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    /// Extra facts for readers; never secrets, and no personal data that outlives its owner.
    pub payload: serde_json::Value,
}

impl<'a> NewEvent<'a> {
    /// An event of `kind` about one object, e.g. `("member.joined", "member", user_id)`.
    pub fn new(kind: &'a str, subject_type: &'a str, subject_id: &'a str) -> Self {
        Self { kind, actor_id: None, cohort_id: None, subject_type, subject_id, payload: serde_json::json!({}) }
    }

    /// Who did it.
    pub fn by(self, actor_id: &'a str) -> Self {
        Self { actor_id: Some(actor_id), ..self }
    }

    pub fn in_cohort(self, cohort_id: &'a str) -> Self {
        Self { cohort_id: Some(cohort_id), ..self }
    }

    pub fn with(self, payload: serde_json::Value) -> Self {
        Self { payload, ..self }
    }

    /// Appends the event; call it inside the transaction that makes the change.
    pub fn record(self, conn: &mut AnyConnection, now: DateTime<Utc>) -> ApiResult<()> {
        append(conn, self, now)
    }
}

/// The names of the fields a partial update sets, for the event that records it.
pub fn changed_fields(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
    fields.iter().filter_map(|(name, set)| set.then_some(*name)).collect()
}

#[derive(Insertable)]
#[diesel(table_name = events)]
struct EventRow<'a> {
    id: String,
    kind: &'a str,
    actor_id: Option<&'a str>,
    cohort_id: Option<&'a str>,
    subject_type: &'a str,
    subject_id: &'a str,
    payload: String,
    created_at: chrono::NaiveDateTime,
}

fn append(conn: &mut AnyConnection, event: NewEvent<'_>, now: DateTime<Utc>) -> ApiResult<()> {
    diesel::insert_into(events::table)
        .values(EventRow {
            id: new_id(),
            kind: event.kind,
            actor_id: event.actor_id,
            cohort_id: event.cohort_id,
            subject_type: event.subject_type,
            subject_id: event.subject_id,
            payload: event.payload.to_string(),
            created_at: now.naive_utc(),
        })
        .execute(conn)?;
    Ok(())
}
