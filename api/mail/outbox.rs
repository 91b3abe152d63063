//! The mail queue table. States: pending -> sending -> sent | logged, or back to pending with a
//! later `next_attempt_at`, or failed for good, or unknown.
//!
//! Each claim writes a new `claim_token`, and a worker finishes a mail only while the row is still
//! `sending` with its token: a worker whose claim was taken over changes nothing. A `sending` row
//! whose lease ran out (its worker died or hung mid-send) may have gone out, so it is never sent
//! again by itself: `expire_claims` moves it to `unknown`, as the worker does when the SMTP
//! conversation broke off after the message was handed over. An operator who knows better puts
//! it back with `roundtable mail-requeue ID` (`requeue`).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::schema::outbound_mail as mail;
use crate::db::{AnyConnection, UserId, new_id};
use crate::error::ApiResult;

/// How long a worker may hold a mail before another may take it over.
const CLAIM_SECONDS: i64 = 300;

pub struct OutgoingMail {
    /// The kind, sent as `X-Roundtable-Kind` so people can filter on it.
    pub kind: &'static str,
    /// The account the mail is about; its mail is deleted with the account.
    pub user_id: Option<UserId>,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Notification mail: `List-Id` (the cohort's list) and the one-click unsubscribe URL of its
    /// kind (RFC 2919, RFC 8058). Account mail has neither.
    pub list: Option<ListHeaders>,
    /// Not sent after this (a reminder whose session has begun); `expired` instead.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListHeaders {
    /// `"Cohort name" <list-id>`, as the header carries it.
    pub list_id: String,
    pub unsubscribe_url: String,
}

/// A mail a worker has claimed and should now send.
pub struct ClaimedMail {
    /// The queued mail's id; its `Message-ID` is made from it, so a retry is the same message.
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Attempts including this one.
    pub attempts: i32,
    /// This claim's token: finishing the mail needs it.
    pub token: String,
    /// `X-Roundtable-Kind`; none for mail queued before kinds were kept.
    pub kind: Option<String>,
    pub list: Option<ListHeaders>,
}

/// Queues a mail; call inside the transaction whose change the mail tells about. Returns its id.
pub fn enqueue(conn: &mut AnyConnection, outgoing: &OutgoingMail, now: DateTime<Utc>) -> ApiResult<String> {
    let id = new_id();
    diesel::insert_into(mail::table)
        .values((
            mail::id.eq(&id),
            mail::user_id.eq(outgoing.user_id.as_ref()),
            mail::kind.eq(Some(outgoing.kind)),
            mail::to_address.eq(&outgoing.to),
            mail::subject.eq(&outgoing.subject),
            mail::text_body.eq(&outgoing.text),
            mail::html_body.eq(&outgoing.html),
            mail::status.eq("pending"),
            mail::attempts.eq(0),
            mail::next_attempt_at.eq(now.naive_utc()),
            mail::created_at.eq(now.naive_utc()),
            mail::list_id.eq(outgoing.list.as_ref().map(|l| &l.list_id)),
            mail::unsubscribe_url.eq(outgoing.list.as_ref().map(|l| &l.unsubscribe_url)),
            mail::expires_at.eq(outgoing.expires_at.map(|t| t.naive_utc())),
        ))
        .execute(conn)?;
    Ok(id)
}

const PENDING: &str = "pending";
const SENDING: &str = "sending";
const FAILED: &str = "failed";
pub const UNKNOWN: &str = "unknown";

type Timestamp = chrono::NaiveDateTime;

/// Due, pending and not expired. A `sending` row is never claimable: its worker may still be
/// sending it.
#[diesel::dsl::auto_type]
fn claimable(now: Timestamp) -> _ {
    let pending: &'static str = PENDING;
    mail::status
        .eq(pending)
        .and(mail::next_attempt_at.le(now))
        .and(mail::expires_at.is_null().or(mail::expires_at.gt(now)))
}

pub const EXPIRED: &str = "expired";

type Unsent<'a> = (
    diesel::dsl::Eq<mail::status, &'static str>,
    diesel::dsl::Eq<mail::last_error, &'a str>,
    diesel::dsl::Eq<mail::text_body, &'static str>,
    diesel::dsl::Eq<mail::html_body, &'static str>,
);

