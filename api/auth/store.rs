//! Sign-ins, refresh-token rotation and one-time links, all decided by conditional updates in the
//! database so that two racing requests can never both succeed.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::secrets::{self, Secret};
use crate::accounts::model::UserRow;
use crate::db::schema::{auth_sessions, one_time_tokens, refresh_tokens, users};
use crate::db::{AnyConnection, UserId, new_id};
use crate::error::{ApiError, ApiResult};

pub const REFRESH_TOKEN_DAYS: i64 = 30;
pub const REFRESH_PREFIX: &str = "rt_rf_";
pub const LINK_PREFIX: &str = "rt_ln_";

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    MagicLink,
    PasswordReset,
    EmailVerification,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::MagicLink => "magic_link",
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
        }
    }

    pub fn lifetime(self) -> Duration {
        match self {
            Self::MagicLink | Self::PasswordReset => Duration::minutes(15),
            Self::EmailVerification => Duration::days(2),
        }
    }
}

/// Starts a sign-in and returns its id and first refresh token.
pub fn start_session(
    conn: &mut AnyConnection,
    user_id: &UserId,
    method: &str,
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<(String, Secret)> {
    let session_id = new_id();
    diesel::insert_into(auth_sessions::table)
        .values((
            auth_sessions::id.eq(&session_id),
            auth_sessions::user_id.eq(user_id),
            auth_sessions::method.eq(method),
            auth_sessions::user_agent.eq(user_agent.map(|ua| ua.chars().take(300).collect::<String>())),
            auth_sessions::created_at.eq(now.naive_utc()),
            auth_sessions::last_used_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let refresh = issue_refresh(conn, &session_id, now)?;
    Ok((session_id, refresh))
}

fn issue_refresh(conn: &mut AnyConnection, session_id: &str, now: DateTime<Utc>) -> ApiResult<Secret> {
    let secret = secrets::generate(REFRESH_PREFIX);
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(new_id()),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::token_hash.eq(&secret.hash),
            refresh_tokens::created_at.eq(now.naive_utc()),
            refresh_tokens::expires_at.eq((now + Duration::days(REFRESH_TOKEN_DAYS)).naive_utc()),
        ))
        .execute(conn)?;
    Ok(secret)
}

pub struct Rotated {
    pub user_id: UserId,
    pub session_id: String,
    pub refresh: Secret,
}

/// Outcome of presenting a refresh token; reuse is reported, not raised, so that the caller can
/// commit the revocation before answering 401.
pub enum Rotation {
    Rotated(Rotated),
    Reused,
    Invalid,
}

/// Trades a refresh token for a new one in the same sign-in. A token that was already used means
/// a copy is in someone else's hands: the whole sign-in (token family) is revoked.
pub fn rotate_refresh(conn: &mut AnyConnection, presented: &str, now: DateTime<Utc>) -> ApiResult<Rotation> {
    let hash = secrets::hash(presented);
    let Some((token_id, session_id, user_id, expires_at, revoked_at)) = refresh_tokens::table
        .inner_join(auth_sessions::table)
        .filter(refresh_tokens::token_hash.eq(&hash))
        .select((
            refresh_tokens::id,
            refresh_tokens::session_id,
            auth_sessions::user_id,
            refresh_tokens::expires_at,
            auth_sessions::revoked_at,
        ))
        .first::<(String, String, UserId, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)>(conn)
        .optional()?
    else {
        return Ok(Rotation::Invalid);
    };
    if revoked_at.is_some() || expires_at <= now.naive_utc() {
        return Ok(Rotation::Invalid);
    }
    // Only one request can flip used_at from NULL: a second use of the same token loses here.
    let claimed = diesel::update(refresh_tokens::table.find(&token_id).filter(refresh_tokens::used_at.is_null()))
        .set(refresh_tokens::used_at.eq(now.naive_utc()))
        .execute(conn)?;
    if claimed == 0 {
        revoke_session(conn, &session_id, "refresh_token_reused", now)?;
        return Ok(Rotation::Reused);
    }
    diesel::update(auth_sessions::table.find(&session_id))
        .set(auth_sessions::last_used_at.eq(now.naive_utc()))
        .execute(conn)?;
    let refresh = issue_refresh(conn, &session_id, now)?;
    Ok(Rotation::Rotated(Rotated { user_id, session_id, refresh }))
}

/// The session a refresh token belongs to, if the token is known (used or not).
pub fn session_of_refresh(conn: &mut AnyConnection, presented: &str) -> ApiResult<Option<String>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(secrets::hash(presented)))
        .select(refresh_tokens::session_id)
        .first(conn)
        .optional()?)
}

