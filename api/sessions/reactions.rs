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
    let Some(zone) = &update.time_zone else { return Ok(()) };
    let tz: chrono_tz::Tz = zone.to.parse().unwrap_or(chrono_tz::UTC);
    super::materialize::retime(conn, cohort_id, tz, now)?;
    Ok(())
}
