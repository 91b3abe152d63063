//! Coaching cycles: forming the next cycle's pairs (by a facilitator, or by the periodic sweep
//! when a cohort asked for a new cycle every N sessions).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::PairCycle;
use super::{pairs, store};
use crate::cohorts::model::{MemberFilter, MemberState};
use crate::cohorts::store as cohorts;
use crate::db::schema::{cohorts as cohort_table, sessions};
use crate::db::{AnyConnection, CohortId, Db, UserId};
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, kind as ev};
use crate::pagination::PageRequest;
use crate::sessions::model::SessionStatus;

/// Pairs the cohort's active members for the next cycle; `by` is the facilitator, if any.
pub fn form_next(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    by: Option<&UserId>,
    now: DateTime<Utc>,
) -> ApiResult<PairCycle> {
    let history = store::pair_history(conn, cohort_id)?;
    let filter = MemberFilter { role: None, state: Some(MemberState::Active) };
    let everyone = PageRequest { limit: 10_000, after: None };
    let members: Vec<String> = cohorts::members(conn, cohort_id, &filter, &everyone)?
        .into_iter()
        .map(|(m, _, _)| m.user_id.into_string())
        .collect();
    if members.len() < 2 {
        return Err(ApiError::conflict("too_few_members", "Pairs need at least two active members."));
    }
    let cycle = store::last_cycle(conn, cohort_id)?.max(history.iter().map(|p| p.cycle).max().unwrap_or(0)) + 1;
    // The cycle's row first: its key (cohort, number) makes a second writer of the same cycle
    // fail here, before any pair is written, whatever the locks did.
    if !store::insert_cycle(conn, cohort_id, cycle, now)? {
        return Err(ApiError::conflict("cycle_formed", "This cycle was formed at the same moment; reload the pairs."));
    }
    let pairs = pairs::pair(&members, &history);
    store::insert_pairs(conn, cohort_id, cycle, &pairs, now)?;
    let mut event = NewEvent::new(ev::PairsFormed { cycle }, cohort_id.as_str()).in_cohort(cohort_id);
    if let Some(by) = by {
        event = event.by(by);
    }
    event.record(conn, now)?;
    store::pair_cycles(conn, cohort_id, store::Cycles::One(cycle))?.pop().ok_or(ApiError::NotFound)
}

pub fn every_sessions(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<Option<i32>> {
    Ok(cohort_table::table.find(cohort_id).select(cohort_table::pair_every_sessions).first(conn).optional()?.flatten())
}

pub fn set_every_sessions(conn: &mut AnyConnection, cohort_id: &CohortId, every: Option<i32>) -> ApiResult<()> {
    diesel::update(cohort_table::table.find(cohort_id))
        .set(cohort_table::pair_every_sessions.eq(every))
        .execute(conn)?;
    Ok(())
}

/// Forms a new cycle in every cohort that asked for one every N sessions and has held N sessions
/// since its last cycle (or has none yet); returns how many cycles were formed.
///
/// One transaction per cohort: a database error in one cohort is logged and undoes that
/// cohort's work only; the others go on.
pub async fn form_due(db: &Db, now: DateTime<Utc>) -> ApiResult<usize> {
    let due: Vec<CohortId> = db
        .read(|conn| {
            Ok(cohort_table::table
                .filter(cohort_table::pair_every_sessions.is_not_null())
                .filter(cohort_table::archived_at.is_null())
                .order(cohort_table::id.asc())
                .select(cohort_table::id)
                .load(conn)?)
        })
        .await?;
    let mut formed = 0;
    for cohort_id in due {
        let id = cohort_id.clone();
        match db.write(move |conn| form_if_due(conn, &id, now)).await {
            Ok(true) => formed += 1,
            Ok(false) => {}
            Err(err) => tracing::error!(%cohort_id, error = %err, "forming a coaching cycle"),
        }
    }
    Ok(formed)
}

/// Forms the cohort's next cycle if it is due; false when it is not (or has too few members).
fn form_if_due(conn: &mut AnyConnection, cohort_id: &CohortId, now: DateTime<Utc>) -> ApiResult<bool> {
    // The cohort row first, as every rota write does, so a facilitator's `POST .../pairs` and
    // another replica's sweep wait here; then everything is read again under that lock.
    cohorts::lock_cohort(conn, cohort_id)?;
    let every: Option<i32> = cohort_table::table
        .find(cohort_id)
        .filter(cohort_table::archived_at.is_null())
        .select(cohort_table::pair_every_sessions)
        .first(conn)
        .optional()?
        .flatten();
    let Some(every) = every else { return Ok(false) };
    let held: i64 = match store::last_cycle_formed_at(conn, cohort_id)? {
        None => i64::from(every), // nothing yet: start the first cycle now
        Some(since) => sessions::table
            .filter(sessions::cohort_id.eq(cohort_id))
            .filter(sessions::status.ne(SessionStatus::Cancelled.as_str()))
            .filter(sessions::starts_at.gt(since))
            .filter(sessions::starts_at.le(now.naive_utc()))
            .count()
            .get_result(conn)?,
    };
    if held < i64::from(every) {
        return Ok(false);
    }
    match form_next(conn, cohort_id, None, now) {
        Ok(_) => Ok(true),
        // Expected, and nothing was written: the cohort waits for a second member.
        Err(err) if err.code() == "too_few_members" => Ok(false),
        Err(err) => Err(err),
    }
}
