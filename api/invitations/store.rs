use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::model::{INVITATION_DAYS, InvitationRow, InvitationState, InviteLinkRow};
use crate::cohorts::model::{MemberState, Role};
use crate::db::schema::{invitations as inv, invite_links as link, memberships, users};
use crate::db::{AnyConnection, CohortId, UserId, new_id};
use crate::error::ApiResult;
use crate::pagination::{PageRequest, after_cursor};

/// Addresses (by key) among `keys` that already belong to active or paused members.
pub fn member_addresses(conn: &mut AnyConnection, cohort_id: &CohortId, keys: &[String]) -> ApiResult<Vec<String>> {
    Ok(users::table
        .inner_join(memberships::table)
        .filter(memberships::cohort_id.eq(cohort_id))
        .filter(memberships::state.ne(MemberState::Left.as_str()))
        .filter(users::email_lower.eq_any(keys))
        .select(users::email_lower)
        .load(conn)?)
}

pub struct NewInvitation<'a> {
    pub cohort_id: &'a CohortId,
    pub email: &'a str,
    pub email_key: &'a str,
    pub role: Role,
    pub invited_by: &'a UserId,
    pub token_hash: &'a str,
}

/// The open invitations of the cohort for these addresses (by key): key -> invitation id.
pub fn open_for(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    keys: &[String],
) -> ApiResult<std::collections::HashMap<String, String>> {
    let rows: Vec<(String, String)> = inv::table
        .filter(inv::cohort_id.eq(cohort_id))
        .filter(inv::email_lower.eq_any(keys))
        .filter(inv::accepted_at.is_null())
        .filter(inv::revoked_at.is_null())
        .select((inv::email_lower, inv::id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Creates an invitation, or renews `open` (new secret, new expiry) when the address has one.
pub fn invite(
    conn: &mut AnyConnection,
    new: NewInvitation<'_>,
    open: Option<&String>,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    let NewInvitation { cohort_id, email, email_key, role, invited_by, token_hash } = new;
    let expires_at = (now + Duration::days(INVITATION_DAYS)).naive_utc();
    if let Some(id) = open {
        renew(conn, id, token_hash, Some(role), now)?;
        return Ok(id.clone());
    }
    let id = new_id();
    diesel::insert_into(inv::table)
        .values((
            inv::id.eq(&id),
            inv::cohort_id.eq(cohort_id),
            inv::email.eq(email),
            inv::email_lower.eq(email_key),
            inv::role.eq(role.as_str()),
            inv::token_hash.eq(token_hash),
            inv::invited_by.eq(invited_by),
            inv::created_at.eq(now.naive_utc()),
            inv::sent_at.eq(now.naive_utc()),
            inv::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(id)
}

/// A new secret and expiry for an open invitation (the old link stops working).
pub fn renew(
    conn: &mut AnyConnection,
    id: &str,
    token_hash: &str,
    role: Option<Role>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let expires_at = (now + Duration::days(INVITATION_DAYS)).naive_utc();
    let target = inv::table.find(id);
    diesel::update(target)
        .set((inv::token_hash.eq(token_hash), inv::sent_at.eq(now.naive_utc()), inv::expires_at.eq(expires_at)))
        .execute(conn)?;
    if let Some(role) = role {
        diesel::update(target).set(inv::role.eq(role.as_str())).execute(conn)?;
    }
    Ok(())
}

/// These invitations of the cohort, in one query.
pub fn find_many(conn: &mut AnyConnection, cohort_id: &CohortId, ids: &[String]) -> ApiResult<Vec<InvitationRow>> {
    Ok(inv::table
        .filter(inv::cohort_id.eq(cohort_id))
        .filter(inv::id.eq_any(ids))
        .select(InvitationRow::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut AnyConnection, cohort_id: &CohortId, id: &str) -> ApiResult<Option<InvitationRow>> {
    Ok(inv::table
        .filter(inv::cohort_id.eq(cohort_id))
        .filter(inv::id.eq(id))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn by_token(conn: &mut AnyConnection, token_hash: &str) -> ApiResult<Option<InvitationRow>> {
    Ok(inv::table.filter(inv::token_hash.eq(token_hash)).select(InvitationRow::as_select()).first(conn).optional()?)
}

/// Marks a pending invitation accepted; false when it was no longer pending.
pub fn accept(conn: &mut AnyConnection, id: &str, user_id: &UserId, now: DateTime<Utc>) -> ApiResult<bool> {
    let pending = inv::table
        .find(id)
        .filter(inv::accepted_at.is_null())
        .filter(inv::revoked_at.is_null())
        .filter(inv::expires_at.gt(now.naive_utc()));
    let changed = diesel::update(pending)
        .set((inv::accepted_at.eq(now.naive_utc()), inv::accepted_by.eq(user_id)))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Revokes an open invitation; false when it was accepted or revoked already.
pub fn revoke(conn: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> ApiResult<bool> {
    let open = inv::table.find(id).filter(inv::accepted_at.is_null()).filter(inv::revoked_at.is_null());
    Ok(diesel::update(open).set(inv::revoked_at.eq(now.naive_utc())).execute(conn)? == 1)
}

pub fn list(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    state: Option<InvitationState>,
    page: &PageRequest,
    now: DateTime<Utc>,
) -> ApiResult<Vec<InvitationRow>> {
    let now = now.naive_utc();
    let mut query = inv::table
        .filter(inv::cohort_id.eq(cohort_id))
        .order((inv::created_at.asc(), inv::id.asc()))
        .limit(page.fetch_limit())
        .select(InvitationRow::as_select())
        .into_boxed();
    query = match state {
        None => query,
        Some(InvitationState::Accepted) => query.filter(inv::accepted_at.is_not_null()),
        Some(InvitationState::Revoked) => query.filter(inv::revoked_at.is_not_null()),
        Some(InvitationState::Pending) => {
            query.filter(inv::accepted_at.is_null()).filter(inv::revoked_at.is_null()).filter(inv::expires_at.gt(now))
        }
        Some(InvitationState::Expired) => {
            query.filter(inv::accepted_at.is_null()).filter(inv::revoked_at.is_null()).filter(inv::expires_at.le(now))
        }
    };
    query = after_cursor!(query, page, inv::created_at, inv::id);
    Ok(query.load(conn)?)
}

pub struct NewLink<'a> {
    pub cohort_id: &'a CohortId,
    pub code_hash: &'a str,
    pub code_hint: &'a str,
    pub created_by: &'a UserId,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_uses: Option<i32>,
}

pub fn insert_link(conn: &mut AnyConnection, new: NewLink<'_>, now: DateTime<Utc>) -> ApiResult<InviteLinkRow> {
    let NewLink { cohort_id, code_hash, code_hint, created_by, expires_at, max_uses } = new;
    let id = new_id();
    diesel::insert_into(link::table)
        .values((
            link::id.eq(&id),
            link::cohort_id.eq(cohort_id),
            link::code_hash.eq(code_hash),
            link::code_hint.eq(code_hint),
            link::created_by.eq(created_by),
            link::created_at.eq(now.naive_utc()),
            link::expires_at.eq(expires_at.map(|t| t.naive_utc())),
            link::max_uses.eq(max_uses),
            link::uses.eq(0),
        ))
        .execute(conn)?;
    Ok(link::table.find(&id).select(InviteLinkRow::as_select()).first(conn)?)
}

pub fn list_links(conn: &mut AnyConnection, cohort_id: &CohortId, page: &PageRequest) -> ApiResult<Vec<InviteLinkRow>> {
    let mut query = link::table
        .filter(link::cohort_id.eq(cohort_id))
        .order((link::created_at.asc(), link::id.asc()))
        .limit(page.fetch_limit())
        .select(InviteLinkRow::as_select())
        .into_boxed();
    query = after_cursor!(query, page, link::created_at, link::id);
    Ok(query.load(conn)?)
}

pub fn revoke_link(conn: &mut AnyConnection, cohort_id: &CohortId, id: &str, now: DateTime<Utc>) -> ApiResult<bool> {
    let open =
        link::table.filter(link::cohort_id.eq(cohort_id)).filter(link::id.eq(id)).filter(link::revoked_at.is_null());
    Ok(diesel::update(open).set(link::revoked_at.eq(now.naive_utc())).execute(conn)? == 1)
}

/// The link behind a code, if it can still be used.
pub fn usable_link(conn: &mut AnyConnection, code_hash: &str, now: DateTime<Utc>) -> ApiResult<Option<InviteLinkRow>> {
    let now = now.naive_utc();
    Ok(link::table
        .filter(link::code_hash.eq(code_hash))
        .filter(link::revoked_at.is_null())
        .filter(link::expires_at.is_null().or(link::expires_at.gt(now)))
        .filter(link::max_uses.is_null().or(link::uses.lt(link::max_uses.assume_not_null())))
        .select(InviteLinkRow::as_select())
        .first(conn)
        .optional()?)
}

/// Counts one use, only while uses remain: two people racing for the last place cannot both get it.
pub fn spend_use(conn: &mut AnyConnection, id: &str) -> ApiResult<bool> {
    let with_room =
        link::table.find(id).filter(link::max_uses.is_null().or(link::uses.lt(link::max_uses.assume_not_null())));
    Ok(diesel::update(with_room).set(link::uses.eq(link::uses + 1)).execute(conn)? == 1)
}

/// Whether an instance that admits only invited people (`ROUNDTABLE_SIGNUP=invite-only`) lets this
/// address sign up: it has a pending invitation (not accepted, revoked or expired) to a cohort
/// that is not archived, or `code_hash` is the hash of a usable invite link's code of such a
/// cohort. Signing up spends nothing: the invitation is accepted, or the link used, on joining.
pub fn admits_signup(
    conn: &mut AnyConnection,
    email_key: &str,
    code_hash: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    use crate::db::schema::cohorts;
    let at = now.naive_utc();
    let invited: i64 = inv::table
        .inner_join(cohorts::table)
        .filter(inv::email_lower.eq(email_key))
        .filter(inv::accepted_at.is_null())
        .filter(inv::revoked_at.is_null())
        .filter(inv::expires_at.gt(at))
        .filter(cohorts::archived_at.is_null())
        .count()
        .get_result(conn)?;
    if invited > 0 {
        return Ok(true);
    }
    let Some(code_hash) = code_hash else { return Ok(false) };
    let Some(link) = usable_link(conn, code_hash, now)? else { return Ok(false) };
    let archived: Option<Option<chrono::NaiveDateTime>> =
        cohorts::table.find(&link.cohort_id).select(cohorts::archived_at).first(conn).optional()?;
    Ok(matches!(archived, Some(None)))
}
