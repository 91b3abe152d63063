//! Sessions: series on a recurrence rule in the cohort's time zone, one-off sessions, moves and
//! cancellations, agenda, RSVP, attendance and notes. Pure parts: `recurrence` (rule expansion
//! and DST rules) and `agenda` (time boxes).

pub mod agenda;
pub mod materialize;
pub mod model;
pub mod reactions;
pub mod recurrence;
pub mod routes;
pub mod series_routes;
pub mod store;

use chrono::{DateTime, Utc};

use crate::error::{ApiError, ApiResult};

/// 409 `session_started` for a session that has begun: the past never changes (sessions and
/// the rota's duties alike).
pub fn started(starts_at: DateTime<Utc>, now: DateTime<Utc>) -> ApiResult<()> {
    if starts_at <= now {
        return Err(ApiError::conflict("session_started", "This session has started; the past stays as it was."));
    }
    Ok(())
}
