//! Calendar feeds (RFC 5545): a secret feed URL per user (`POST /me/calendar-feed`) and, for
//! organizers, per cohort (`POST /cohorts/{cohort_id}/calendar-feed`), read without signing in at
//! `/feeds/{token}.ics`; and one session as an `.ics` download
//! (`GET /sessions/{session_id}/calendar.ics`). `ics.rs` turns plain values into the document
//! (pure); `store.rs` reads what a feed shows; `routes.rs` serves it.

pub mod ics;
pub mod model;
pub mod routes;
pub mod store;
