//! The mail queue table. States: pending -> sending -> sent | logged, or back to pending with a
//! later `next_attempt_at`, or failed for good. A `sending` row whose lock ran out (its worker
//! died) is picked up again.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::schema::outbound_mail as mail;
use crate::db::{AnyConnection, new_id};
use crate::error::ApiResult;

/// How long a worker may hold a mail before another may take it over.
const CLAIM_SECONDS: i64 = 300;

pub struct OutgoingMail {
    /// The account the mail is about; its mail is deleted with the account.
    pub user_id: Option<String>,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
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
}

/// Queues a mail; call inside the transaction whose change the mail tells about.
pub fn enqueue(conn: &mut AnyConnection, outgoing: &OutgoingMail, now: DateTime<Utc>) -> ApiResult<()> {
    diesel::insert_into(mail::table)
        .values((
            mail::id.eq(new_id()),
            mail::user_id.eq(outgoing.user_id.as_deref()),
            mail::to_address.eq(&outgoing.to),
            mail::subject.eq(&outgoing.subject),
            mail::text_body.eq(&outgoing.text),
            mail::html_body.eq(&outgoing.html),
            mail::status.eq("pending"),
            mail::attempts.eq(0),
            mail::next_attempt_at.eq(now.naive_utc()),
            mail::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

const PENDING: &str = "pending";
const SENDING: &str = "sending";

/// Due and pending, or held by a worker whose claim has run out.
#[diesel::dsl::auto_type]
fn claimable(now: chrono::NaiveDateTime) -> _ {
    let pending: &'static str = PENDING;
    let sending: &'static str = SENDING;
    mail::status
        .eq(pending)
        .and(mail::next_attempt_at.le(now))
        .or(mail::status.eq(sending).and(mail::locked_until.lt(now)))
}

/// Ids of mails ready to send, oldest due first.
pub fn due(conn: &mut AnyConnection, now: DateTime<Utc>, limit: i64) -> ApiResult<Vec<String>> {
    Ok(mail::table
        .filter(claimable(now.naive_utc()))
        .order((mail::next_attempt_at.asc(), mail::id.asc()))
        .select(mail::id)
        .limit(limit)
        .load(conn)?)
}

/// Takes a mail for sending; `None` when another worker took it first.
pub fn claim(conn: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> ApiResult<Option<ClaimedMail>> {
    let taken = diesel::update(mail::table.find(id).filter(claimable(now.naive_utc())))
        .set((
            mail::status.eq(SENDING),
            mail::locked_until.eq((now + Duration::seconds(CLAIM_SECONDS)).naive_utc()),
            mail::attempts.eq(mail::attempts + 1),
        ))
        .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    let (to, subject, text, html, attempts) = mail::table
        .find(id)
        .select((mail::to_address, mail::subject, mail::text_body, mail::html_body, mail::attempts))
        .first(conn)?;
    Ok(Some(ClaimedMail { id: id.to_string(), to, subject, text, html, attempts }))
}

/// Records delivery and clears the bodies: they may hold sign-in links, which must not
/// outlive their purpose in the database.
pub fn mark_delivered(conn: &mut AnyConnection, id: &str, status: &str, now: DateTime<Utc>) -> ApiResult<()> {
    diesel::update(mail::table.find(id))
        .set((
            mail::status.eq(status),
            mail::sent_at.eq(now.naive_utc()),
            mail::locked_until.eq(None::<chrono::NaiveDateTime>),
            mail::last_error.eq(None::<String>),
            mail::text_body.eq(""),
            mail::html_body.eq(""),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: back to pending until `retry_at`, or failed for good.
pub fn mark_attempt_failed(
    conn: &mut AnyConnection,
    id: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> ApiResult<()> {
    let error: String = error.chars().take(500).collect();
    let target = mail::table.find(id);
    match retry_at {
        Some(at) => diesel::update(target)
            .set((
                mail::status.eq(PENDING),
                mail::next_attempt_at.eq(at.naive_utc()),
                mail::locked_until.eq(None::<chrono::NaiveDateTime>),
                mail::last_error.eq(error),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                mail::status.eq("failed"),
                mail::locked_until.eq(None::<chrono::NaiveDateTime>),
                mail::last_error.eq(error),
            ))
            .execute(conn)?,
    };
    Ok(())
}