/// The change that ends a pending mail unsent: `expired`, with why, its bodies dropped.
fn unsent(reason: &str) -> Unsent<'_> {
    (mail::status.eq(EXPIRED), mail::last_error.eq(reason), mail::text_body.eq(""), mail::html_body.eq(""))
}

/// Moves pending mail whose time has passed (a reminder of a session that began while the mail
/// server was away) to `expired`, unsent; returns how many.
pub fn expire_stale(conn: &mut AnyConnection, now: DateTime<Utc>) -> ApiResult<usize> {
    Ok(diesel::update(mail::table.filter(mail::status.eq(PENDING)).filter(mail::expires_at.le(now.naive_utc())))
        .set(unsent("expired unsent: what it was about had begun"))
        .execute(conn)?)
}

/// Moves these mails, where still pending, to `expired`, unsent, with `reason`; returns how many.
/// A mail being sent (claimed) is not touched.
pub fn withdraw_pending(conn: &mut AnyConnection, ids: &[String], reason: &str) -> ApiResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(diesel::update(mail::table.filter(mail::id.eq_any(ids)).filter(mail::status.eq(PENDING)))
        .set(unsent(reason))
        .execute(conn)?)
}

/// Claims up to `limit` due mails for sending, oldest due first, under one new token (finishing
/// each needs it). On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so several workers
/// claiming at once each get other mails and none waits for another; SQLite has one writer at a
/// time, so its pick and update cannot interleave with another claim. The update repeats the
/// "still claimable" condition, so a row is claimed once whichever way the workers cross.
pub fn claim_batch(conn: &mut AnyConnection, now: DateTime<Utc>, limit: i64) -> ApiResult<Vec<ClaimedMail>> {
    let at = now.naive_utc();
    let pick = mail::table
        .filter(claimable(at))
        .order((mail::next_attempt_at.asc(), mail::id.asc()))
        .select(mail::id)
        .limit(limit);
    let ids: Vec<String> = match conn {
        AnyConnection::Postgresql(pg) => pick.for_update().skip_locked().load(pg)?,
        AnyConnection::Sqlite(lite) => pick.load(lite)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let token = new_id();
    take(conn, &ids, &token, now)?;
    claimed(conn, &ids, &token)
}

/// Marks those of `ids` that are still claimable as sent by `token`'s claim; returns how many.
fn take(conn: &mut AnyConnection, ids: &[String], token: &str, now: DateTime<Utc>) -> ApiResult<usize> {
    Ok(diesel::update(mail::table.filter(mail::id.eq_any(ids)).filter(claimable(now.naive_utc())))
        .set((
            mail::status.eq(SENDING),
            mail::claim_token.eq(token),
            mail::locked_until.eq((now + Duration::seconds(CLAIM_SECONDS)).naive_utc()),
            mail::attempts.eq(mail::attempts + 1),
        ))
        .execute(conn)?)
}

/// Takes a mail for sending, with a new token; `None` when another worker took it first.
pub fn claim(conn: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> ApiResult<Option<ClaimedMail>> {
    let (token, ids) = (new_id(), [id.to_string()]);
    if take(conn, &ids, &token, now)? == 0 {
        return Ok(None);
    }
    Ok(claimed(conn, &ids, &token)?.pop())
}

/// The mails of `ids` that `token`'s claim holds, oldest due first.
fn claimed(conn: &mut AnyConnection, ids: &[String], token: &str) -> ApiResult<Vec<ClaimedMail>> {
    type Row = (String, String, String, String, String, i32, Option<String>, Option<String>, Option<String>);
    let rows: Vec<Row> = mail::table
        .filter(mail::id.eq_any(ids))
        .filter(mail::claim_token.eq(token))
        .order((mail::next_attempt_at.asc(), mail::id.asc()))
        .select((
            mail::id,
            mail::to_address,
            mail::subject,
            mail::text_body,
            mail::html_body,
            mail::attempts,
            mail::kind,
            mail::list_id,
            mail::unsubscribe_url,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, to, subject, text, html, attempts, kind, list_id, unsubscribe_url)| ClaimedMail {
            id,
            to,
            subject,
            text,
            html,
            attempts,
            token: token.to_string(),
            kind,
            list: list_id
                .zip(unsubscribe_url)
                .map(|(list_id, unsubscribe_url)| ListHeaders { list_id, unsubscribe_url }),
        })
        .collect())
}

/// The row as long as `token`'s claim holds it.
#[diesel::dsl::auto_type]
fn held<'a>(id: &'a str, token: &'a str) -> _ {
    let sending: &'static str = SENDING;
    mail::table.find(id).filter(mail::status.eq(sending)).filter(mail::claim_token.eq(token))
}

