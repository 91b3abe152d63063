use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::{CohortChanges, CohortRow, MemberFilter, MemberState, MembershipRow, Role};
use crate::db::schema::{cohorts, memberships, users};
use crate::db::{AnyConnection, CohortId, UserId};
use crate::error::ApiResult;
use crate::pagination::{PageRequest, after_cursor};

pub fn insert_cohort(conn: &mut AnyConnection, cohort: &CohortRow) -> ApiResult<()> {
    diesel::insert_into(cohorts::table).values(cohort).execute(conn)?;
    Ok(())
}

pub fn cohort_with_membership(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    user_id: &UserId,
) -> ApiResult<Option<(CohortRow, MembershipRow)>> {
    Ok(cohorts::table
        .inner_join(memberships::table)
        .filter(cohorts::id.eq(cohort_id))
        .filter(memberships::user_id.eq(user_id))
        .select((CohortRow::as_select(), MembershipRow::as_select()))
        .first(conn)
        .optional()?)
}

pub fn find_cohort(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<Option<CohortRow>> {
    Ok(cohorts::table.find(cohort_id).select(CohortRow::as_select()).first(conn).optional()?)
}

/// Active and paused members.
pub fn member_count(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<i64> {
    Ok(memberships::table
        .filter(memberships::cohort_id.eq(cohort_id))
        .filter(memberships::state.ne(MemberState::Left.as_str()))
        .count()
        .get_result(conn)?)
}

/// The cohorts the user belongs to (not left), in the order they joined, with member counts;
/// two queries per page, whatever its size.
pub fn my_cohorts(
    conn: &mut AnyConnection,
    user_id: &UserId,
    page: &PageRequest,
) -> ApiResult<Vec<(CohortRow, MembershipRow, i64)>> {
    let mut query = cohorts::table
        .inner_join(memberships::table)
        .filter(memberships::user_id.eq(user_id))
        .filter(memberships::state.ne(MemberState::Left.as_str()))
        .order((memberships::joined_at.asc(), memberships::cohort_id.asc()))
        .limit(page.fetch_limit())
        .select((CohortRow::as_select(), MembershipRow::as_select()))
        .into_boxed();
    query = after_cursor!(query, page, memberships::joined_at, memberships::cohort_id);
    let rows: Vec<(CohortRow, MembershipRow)> = query.load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|(c, _)| c.id.as_str()).collect();
    let counts: Vec<(CohortId, i64)> = memberships::table
        .filter(memberships::cohort_id.eq_any(&ids))
        .filter(memberships::state.ne(MemberState::Left.as_str()))
        .group_by(memberships::cohort_id)
        .select((memberships::cohort_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(cohort, membership)| {
            let count = counts.iter().find(|(id, _)| *id == cohort.id).map_or(0, |(_, n)| *n);
            (cohort, membership, count)
        })
        .collect())
}

pub fn agenda_template(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<Option<String>> {
    Ok(cohorts::table.find(cohort_id).select(cohorts::agenda_template).first(conn).optional()?.flatten())
}

pub fn set_agenda_template(conn: &mut AnyConnection, cohort_id: &CohortId, template: &str) -> ApiResult<()> {
    diesel::update(cohorts::table.find(cohort_id)).set(cohorts::agenda_template.eq(template)).execute(conn)?;
    Ok(())
}

pub fn update_cohort(conn: &mut AnyConnection, cohort_id: &CohortId, changes: &CohortChanges) -> ApiResult<()> {
    diesel::update(cohorts::table.find(cohort_id)).set(changes).execute(conn)?;
    Ok(())
}

pub fn archive(conn: &mut AnyConnection, cohort_id: &CohortId, now: DateTime<Utc>) -> ApiResult<()> {
    diesel::update(cohorts::table.find(cohort_id))
        .set((cohorts::archived_at.eq(now.naive_utc()), cohorts::updated_at.eq(now.naive_utc())))
        .execute(conn)?;
    Ok(())
}

/// Takes the cohort's row lock until the transaction ends (a no-op update), so that changes to
/// its membership are decided one at a time, on PostgreSQL as on SQLite.
pub fn lock_cohort(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<()> {
    diesel::update(cohorts::table.find(cohort_id)).set(cohorts::id.eq(cohorts::id)).execute(conn)?;
    Ok(())
}

pub fn membership(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    user_id: &UserId,
) -> ApiResult<Option<MembershipRow>> {
    Ok(memberships::table.find((cohort_id, user_id)).select(MembershipRow::as_select()).first(conn).optional()?)
}

/// Which of these users are members of the cohort (in any state), in one query.
pub fn members_among(conn: &mut AnyConnection, cohort_id: &CohortId, user_ids: &[UserId]) -> ApiResult<Vec<UserId>> {
    Ok(memberships::table
        .filter(memberships::cohort_id.eq(cohort_id))
        .filter(memberships::user_id.eq_any(user_ids))
        .select(memberships::user_id)
        .load(conn)?)
}

pub fn other_active_organizers(conn: &mut AnyConnection, cohort_id: &CohortId, user_id: &UserId) -> ApiResult<i64> {
    Ok(memberships::table
        .filter(memberships::cohort_id.eq(cohort_id))
        .filter(memberships::user_id.ne(user_id))
        .filter(memberships::role.eq(Role::Organizer.as_str()))
        .filter(memberships::state.eq(MemberState::Active.as_str()))
        .count()
        .get_result(conn)?)
}

pub fn insert_membership(conn: &mut AnyConnection, membership: &MembershipRow) -> ApiResult<()> {
    diesel::insert_into(memberships::table).values(membership).execute(conn)?;
    Ok(())
}

pub fn set_membership(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    user_id: &UserId,
    role: Role,
    state: MemberState,
    state_changed: bool,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let target = memberships::table.find((cohort_id, user_id));
    if state_changed {
        diesel::update(target)
            .set((
                memberships::role.eq(role.as_str()),
                memberships::state.eq(state.as_str()),
                memberships::state_changed_at.eq(now.naive_utc()),
                memberships::removed_by.eq(None::<String>),
            ))
            .execute(conn)?;
    } else {
        diesel::update(target).set(memberships::role.eq(role.as_str())).execute(conn)?;
    }
    Ok(())
}

/// Records that `by` removed the member (after `set_membership` made them `left`).
pub fn mark_removed(conn: &mut AnyConnection, cohort_id: &CohortId, user_id: &UserId, by: &UserId) -> ApiResult<()> {
    diesel::update(memberships::table.find((cohort_id, user_id))).set(memberships::removed_by.eq(by)).execute(conn)?;
    Ok(())
}

/// Whether someone else removed this former member (they did not leave by themselves).
pub fn was_removed(conn: &mut AnyConnection, cohort_id: &CohortId, user_id: &UserId) -> ApiResult<bool> {
    let by: Option<Option<String>> = memberships::table
        .find((cohort_id, user_id))
        .filter(memberships::state.eq(MemberState::Left.as_str()))
        .select(memberships::removed_by)
        .first(conn)
        .optional()?;
    Ok(matches!(by, Some(Some(_))))
}

/// One member with their name and address.
pub fn member(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    user_id: &UserId,
) -> ApiResult<Option<(MembershipRow, String, String)>> {
    Ok(memberships::table
        .inner_join(users::table)
        .filter(memberships::cohort_id.eq(cohort_id))
        .filter(memberships::user_id.eq(user_id))
        .select((MembershipRow::as_select(), users::display_name, users::email))
        .first(conn)
        .optional()?)
}

/// One page of a cohort's members with their names and addresses, in one query.
pub fn members(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    filter: &MemberFilter,
    page: &PageRequest,
) -> ApiResult<Vec<(MembershipRow, String, String)>> {
    let mut query = memberships::table
        .inner_join(users::table)
        .filter(memberships::cohort_id.eq(cohort_id))
        .order((memberships::joined_at.asc(), memberships::user_id.asc()))
        .limit(page.fetch_limit())
        .select((MembershipRow::as_select(), users::display_name, users::email))
        .into_boxed();
    if let Some(role) = filter.role {
        query = query.filter(memberships::role.eq(role.as_str()));
    }
    if let Some(state) = filter.state {
        query = query.filter(memberships::state.eq(state.as_str()));
    }
    query = after_cursor!(query, page, memberships::joined_at, memberships::user_id);
    Ok(query.load(conn)?)
}
