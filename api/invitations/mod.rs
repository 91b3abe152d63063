//! Ways into a cohort: invitations mailed to an address (single use, expiring), and invite links
//! (multi-use, optional expiry and use limit). Both end in `cohorts::members::admit`.

pub mod links;
pub mod model;
pub mod routes;
pub mod store;
