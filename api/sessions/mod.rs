//! Sessions: series on a recurrence rule in the cohort's time zone, one-off sessions, moves and
//! cancellations, agenda, RSVP, attendance and notes.

pub mod recurrence;
