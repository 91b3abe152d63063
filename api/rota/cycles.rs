//! Coaching cycles: forming the next cycle's pairs (by a facilitator, or by the periodic sweep
//! when a cohort asked for a new cycle every N sessions).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::PairCycle;
use super::{pairs, store};
use crate::cohorts::model::{MemberFilter, MemberState};
use crate::cohorts::store as cohorts;
use crate::db::AnyConnection;
use crate::db::schema::{coaching_pairs, cohorts as cohort_table, sessions};
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::pagination::PageRequest;
use crate::sessions::model::SessionStatus;

/// Pairs the cohort's active members for the next cycle; `by` is the facilitator, if any.
pub fn form_next(
    conn: &mut AnyConnection,
    cohort_id: &str,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<PairCycle> {
    let history = store::pair_history(conn, cohort_id)?;
    let filter = MemberFilter { role: None, state: Some(MemberState::Active) };
    let everyone = PageRequest { limit: 10_000, after: None };
    let members: Vec<String> =
        cohorts::members(conn, cohort_id, &filter, &everyone)?.into_iter().map(|(m, _, _)| m.user_id).collect();
    if members.len() < 2 {
        return Err(ApiError::conflict("too_few_members", "Pairs need at least two active members."));
    }
    let cycle = history.iter().map(|p| p.cycle + 1).max().unwrap_or(1);
    let pairs = pairs::pair(&members, &history);
    store::insert_pairs(conn, cohort_id, cycle, &pairs, now)?;
    let mut event = NewEvent::new(ev::PairsFormed { cycle }, cohort_id).in_cohort(cohort_id);
    if let Some(by) = by {
        event = event.by(by);
    }
    event.record(conn, now)?;
    store::pair_cycles(conn, cohort_id, store::Cycles::One(cycle))?.pop().ok_or(ApiError::NotFound)
}

pub fn every_sessions(conn: &mut AnyConnection, cohort_id: &str) -> ApiResult<Option<i32>> {
    Ok(cohort_table::table.find(cohort_id).select(cohort_table::pair_every_sessions).first(conn).optional()?.flatten())
}

pub fn set_every_sessions(conn: &mut AnyConnection, cohort_id: &str, every: Option<i32>) -> ApiResult<()> {
    diesel::update(cohort_table::table.find(cohort_id))
        .set(cohort_table::pair_every_sessions.eq(every))
        .execute(conn)?;
    Ok(())
}

/// Forms a new cycle in every cohort that asked for one every N sessions and has held N sessions
/// since its last cycle (or has none yet); returns how many cycles were formed.
pub fn form_due(conn: &mut AnyConnection, now: DateTime<Utc>) -> ApiResult<usize> {
    let due: Vec<(String, i32)> = cohort_table::table
        .filter(cohort_table::pair_every_sessions.is_not_null())
        .filter(cohort_table::archived_at.is_null())
        .order(cohort_table::id.asc())
        .select((cohort_table::id, cohort_table::pair_every_sessions.assume_not_null()))
        .load(conn)?;
    let mut formed = 0;
    for (cohort_id, every) in due {
        // The cohort row first, as every rota write does (and in id order across cohorts), so a
        // facilitator's `POST .../pairs` and another replica's sweep wait instead of forming the
        // same cycle twice.
        cohorts::lock_cohort(conn, &cohort_id)?;
        let last: Option<chrono::NaiveDateTime> = coaching_pairs::table
            .filter(coaching_pairs::cohort_id.eq(&cohort_id))
            .select(diesel::dsl::max(coaching_pairs::created_at))
            .first(conn)?;
        let held: i64 = match last {
            None => i64::from(every), // nothing yet: start the first cycle now
            Some(since) => sessions::table
                .filter(sessions::cohort_id.eq(&cohort_id))
                .filter(sessions::status.ne(SessionStatus::Cancelled.as_str()))
                .filter(sessions::starts_at.gt(since))
                .filter(sessions::starts_at.le(now.naive_utc()))
                .count()
                .get_result(conn)?,
        };
        if held >= i64::from(every) && form_next(conn, &cohort_id, None, now).is_ok() {
            formed += 1;
        }
    }
    Ok(formed)
}
