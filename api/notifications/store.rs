//! The `notifications` table: one row per notification by its unique key, written when it is
//! planned and moved on by the dispatcher. States: `planned` -> `queued` (its mail is in the
//! outbox, `mail_id`) | `withdrawn` (no longer planned: the session moved, the member paused) |
//! `skipped` (due, but no longer called for when it came to be sent: the member acted, or turned
//! the kind off). Writing the same key again changes nothing, so planning twice, or two
//! replicas planning at once, stores each notification once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::kinds::NotificationKind;
use crate::db::schema::notifications as n;
use crate::db::{AnyConnection, CohortId, UserId, new_id};
use crate::error::ApiResult;

pub const PLANNED: &str = "planned";
pub const QUEUED: &str = "queued";
pub const WITHDRAWN: &str = "withdrawn";
pub const SKIPPED: &str = "skipped";

/// A notification to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub key: String,
    pub kind: NotificationKind,
    pub user_id: UserId,
    pub cohort_id: Option<CohortId>,
    pub subject_id: String,
    pub occurs_at: Option<DateTime<Utc>>,
    pub planned_at: DateTime<Utc>,
    /// What the mail needs to know that the database will no longer say when it is sent (the
    /// time a session had before it moved, whether a duty was given or taken).
    pub data: serde_json::Value,
}

/// Stores the notifications whose keys are new; returns how many were new.
pub fn insert_new(conn: &mut AnyConnection, rows: &[NewNotification], now: DateTime<Utc>) -> ApiResult<usize> {
    let mut added = 0;
    for chunk in rows.chunks(200) {
        let values: Vec<_> = chunk
            .iter()
            .map(|row| {
                (
                    n::id.eq(new_id()),
                    n::key.eq(&row.key),
                    n::kind.eq(row.kind),
                    n::user_id.eq(&row.user_id),
                    n::cohort_id.eq(row.cohort_id.as_ref()),
                    n::subject_id.eq(&row.subject_id),
                    n::occurs_at.eq(row.occurs_at.map(|t| t.naive_utc())),
                    n::planned_at.eq(row.planned_at.naive_utc()),
                    n::status.eq(PLANNED),
                    n::data.eq(row.data.to_string()),
                    n::created_at.eq(now.naive_utc()),
                )
            })
            .collect();
        added += crate::per_backend!(conn, |c| {
            diesel::insert_into(n::table).values(&values).on_conflict(n::key).do_nothing().execute(c)
        })?;
    }
    Ok(added)
}

/// A planned notification as the planner compares it.
#[derive(Debug, Clone, Queryable)]
pub struct Stored {
    pub id: String,
    pub key: String,
}

/// The planned (unsent) notifications of `kinds` about what happens in `(from, to]`, optionally
/// only those of the given cohorts.
pub fn planned_between(
    conn: &mut AnyConnection,
    kinds: &[NotificationKind],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    cohorts: Option<&[CohortId]>,
) -> ApiResult<Vec<Stored>> {
    let mut query = n::table
        .filter(n::status.eq(PLANNED))
        .filter(n::occurs_at.gt(from.naive_utc()))
        .filter(n::occurs_at.le(to.naive_utc()))
        .filter(n::kind.eq_any(kinds.iter().map(|k| k.as_str())))
        .select((n::id, n::key))
        .into_boxed();
    if let Some(cohorts) = cohorts {
        query = query.filter(n::cohort_id.eq_any(cohorts));
    }
    Ok(query.load(conn)?)
}

/// Withdraws planned notifications (not yet sent); returns how many.
pub fn withdraw(conn: &mut AnyConnection, ids: &[String], reason: &str) -> ApiResult<usize> {
    let mut done = 0;
    for chunk in ids.chunks(500) {
        done += diesel::update(n::table.filter(n::id.eq_any(chunk)).filter(n::status.eq(PLANNED)))
            .set((n::status.eq(WITHDRAWN), n::reason.eq(reason)))
            .execute(conn)?;
    }
    Ok(done)
}

/// A due notification, claimed for sending.
#[derive(Debug, Clone, Queryable)]
pub struct Due {
    pub id: String,
    pub kind: NotificationKind,
    pub user_id: UserId,
    pub cohort_id: Option<CohortId>,
    pub subject_id: String,
    pub occurs_at: Option<chrono::NaiveDateTime>,
    pub planned_at: chrono::NaiveDateTime,
    pub data: String,
}

/// Up to `limit` planned notifications that are due, oldest first, held for this transaction:
/// on PostgreSQL `FOR UPDATE SKIP LOCKED`, so dispatchers on several replicas each take other
/// rows and none waits; SQLite has one writer at a time. The caller queues or skips each in the
/// same transaction (`queued`, `skipped` update only `planned` rows), so each is sent once.
pub fn claim_due(conn: &mut AnyConnection, now: DateTime<Utc>, limit: i64) -> ApiResult<Vec<Due>> {
    let pick = n::table
        .filter(n::status.eq(PLANNED))
        .filter(n::planned_at.le(now.naive_utc()))
        .order((n::planned_at.asc(), n::id.asc()))
        .limit(limit)
        .select((n::id, n::kind, n::user_id, n::cohort_id, n::subject_id, n::occurs_at, n::planned_at, n::data));
    Ok(match conn {
        AnyConnection::Postgresql(pg) => pick.for_update().skip_locked().load(pg)?,
        AnyConnection::Sqlite(lite) => pick.load(lite)?,
    })
}

/// Its mail is in the outbox.
pub fn mark_queued(conn: &mut AnyConnection, id: &str, mail_id: &str, now: DateTime<Utc>) -> ApiResult<bool> {
    let done = diesel::update(n::table.find(id).filter(n::status.eq(PLANNED)))
        .set((n::status.eq(QUEUED), n::mail_id.eq(mail_id), n::queued_at.eq(now.naive_utc())))
        .execute(conn)?;
    Ok(done == 1)
}

/// Due, but no longer called for.
pub fn mark_skipped(conn: &mut AnyConnection, id: &str, reason: &str) -> ApiResult<bool> {
    let done = diesel::update(n::table.find(id).filter(n::status.eq(PLANNED)))
        .set((n::status.eq(SKIPPED), n::reason.eq(reason)))
        .execute(conn)?;
    Ok(done == 1)
}
