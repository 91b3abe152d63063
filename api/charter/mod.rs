//! The living charter: versions proposed as drafts, discussed and endorsed, adopted in turn;
//! each member's acceptance of the current version; reviews on a cadence. Pure parts:
//! `review` (due dates), `diff` (what changed), `markdown` (safe HTML).

pub mod acceptance;
pub mod diff;
pub mod fields;
pub mod markdown;
pub mod model;
pub mod notices;
pub mod review;
pub mod routes;
pub mod store;
