//! The periodic sweep's part for charters: one `charter.review_due` event per cohort and due
//! date, recorded once however many replicas sweep (the notice row's key decides), and a
//! "charter check" on the agenda of the cohort's next session.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::model::{VersionRow, VersionState};
use super::review::{is_due, next_review_after};
use crate::db::schema::{
    charter_review_notices as notices, charter_reviews as reviews, charter_versions as versions, cohorts,
};
use crate::db::{AnyConnection, CohortId, TimeZone};
use crate::error::ApiResult;
use crate::events::{NewEvent, kind as ev};
use crate::sessions::{
    self,
    agenda::{self, AgendaKind},
};

/// Adds a "charter check" to the agenda of the cohort's next session, once.
fn put_charter_check_on_next_session(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    // Under the cohort's lock, then the session's, as every sessions write: an agenda edit at the
    // same moment is not lost.
    crate::cohorts::store::lock_cohort(conn, cohort_id)?;
    let Some(next) = sessions::store::next_session(conn, cohort_id, now.naive_utc())? else {
        return Ok(()); // no session planned: GET .../charter still says review_due
    };
    sessions::store::lock_session(conn, &next.id)?;
    let Some(mut session) = sessions::store::find_session(conn, &next.id)? else { return Ok(()) };
    let items = session.agenda();
    if items.iter().any(|i| i.kind == AgendaKind::CharterCheck) {
        return Ok(());
    }
    let with_check = agenda::insert_item(&items, agenda::charter_check(), session.duration_minutes());
    session.agenda = serde_json::to_string(&with_check).map_err(|e| crate::error::ApiError::Internal(e.into()))?;
    session.updated_at = now.naive_utc();
    sessions::store::save_session(conn, &session)
}

/// Records the reviews that have fallen due since the last sweep; returns how many.
pub fn record_due_reviews(conn: &mut AnyConnection, now: DateTime<Utc>) -> ApiResult<usize> {
    let current: Vec<(TimeZone, VersionRow)> = versions::table
        .inner_join(cohorts::table)
        .filter(versions::state.eq(VersionState::Adopted.as_str()))
        .filter(cohorts::archived_at.is_null())
        .select((cohorts::time_zone, VersionRow::as_select()))
        .load(conn)?;
    let ids: Vec<&str> = current.iter().map(|(_, v)| v.id.as_str()).collect();
    let last_reviews: HashMap<String, Option<NaiveDateTime>> = reviews::table
        .filter(reviews::version_id.eq_any(&ids))
        .group_by(reviews::version_id)
        .select((reviews::version_id, diesel::dsl::max(reviews::reviewed_at)))
        .load(conn)?
        .into_iter()
        .collect();
    let mut recorded = 0;
    for (zone, version) in current {
        let Some(adopted_at) = version.adopted_at else { continue };
        let tz = zone.tz();
        let last = last_reviews.get(&version.id).copied().flatten().map(|t| t.and_utc());
        let due_on = next_review_after(adopted_at.and_utc(), last, tz, version.cadence());
        if !is_due(due_on, now, tz) {
            continue;
        }
        let key = due_on.to_string();
        // The notice's key decides: a second sweep (another replica, a lease that ran out) inserts
        // nothing and records nothing, without an error that would undo the whole sweep.
        let notice = diesel::insert_into(notices::table)
            .values((
                notices::cohort_id.eq(&version.cohort_id),
                notices::due_on.eq(&key),
                notices::created_at.eq(now.naive_utc()),
            ))
            .on_conflict_do_nothing();
        if crate::per_backend!(&mut *conn, |c| notice.execute(c))? == 0 {
            continue;
        }
        let due = ev::CharterReviewDue { due_on: key.to_string() };
        NewEvent::new(due, &version.id).in_cohort(&version.cohort_id).record(conn, now)?;
        put_charter_check_on_next_session(conn, &version.cohort_id, now)?;
        recorded += 1;
    }
    Ok(recorded)
}
