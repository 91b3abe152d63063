use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::lifecycle::Visibility;
use super::model::{ExperimentFilter, ExperimentRow};
use crate::db::schema::{
    coaching_pairs as pairs, experiment_celebrations as celebrations, experiment_check_ins as check_ins,
    experiment_comments as comments, experiment_help_offers as offers, experiments as exp, users,
};
use crate::db::{AnyConnection, CohortId, UserId, new_id};
use crate::error::ApiResult;
use crate::pagination::{PageRequest, after_cursor};

/// Holds the experiment's row until the transaction ends (a no-op update: portable, and on
/// PostgreSQL a row lock), so that decisions about it are taken one at a time.
pub fn lock(conn: &mut AnyConnection, id: &str) -> ApiResult<()> {
    diesel::update(exp::table.find(id)).set(exp::id.eq(exp::id)).execute(conn)?;
    Ok(())
}

/// The experiment seeded from this one, if any.
pub fn seeded_from(conn: &mut AnyConnection, id: &str) -> ApiResult<Option<ExperimentRow>> {
    Ok(exp::table.filter(exp::seeded_from_id.eq(id)).select(ExperimentRow::as_select()).first(conn).optional()?)
}

pub fn insert(conn: &mut AnyConnection, row: &ExperimentRow) -> ApiResult<()> {
    diesel::insert_into(exp::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut AnyConnection, id: &str) -> ApiResult<Option<ExperimentRow>> {
    Ok(exp::table.find(id).select(ExperimentRow::as_select()).first(conn).optional()?)
}

pub fn save(conn: &mut AnyConnection, row: &ExperimentRow) -> ApiResult<()> {
    diesel::update(exp::table.find(&row.id))
        .set((
            exp::title.eq(&row.title),
            exp::success_signal.eq(&row.success_signal),
            exp::due_session_id.eq(&row.due_session_id),
            exp::due_on.eq(&row.due_on),
            exp::visibility.eq(&row.visibility),
            exp::buddy_id.eq(&row.buddy_id),
            exp::state.eq(&row.state),
            exp::drop_reason.eq(&row.drop_reason),
            exp::outcome_result.eq(&row.outcome_result),
            exp::outcome_learned.eq(&row.outcome_learned),
            exp::outcome_next_step.eq(&row.outcome_next_step),
            exp::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The members the user is paired with in the cohort's latest coaching cycle.
pub fn coaching_partners(conn: &mut AnyConnection, cohort_id: &CohortId, user_id: &UserId) -> ApiResult<Vec<UserId>> {
    let latest: Option<i32> =
        pairs::table.filter(pairs::cohort_id.eq(cohort_id)).select(diesel::dsl::max(pairs::cycle)).first(conn)?;
    let Some(cycle) = latest else { return Ok(Vec::new()) };
    let groups: Vec<(UserId, UserId, Option<UserId>)> = pairs::table
        .filter(pairs::cohort_id.eq(cohort_id))
        .filter(pairs::cycle.eq(cycle))
        .select((pairs::coach_id, pairs::coachee_id, pairs::third_id))
        .load(conn)?;
    let mut partners = Vec::new();
    for (coach, coachee, third) in groups {
        let group: Vec<UserId> = [Some(coach), Some(coachee), third].into_iter().flatten().collect();
        if group.iter().any(|m| m == user_id) {
            partners.extend(group.into_iter().filter(|m| m != user_id));
        }
    }
    Ok(partners)
}

/// One page of a cohort's experiments that `viewer` may see, newest last; visibility is part of
/// the query, so nothing hidden ever leaves the database.
pub fn list(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    viewer: &UserId,
    partners: &[UserId],
    filter: &ExperimentFilter,
    page: &PageRequest,
) -> ApiResult<Vec<ExperimentRow>> {
    let mut query =
        exp::table
            .filter(exp::cohort_id.eq(cohort_id))
            .filter(exp::owner_id.eq(viewer).or(exp::visibility.eq(Visibility::Cohort.as_str())).or(
                exp::visibility.eq(Visibility::Buddy.as_str()).and(
                    exp::buddy_id.eq(viewer).or(exp::buddy_id.is_null().and(exp::owner_id.eq_any(partners.to_vec()))),
                ),
            ))
            .order((exp::created_at.asc(), exp::id.asc()))
            .limit(page.fetch_limit())
            .select(ExperimentRow::as_select())
            .into_boxed();
    if let Some(state) = filter.state {
        query = query.filter(exp::state.eq(state.as_str()));
    }
    if let Some(owner) = &filter.owner_id {
        query = query.filter(exp::owner_id.eq(owner.clone()));
    }
    if let Some(session) = &filter.due_session_id {
        query = query.filter(exp::due_session_id.eq(session.clone()));
    }
    query = after_cursor!(query, page, exp::created_at, exp::id);
    Ok(query.load(conn)?)
}

/// The user's own experiments across cohorts.
pub fn mine(conn: &mut AnyConnection, owner: &UserId, page: &PageRequest) -> ApiResult<Vec<ExperimentRow>> {
    let mut query = exp::table
        .filter(exp::owner_id.eq(owner))
        .order((exp::created_at.asc(), exp::id.asc()))
        .limit(page.fetch_limit())
        .select(ExperimentRow::as_select())
        .into_boxed();
    query = after_cursor!(query, page, exp::created_at, exp::id);
    Ok(query.load(conn)?)
}

pub fn add_check_in(
    conn: &mut AnyConnection,
    experiment_id: &str,
    fields: (&str, &str, &str, Option<f64>),
    now: DateTime<Utc>,
) -> ApiResult<String> {
    let id = new_id();
    let (done, next, blockers, value) = fields;
    diesel::insert_into(check_ins::table)
        .values((
            check_ins::id.eq(&id),
            check_ins::experiment_id.eq(experiment_id),
            check_ins::done.eq(done),
            check_ins::next.eq(next),
            check_ins::blockers.eq(blockers),
            check_ins::value.eq(value),
            check_ins::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(id)
}

pub type CheckInRow = (String, String, String, String, Option<f64>, NaiveDateTime);

pub fn check_ins(conn: &mut AnyConnection, experiment_id: &str, page: &PageRequest) -> ApiResult<Vec<CheckInRow>> {
    let mut query = check_ins::table
        .filter(check_ins::experiment_id.eq(experiment_id))
        .order((check_ins::created_at.asc(), check_ins::id.asc()))
        .limit(page.fetch_limit())
        .select((
            check_ins::id,
            check_ins::done,
            check_ins::next,
            check_ins::blockers,
            check_ins::value,
            check_ins::created_at,
        ))
        .into_boxed();
    query = after_cursor!(query, page, check_ins::created_at, check_ins::id);
    Ok(query.load(conn)?)
}

/// One page of the metric's values: (check-in id, when, value), oldest first.
pub fn metric_points(
    conn: &mut AnyConnection,
    experiment_id: &str,
    page: &PageRequest,
) -> ApiResult<Vec<(String, NaiveDateTime, f64)>> {
    let mut query = check_ins::table
        .filter(check_ins::experiment_id.eq(experiment_id))
        .filter(check_ins::value.is_not_null())
        .order((check_ins::created_at.asc(), check_ins::id.asc()))
        .limit(page.fetch_limit())
        .select((check_ins::id, check_ins::created_at, check_ins::value.assume_not_null()))
        .into_boxed();
    query = after_cursor!(query, page, check_ins::created_at, check_ins::id);
    Ok(query.load(conn)?)
}

pub fn find_check_in(conn: &mut AnyConnection, id: &str) -> ApiResult<CheckInRow> {
    Ok(check_ins::table
        .find(id)
        .select((
            check_ins::id,
            check_ins::done,
            check_ins::next,
            check_ins::blockers,
            check_ins::value,
            check_ins::created_at,
        ))
        .first(conn)?)
}

/// When each check-in was made, with its blockers.
pub type CheckInTimes = HashMap<String, Vec<(DateTime<Utc>, String)>>;

/// Every check-in of these experiments (when, blockers), for the stuck rule: one query.
pub fn check_in_times(conn: &mut AnyConnection, ids: &[String]) -> ApiResult<CheckInTimes> {
    let rows: Vec<(String, NaiveDateTime, String)> = check_ins::table
        .filter(check_ins::experiment_id.eq_any(ids))
        .select((check_ins::experiment_id, check_ins::created_at, check_ins::blockers))
        .load(conn)?;
    let mut by_experiment: HashMap<String, Vec<(DateTime<Utc>, String)>> = HashMap::new();
    for (id, at, blockers) in rows {
        by_experiment.entry(id).or_default().push((at.and_utc(), blockers));
    }
    Ok(by_experiment)
}

pub fn celebration_counts(conn: &mut AnyConnection, ids: &[String]) -> ApiResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = celebrations::table
        .filter(celebrations::experiment_id.eq_any(ids))
        .group_by(celebrations::experiment_id)
        .select((celebrations::experiment_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Which of these experiments `user_id` has celebrated.
pub fn celebrated_by(
    conn: &mut AnyConnection,
    ids: &[String],
    user_id: &UserId,
) -> ApiResult<std::collections::HashSet<String>> {
    let rows: Vec<String> = celebrations::table
        .filter(celebrations::experiment_id.eq_any(ids))
        .filter(celebrations::user_id.eq(user_id))
        .select(celebrations::experiment_id)
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Records a celebration; false when this peer had celebrated already. One statement
/// (`ON CONFLICT DO NOTHING` on the primary key), so peers celebrating at once never collide.
pub fn celebrate(
    conn: &mut AnyConnection,
    experiment_id: &str,
    user_id: &UserId,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let insert = diesel::insert_into(celebrations::table)
        .values((
            celebrations::experiment_id.eq(experiment_id),
            celebrations::user_id.eq(user_id),
            celebrations::created_at.eq(now.naive_utc()),
        ))
        .on_conflict_do_nothing();
    let inserted = crate::per_backend!(conn, |c| insert.execute(c))?;
    Ok(inserted == 1)
}

crate::comments::comment_thread!(comments, experiment_id);

/// (id, experiment_id, helper_id, message, state, created_at, helper's display name).
pub type OfferRow = (String, String, UserId, String, String, NaiveDateTime, String);

pub fn add_offer(
    conn: &mut AnyConnection,
    experiment_id: &str,
    helper: &UserId,
    message: &str,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    let id = new_id();
    diesel::insert_into(offers::table)
        .values((
            offers::id.eq(&id),
            offers::experiment_id.eq(experiment_id),
            offers::helper_id.eq(helper),
            offers::message.eq(message),
            offers::state.eq("offered"),
            offers::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(id)
}

#[diesel::dsl::auto_type(no_type_alias)]
fn offer_columns() -> _ {
    (
        offers::id,
        offers::experiment_id,
        offers::helper_id,
        offers::message,
        offers::state,
        offers::created_at,
        users::display_name,
    )
}

pub fn find_offer(conn: &mut AnyConnection, id: &str) -> ApiResult<Option<OfferRow>> {
    Ok(offers::table
        .inner_join(users::table.on(users::id.eq(offers::helper_id)))
        .filter(offers::id.eq(id))
        .select(offer_columns())
        .first(conn)
        .optional()?)
}

/// One page of an experiment's offers, oldest first, with the helpers' names; only `helper`'s
/// when given.
pub fn offers(
    conn: &mut AnyConnection,
    experiment_id: &str,
    helper: Option<&UserId>,
    page: &PageRequest,
) -> ApiResult<Vec<OfferRow>> {
    let mut query = offers::table
        .inner_join(users::table.on(users::id.eq(offers::helper_id)))
        .filter(offers::experiment_id.eq(experiment_id))
        .order((offers::created_at.asc(), offers::id.asc()))
        .limit(page.fetch_limit())
        .select(offer_columns())
        .into_boxed();
    if let Some(helper) = helper {
        query = query.filter(offers::helper_id.eq(helper.clone()));
    }
    query = after_cursor!(query, page, offers::created_at, offers::id);
    Ok(query.load(conn)?)
}

/// Answers an offer still open; false when it was answered already.
pub fn answer_offer(conn: &mut AnyConnection, id: &str, state: &str) -> ApiResult<bool> {
    Ok(diesel::update(offers::table.find(id).filter(offers::state.eq("offered")))
        .set(offers::state.eq(state))
        .execute(conn)?
        == 1)
}