/// Records delivery and clears the bodies: they may hold sign-in links, which must not
/// outlive their purpose in the database. False (nothing changed) when the claim was taken over.
pub fn mark_delivered(
    conn: &mut AnyConnection,
    id: &str,
    token: &str,
    status: &str,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let done = diesel::update(held(id, token))
        .set((
            mail::status.eq(status),
            mail::sent_at.eq(now.naive_utc()),
            mail::locked_until.eq(None::<Timestamp>),
            mail::claim_token.eq(None::<String>),
            mail::last_error.eq(None::<String>),
            mail::text_body.eq(""),
            mail::html_body.eq(""),
        ))
        .execute(conn)?;
    Ok(done == 1)
}

/// What a failed attempt leaves the mail in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Pending again, due at this instant.
    RetryAt(DateTime<Utc>),
    /// Failed for good.
    Failed,
    /// It may have been delivered: not sent again by itself.
    Unknown,
}

/// Records a failed attempt. False (nothing changed) when the claim was taken over.
pub fn mark_attempt_failed(
    conn: &mut AnyConnection,
    id: &str,
    token: &str,
    error: &str,
    after: AfterFailure,
) -> ApiResult<bool> {
    let error: String = error.chars().take(500).collect();
    let (status, next_attempt_at) = match after {
        AfterFailure::RetryAt(at) => (PENDING, Some(at.naive_utc())),
        AfterFailure::Failed => (FAILED, None),
        AfterFailure::Unknown => (UNKNOWN, None),
    };
    let target = held(id, token);
    let done = match next_attempt_at {
        Some(at) => diesel::update(target)
            .set((
                mail::status.eq(status),
                mail::next_attempt_at.eq(at),
                mail::locked_until.eq(None::<Timestamp>),
                mail::claim_token.eq(None::<String>),
                mail::last_error.eq(error),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                mail::status.eq(status),
                mail::locked_until.eq(None::<Timestamp>),
                mail::claim_token.eq(None::<String>),
                mail::last_error.eq(error),
            ))
            .execute(conn)?,
    };
    Ok(done == 1)
}

/// Moves every `sending` row whose lease ran out to `unknown` (its worker died or hung; the mail
/// may have gone out); returns how many.
pub fn expire_claims(conn: &mut AnyConnection, now: DateTime<Utc>) -> ApiResult<usize> {
    Ok(diesel::update(mail::table.filter(mail::status.eq(SENDING)).filter(mail::locked_until.lt(now.naive_utc())))
        .set((
            mail::status.eq(UNKNOWN),
            mail::locked_until.eq(None::<Timestamp>),
            mail::claim_token.eq(None::<String>),
            mail::last_error.eq("the worker's claim ran out while sending: it may have been delivered"),
        ))
        .execute(conn)?)
}

/// Puts an `unknown` or `failed` mail back in the queue, due now (an operator's decision);
/// false when there is no such mail in either state.
pub fn requeue(conn: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> ApiResult<bool> {
    let stuck = mail::status.eq(UNKNOWN).or(mail::status.eq(FAILED));
    let done = diesel::update(mail::table.find(id).filter(stuck))
        .set((
            mail::status.eq(PENDING),
            mail::next_attempt_at.eq(now.naive_utc()),
            mail::claim_token.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(done == 1)
}
