//! Turning experiment rows into what callers see, and finding one the caller may see.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use super::lifecycle::{can_see, is_overdue};
use super::model::{Experiment, ExperimentRow, Metric, Outcome};
use super::store;
use crate::auth::Caller;
use crate::cohorts::access::{self, Access, Action};
use crate::db::schema::{cohorts, sessions, users};
use crate::db::{AnyConnection, CohortId, SessionId, TimeZone, UserId};
use crate::error::{ApiError, ApiResult};
use crate::people::Person;
use crate::sessions::recurrence::instant;

/// An experiment reached by its id: 404 unless the caller is a member who may see it.
pub fn find_visible(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<(Access, ExperimentRow)> {
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let access = access::authorize(conn, caller, &row.cohort_id, action)?;
    let partners = store::coaching_partners(conn, &row.cohort_id, caller.user_id())?;
    if !can_see(&row.owner_id, row.visibility(), row.buddy_id.as_ref(), caller.user_id(), &partners) {
        return Err(ApiError::NotFound);
    }
    Ok((access, row))
}

/// Only the owner changes an experiment and checks in.
pub fn owner_only(row: &ExperimentRow, caller: &Caller) -> ApiResult<()> {
    if row.owner_id == caller.user_id() {
        Ok(())
    } else {
        Err(ApiError::Forbidden { code: "not_owner", detail: "Only the experiment's owner does this.".to_string() })
    }
}

/// The end of a cohort-local day, as an instant.
fn end_of(day: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    day.checked_add_days(Days::new(1)).and_then(|next| next.and_hms_opt(0, 0, 0)).map(|midnight| instant(midnight, tz))
}

/// Views of experiment rows as `viewer` sees them, with due moments, counts, flags and the people
/// named: six queries, whatever the count.
pub fn views(
    conn: &mut AnyConnection,
    rows: Vec<ExperimentRow>,
    viewer: &UserId,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Experiment>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let session_ids: Vec<SessionId> = rows.iter().filter_map(|r| r.due_session_id.clone()).collect();
    let cohort_ids: Vec<CohortId> = rows.iter().map(|r| r.cohort_id.clone()).collect();
    let starts: HashMap<SessionId, chrono::NaiveDateTime> = sessions::table
        .filter(sessions::id.eq_any(&session_ids))
        .select((sessions::id, sessions::starts_at))
        .load(conn)?
        .into_iter()
        .collect();
    let zones: HashMap<CohortId, TimeZone> = cohorts::table
        .filter(cohorts::id.eq_any(&cohort_ids))
        .select((cohorts::id, cohorts::time_zone))
        .load(conn)?
        .into_iter()
        .collect();
    let mut check_ins = store::check_in_times(conn, &ids)?;
    let celebrations = store::celebration_counts(conn, &ids)?;
    let mine = store::celebrated_by(conn, &ids, viewer)?;
    let people: Vec<UserId> =
        rows.iter().flat_map(|r| [Some(r.owner_id.clone()), r.buddy_id.clone()]).flatten().collect();
    let names: HashMap<UserId, String> = users::table
        .filter(users::id.eq_any(&people))
        .select((users::id, users::display_name))
        .load(conn)?
        .into_iter()
        .collect();
    let person = |id: &UserId| names.get(id).map(|name| Person::new(id.clone(), name.clone()));
    rows.into_iter()
        .map(|row| {
            // Every experiment has its cohort (a foreign key): the zone is there.
            let tz: Tz = zones.get(&row.cohort_id).ok_or(ApiError::NotFound)?.tz();
            let due_on: Option<NaiveDate> = row.due_on.as_deref().and_then(|d| d.parse().ok());
            let due_at = match &row.due_session_id {
                Some(session) => starts.get(session).map(|t| t.and_utc()),
                None => due_on.and_then(|d| end_of(d, tz)),
            };
            let times = check_ins.remove(&row.id).unwrap_or_default();
            let state = row.state();
            Ok(Experiment {
                overdue: is_overdue(state, due_at, now),
                check_in_count: times.len() as i64,
                last_check_in_at: times.iter().map(|(at, _)| *at).max(),
                celebrations: celebrations.get(&row.id).copied().unwrap_or(0),
                celebrated_by_me: mine.contains(&row.id),
                owner: person(&row.owner_id).unwrap_or_else(|| Person::new(row.owner_id.clone(), "")),
                buddy: row.buddy_id.as_ref().and_then(person),
                metric: row.metric_name.clone().map(|name| Metric {
                    name,
                    unit: row.metric_unit.clone(),
                    target: row.metric_target,
                }),
                outcome: row.outcome_result.map(|result| Outcome {
                    result,
                    learned: row.outcome_learned.clone(),
                    next_step: row.outcome_next_step.clone(),
                }),
                visibility: row.visibility(),
                state,
                due_on,
                due_at,
                id: row.id,
                cohort_id: row.cohort_id,
                owner_id: row.owner_id,
                title: row.title,
                success_signal: row.success_signal,
                due_session_id: row.due_session_id,
                buddy_id: row.buddy_id,
                drop_reason: row.drop_reason,
                seeded_from_id: row.seeded_from_id,
                created_at: row.created_at.and_utc(),
            })
        })
        .collect()
}

pub fn view(
    conn: &mut AnyConnection,
    row: ExperimentRow,
    viewer: &UserId,
    now: DateTime<Utc>,
) -> ApiResult<Experiment> {
    Ok(views(conn, vec![row], viewer, now)?.remove(0))
}
