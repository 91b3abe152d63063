use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::model::{ProfileChanges, SignInRow, UserRow};
use crate::db::schema::{auth_sessions, users};
use crate::db::{AnyConnection, UserId};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{PageRequest, after_cursor};

pub fn insert(conn: &mut AnyConnection, user: &UserRow) -> ApiResult<()> {
    diesel::insert_into(users::table).values(user).execute(conn).map_err(|e| match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            ApiError::conflict("email_taken", "An account with this email address already exists.")
        }
        other => other.into(),
    })?;
    Ok(())
}

pub fn find(conn: &mut AnyConnection, user_id: &UserId) -> ApiResult<Option<UserRow>> {
    Ok(users::table.find(user_id).select(UserRow::as_select()).first(conn).optional()?)
}

pub fn find_by_email_key(conn: &mut AnyConnection, email_key: &str) -> ApiResult<Option<UserRow>> {
    Ok(users::table.filter(users::email_lower.eq(email_key)).select(UserRow::as_select()).first(conn).optional()?)
}

pub fn update_profile(conn: &mut AnyConnection, user_id: &UserId, changes: &ProfileChanges) -> ApiResult<()> {
    diesel::update(users::table.find(user_id)).set(changes).execute(conn)?;
    Ok(())
}

pub fn set_password(
    conn: &mut AnyConnection,
    user_id: &UserId,
    password_hash: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    diesel::update(users::table.find(user_id))
        .set((users::password_hash.eq(password_hash), users::updated_at.eq(now.naive_utc())))
        .execute(conn)?;
    Ok(())
}

/// Marks the address verified (first time only); true when this call verified it.
pub fn mark_email_verified(conn: &mut AnyConnection, user_id: &UserId, now: DateTime<Utc>) -> ApiResult<bool> {
    let changed = diesel::update(users::table.find(user_id).filter(users::email_verified_at.is_null()))
        .set(users::email_verified_at.eq(now.naive_utc()))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes the account; sign-ins, tokens and queued mail go with it (ON DELETE CASCADE).
pub fn delete(conn: &mut AnyConnection, user_id: &UserId) -> ApiResult<()> {
    diesel::delete(users::table.find(user_id)).execute(conn)?;
    Ok(())
}

/// The user's active sign-ins, oldest first, one page.
pub fn sign_ins(conn: &mut AnyConnection, user_id: &UserId, page: &PageRequest) -> ApiResult<Vec<SignInRow>> {
    let mut query = auth_sessions::table
        .filter(auth_sessions::user_id.eq(user_id))
        .filter(auth_sessions::revoked_at.is_null())
        .select(SignInRow::as_select())
        .order((auth_sessions::created_at.asc(), auth_sessions::id.asc()))
        .limit(page.fetch_limit())
        .into_boxed();
    query = after_cursor!(query, page, auth_sessions::created_at, auth_sessions::id);
    Ok(query.load(conn)?)
}
