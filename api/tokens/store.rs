use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::model::TokenRow;
use crate::accounts::model::UserRow;
use crate::auth::scopes::{self, Scope};
use crate::auth::secrets::{self, Secret};
use crate::db::schema::{personal_access_tokens as pat, users};
use crate::db::{AnyConnection, UserId, new_id};
use crate::error::ApiResult;
use crate::pagination::{PageRequest, after_cursor};

pub const PREFIX: &str = "rt_pat_";
/// Characters of the secret kept visible in lists.
const HINT_CHARS: usize = PREFIX.len() + 4;
/// `last_used_at` is written at most this often, so reads stay reads.
const LAST_USE_RESOLUTION_SECONDS: i64 = 60;

pub struct FoundToken {
    pub id: String,
    pub scopes: Vec<Scope>,
    pub last_used_at: Option<NaiveDateTime>,
}

/// The user and token behind a presented secret, if it is live.
pub fn authenticate(
    conn: &mut AnyConnection,
    plain: &str,
    now: DateTime<Utc>,
) -> ApiResult<Option<(UserRow, FoundToken)>> {
    let now = now.naive_utc();
    let found = pat::table
        .inner_join(users::table)
        .filter(pat::token_hash.eq(secrets::hash(plain)))
        .filter(pat::revoked_at.is_null())
        .filter(pat::expires_at.is_null().or(pat::expires_at.gt(now)))
        .select((UserRow::as_select(), pat::id, pat::scopes, pat::last_used_at))
        .first::<(UserRow, String, String, Option<NaiveDateTime>)>(conn)
        .optional()?;
    Ok(found.map(|(user, id, stored, last_used_at)| {
        (user, FoundToken { id, scopes: scopes::split(&stored), last_used_at })
    }))
}

pub fn last_use_is_stale(last_used_at: Option<NaiveDateTime>, now: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|at| now.naive_utc() - at >= Duration::seconds(LAST_USE_RESOLUTION_SECONDS))
}

pub fn record_use(conn: &mut AnyConnection, token_id: &str, now: DateTime<Utc>) -> ApiResult<()> {
    diesel::update(pat::table.find(token_id)).set(pat::last_used_at.eq(now.naive_utc())).execute(conn)?;
    Ok(())
}

pub fn create(
    conn: &mut AnyConnection,
    user_id: &UserId,
    name: &str,
    scopes: &[Scope],
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<(String, Secret)> {
    let secret = secrets::generate(PREFIX);
    let id = new_id();
    diesel::insert_into(pat::table)
        .values((
            pat::id.eq(&id),
            pat::user_id.eq(user_id),
            pat::name.eq(name),
            pat::token_hash.eq(&secret.hash),
            pat::token_hint.eq(format!("{}…", &secret.plain[..HINT_CHARS])),
            pat::scopes.eq(scopes::join(scopes)),
            pat::created_at.eq(now.naive_utc()),
            pat::expires_at.eq(expires_at.map(|t| t.naive_utc())),
        ))
        .execute(conn)?;
    Ok((id, secret))
}

pub fn find(conn: &mut AnyConnection, user_id: &UserId, token_id: &str) -> ApiResult<Option<TokenRow>> {
    Ok(pat::table
        .filter(pat::id.eq(token_id))
        .filter(pat::user_id.eq(user_id))
        .filter(pat::revoked_at.is_null())
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// The user's tokens that are not revoked, oldest first, one page.
pub fn list(conn: &mut AnyConnection, user_id: &UserId, page: &PageRequest) -> ApiResult<Vec<TokenRow>> {
    let mut query = pat::table
        .filter(pat::user_id.eq(user_id))
        .filter(pat::revoked_at.is_null())
        .order((pat::created_at.asc(), pat::id.asc()))
        .limit(page.fetch_limit())
        .select(TokenRow::as_select())
        .into_boxed();
    query = after_cursor!(query, page, pat::created_at, pat::id);
    Ok(query.load(conn)?)
}

/// Revokes every live token of the user (their password was reset or changed, or their address
/// was proven by someone who may not be whoever set the password).
pub fn revoke_all(conn: &mut AnyConnection, user_id: &UserId, now: DateTime<Utc>) -> ApiResult<usize> {
    Ok(diesel::update(pat::table.filter(pat::user_id.eq(user_id)).filter(pat::revoked_at.is_null()))
        .set(pat::revoked_at.eq(now.naive_utc()))
        .execute(conn)?)
}

/// Revokes one of the user's tokens; false when there is no such live token of theirs.
pub fn revoke(conn: &mut AnyConnection, user_id: &UserId, token_id: &str, now: DateTime<Utc>) -> ApiResult<bool> {
    let changed = diesel::update(
        pat::table.filter(pat::id.eq(token_id)).filter(pat::user_id.eq(user_id)).filter(pat::revoked_at.is_null()),
    )
    .set(pat::revoked_at.eq(now.naive_utc()))
    .execute(conn)?;
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_use_is_written_at_most_once_a_minute() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(last_use_is_stale(None, now));
        assert!(!last_use_is_stale(Some((now - Duration::seconds(59)).naive_utc()), now));
        assert!(last_use_is_stale(Some((now - Duration::seconds(60)).naive_utc()), now));
    }
}
