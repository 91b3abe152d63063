//! Accounts: the people who use Roundtable, and the `/me` routes where they manage themselves.

pub mod model;
pub mod routes;
pub mod store;
