//! Sessions' reactions to events elsewhere (registered in `events::reactors`).

use chrono::{DateTime, Utc};

use crate::db::AnyConnection;
use crate::error::ApiResult;
use crate::events::reactors::Reactor;
use crate::events::{EventPayload, NewEvent};

/// After the cohort's time zone moved: upcoming series sessions keep their local times.
pub static RETIME: Reactor = Reactor { name: "sessions.retime", run: retime };

fn retime(conn: &mut AnyConnection, event: &NewEvent<'_>, now: DateTime<Utc>) -> ApiResult<()> {
    let (Some(cohort_id), EventPayload::CohortUpdated(update)) = (event.cohort_id, &event.payload) else {
        return Ok(());
    };
    if update.time_zone.is_none() {
        return Ok(());
    }
    // The cohort row holds the new zone already, typed.
    let Some(cohort) = crate::cohorts::store::find_cohort(conn, cohort_id)? else {
        return Ok(());
    };
    super::materialize::retime(conn, cohort_id, cohort.time_zone.tz(), now)?;
    Ok(())
}