pub fn revoke_session(conn: &mut AnyConnection, session_id: &str, reason: &str, now: DateTime<Utc>) -> ApiResult<bool> {
    let changed = diesel::update(auth_sessions::table.find(session_id).filter(auth_sessions::revoked_at.is_null()))
        .set((auth_sessions::revoked_at.eq(now.naive_utc()), auth_sessions::revoked_reason.eq(reason)))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Revokes one of the user's own sign-ins; false when it is not theirs or already ended.
pub fn revoke_own_session(
    conn: &mut AnyConnection,
    user_id: &UserId,
    session_id: &str,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let changed = diesel::update(
        auth_sessions::table
            .find(session_id)
            .filter(auth_sessions::user_id.eq(user_id))
            .filter(auth_sessions::revoked_at.is_null()),
    )
    .set((auth_sessions::revoked_at.eq(now.naive_utc()), auth_sessions::revoked_reason.eq("signed_out")))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Ends every sign-in of the user, except `keep` (the one making the request) if given.
pub fn revoke_all_sessions(
    conn: &mut AnyConnection,
    user_id: &UserId,
    keep: Option<&str>,
    reason: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let active = auth_sessions::table
        .filter(auth_sessions::user_id.eq(user_id))
        .filter(auth_sessions::revoked_at.is_null())
        .filter(auth_sessions::id.ne(keep.unwrap_or("")));
    diesel::update(active)
        .set((auth_sessions::revoked_at.eq(now.naive_utc()), auth_sessions::revoked_reason.eq(reason)))
        .execute(conn)?;
    Ok(())
}

/// The user behind an access token, if its sign-in is still active.
pub fn active_user(conn: &mut AnyConnection, user_id: &UserId, session_id: &str) -> ApiResult<Option<UserRow>> {
    Ok(users::table
        .inner_join(auth_sessions::table)
        .filter(users::id.eq(user_id))
        .filter(auth_sessions::id.eq(session_id))
        .filter(auth_sessions::revoked_at.is_null())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// Creates a single-use link secret for the user.
pub fn create_link(
    conn: &mut AnyConnection,
    user_id: &UserId,
    purpose: LinkPurpose,
    now: DateTime<Utc>,
) -> ApiResult<Secret> {
    let secret = secrets::generate(LINK_PREFIX);
    diesel::insert_into(one_time_tokens::table)
        .values((
            one_time_tokens::id.eq(new_id()),
            one_time_tokens::user_id.eq(user_id),
            one_time_tokens::purpose.eq(purpose.as_str()),
            one_time_tokens::token_hash.eq(&secret.hash),
            one_time_tokens::created_at.eq(now.naive_utc()),
            one_time_tokens::expires_at.eq((now + purpose.lifetime()).naive_utc()),
        ))
        .execute(conn)?;
    Ok(secret)
}

/// Uses up a link and returns its user. Unknown, expired, used or wrong-purpose links all get the
/// same answer, and a link can be used once even when two requests race.
pub fn redeem_link(
    conn: &mut AnyConnection,
    presented: &str,
    purpose: LinkPurpose,
    now: DateTime<Utc>,
) -> ApiResult<UserId> {
    let invalid = || ApiError::unauthorized("invalid_link", "This link is invalid, has expired or was already used.");
    let hash = secrets::hash(presented);
    let claimable = one_time_tokens::table
        .filter(one_time_tokens::token_hash.eq(&hash))
        .filter(one_time_tokens::purpose.eq(purpose.as_str()))
        .filter(one_time_tokens::used_at.is_null())
        .filter(one_time_tokens::expires_at.gt(now.naive_utc()));
    let claimed = diesel::update(claimable).set(one_time_tokens::used_at.eq(now.naive_utc())).execute(conn)?;
    if claimed != 1 {
        return Err(invalid());
    }
    let user_id = one_time_tokens::table
        .filter(one_time_tokens::token_hash.eq(&hash))
        .select(one_time_tokens::user_id)
        .first(conn)?;
    Ok(user_id)
}
