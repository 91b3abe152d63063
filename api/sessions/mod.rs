//! Sessions: series on a recurrence rule in the cohort's time zone, one-off sessions, moves and
//! cancellations, agenda, RSVP, attendance and notes. Pure parts: `recurrence` (rule expansion
//! and DST rules) and `agenda` (time boxes).

pub mod agenda;
pub mod materialize;
pub mod model;
pub mod recurrence;
pub mod routes;
pub mod series_routes;
pub mod store;
