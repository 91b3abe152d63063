use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::model::{DraftChanges, Tally, VersionRow, VersionState};
use crate::cohorts::model::MemberState;
use crate::db::schema::{
    charter_acceptances as acc, charter_comments as comments, charter_endorsements as endorsements,
    charter_reviews as reviews, charter_versions as versions, memberships, users,
};
use crate::db::{AnyConnection, CohortId, UserId, new_id};
use crate::error::ApiResult;
use crate::pagination::{PageRequest, after_cursor};
use crate::people::Person;

pub fn insert_version(conn: &mut AnyConnection, row: &VersionRow) -> ApiResult<()> {
    diesel::insert_into(versions::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_version(conn: &mut AnyConnection, cohort_id: &CohortId, id: &str) -> ApiResult<Option<VersionRow>> {
    Ok(versions::table
        .filter(versions::cohort_id.eq(cohort_id))
        .filter(versions::id.eq(id))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?)
}

/// The adopted version, if any.
pub fn current(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<Option<VersionRow>> {
    Ok(versions::table
        .filter(versions::cohort_id.eq(cohort_id))
        .filter(versions::state.eq(VersionState::Adopted.as_str()))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    state: Option<VersionState>,
    page: &PageRequest,
) -> ApiResult<Vec<VersionRow>> {
    let mut query = versions::table
        .filter(versions::cohort_id.eq(cohort_id))
        .order((versions::created_at.asc(), versions::id.asc()))
        .limit(page.fetch_limit())
        .select(VersionRow::as_select())
        .into_boxed();
    if let Some(state) = state {
        query = query.filter(versions::state.eq(state.as_str()));
    }
    query = after_cursor!(query, page, versions::created_at, versions::id);
    Ok(query.load(conn)?)
}

pub fn update_draft(conn: &mut AnyConnection, id: &str, changes: &DraftChanges) -> ApiResult<()> {
    diesel::update(versions::table.find(id).filter(versions::state.eq(VersionState::Draft.as_str())))
        .set(changes)
        .execute(conn)?;
    Ok(())
}

pub fn highest_number(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<Option<i32>> {
    Ok(versions::table
        .filter(versions::cohort_id.eq(cohort_id))
        .select(diesel::dsl::max(versions::number))
        .first(conn)?)
}

pub fn supersede(conn: &mut AnyConnection, id: &str) -> ApiResult<()> {
    diesel::update(versions::table.find(id))
        .set(versions::state.eq(VersionState::Superseded.as_str()))
        .execute(conn)?;
    Ok(())
}

/// Makes a draft the adopted version `number`; false when it is no longer a draft.
pub fn adopt(conn: &mut AnyConnection, id: &str, number: i32, by: &UserId, now: DateTime<Utc>) -> ApiResult<bool> {
    let draft = versions::table.find(id).filter(versions::state.eq(VersionState::Draft.as_str()));
    let changed = diesel::update(draft)
        .set((
            versions::state.eq(VersionState::Adopted.as_str()),
            versions::number.eq(number),
            versions::adopted_at.eq(now.naive_utc()),
            versions::adopted_by.eq(by),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Who wrote, endorsed and adopted each of a set of versions, and comment counts, in four queries
/// whatever their number.
pub fn tallies(conn: &mut AnyConnection, ids: &[String], user_id: &UserId) -> ApiResult<HashMap<String, Tally>> {
    let endorsed: Vec<(String, UserId, String)> = endorsements::table
        .inner_join(users::table.on(users::id.eq(endorsements::user_id)))
        .filter(endorsements::version_id.eq_any(ids))
        .order((endorsements::created_at.asc(), endorsements::user_id.asc()))
        .select((endorsements::version_id, users::id, users::display_name))
        .load(conn)?;
    let commented: Vec<(String, i64)> = comments::table
        .filter(comments::version_id.eq_any(ids))
        .group_by(comments::version_id)
        .select((comments::version_id, diesel::dsl::count_star()))
        .load(conn)?;
    let (authors, adopters) = diesel::alias!(users as authors, users as adopters);
    /// A version's id, its author's id and name, its adopter's id and name.
    type People = (String, Option<UserId>, Option<String>, Option<UserId>, Option<String>);
    let people: Vec<People> = versions::table
        .left_join(authors.on(authors.field(users::id).nullable().eq(versions::author_id)))
        .left_join(adopters.on(adopters.field(users::id).nullable().eq(versions::adopted_by)))
        .filter(versions::id.eq_any(ids))
        .select((
            versions::id,
            authors.field(users::id).nullable(),
            authors.field(users::display_name).nullable(),
            adopters.field(users::id).nullable(),
            adopters.field(users::display_name).nullable(),
        ))
        .load(conn)?;
    let mut tallies: HashMap<String, Tally> = HashMap::new();
    for (id, endorser, name) in endorsed {
        let tally = tallies.entry(id).or_default();
        tally.endorsed_by_me |= endorser == *user_id;
        tally.endorsers.push(Person::new(endorser, name));
    }
    for (id, n) in commented {
        tallies.entry(id).or_default().comments = n;
    }
    for (id, author_id, author_name, adopter_id, adopter_name) in people {
        let tally = tallies.entry(id).or_default();
        tally.author = Person::maybe(author_id, author_name);
        tally.adopted_by = Person::maybe(adopter_id, adopter_name);
    }
    Ok(tallies)
}

/// Records an endorsement; false when the user had already endorsed the version.
pub fn endorse(conn: &mut AnyConnection, version_id: &str, user_id: &UserId, now: DateTime<Utc>) -> ApiResult<bool> {
    let exists: i64 = endorsements::table.find((version_id, user_id)).count().get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    diesel::insert_into(endorsements::table)
        .values((
            endorsements::version_id.eq(version_id),
            endorsements::user_id.eq(user_id),
            endorsements::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(true)
}

crate::comments::comment_thread!(comments, version_id);

pub fn acceptance(conn: &mut AnyConnection, version_id: &str, user_id: &UserId) -> ApiResult<Option<NaiveDateTime>> {
    Ok(acc::table.find((version_id, user_id)).select(acc::accepted_at).first(conn).optional()?)
}

pub fn accept(conn: &mut AnyConnection, version_id: &str, user_id: &UserId, now: DateTime<Utc>) -> ApiResult<()> {
    diesel::insert_into(acc::table)
        .values((acc::version_id.eq(version_id), acc::user_id.eq(user_id), acc::accepted_at.eq(now.naive_utc())))
        .execute(conn)?;
    Ok(())
}

/// Active members with their names and, if they accepted the version, when: two queries.
pub fn acceptance_report(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    version_id: &str,
) -> ApiResult<Vec<(UserId, String, Option<NaiveDateTime>)>> {
    let members: Vec<(UserId, String)> = memberships::table
        .inner_join(users::table)
        .filter(memberships::cohort_id.eq(cohort_id))
        .filter(memberships::state.eq(MemberState::Active.as_str()))
        .order((memberships::joined_at.asc(), memberships::user_id.asc()))
        .select((users::id, users::display_name))
        .load(conn)?;
    let accepted: HashMap<UserId, NaiveDateTime> = acc::table
        .filter(acc::version_id.eq(version_id))
        .select((acc::user_id, acc::accepted_at))
        .load(conn)?
        .into_iter()
        .collect();
    Ok(members
        .into_iter()
        .map(|(id, name)| {
            let at = accepted.get(&id).copied();
            (id, name, at)
        })
        .collect())
}

/// When the version was last reviewed, if ever.
pub fn last_review(conn: &mut AnyConnection, version_id: &str) -> ApiResult<Option<NaiveDateTime>> {
    Ok(reviews::table
        .filter(reviews::version_id.eq(version_id))
        .select(diesel::dsl::max(reviews::reviewed_at))
        .first(conn)?)
}

pub fn insert_review(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    version_id: &str,
    by: &UserId,
    note: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    diesel::insert_into(reviews::table)
        .values((
            reviews::id.eq(new_id()),
            reviews::cohort_id.eq(cohort_id),
            reviews::version_id.eq(version_id),
            reviews::reviewed_by.eq(by),
            reviews::note.eq(note),
            reviews::reviewed_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}
