//! Experiments between sessions: commitments with a success signal and a due session or date,
//! check-ins, outcomes, and what peers add (comments, help, celebrations). Visibility (private,
//! buddy, cohort) holds in every query. Pure rules live in `lifecycle`.

pub mod lifecycle;
pub mod model;
pub mod peers;
pub mod routes;
pub mod store;
pub mod view;
