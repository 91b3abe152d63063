//! The rota: duty roles, absences, fair assignment of duties (plan.rs, pure), swaps and cover,
//! a fairness report, and peer-coaching pairs (pairs.rs, pure).

pub mod cycles;
pub mod engine;
pub mod model;
pub mod pairs;
pub mod plan;
pub mod reactions;
pub mod routes;
pub mod store;
pub mod swaps;
