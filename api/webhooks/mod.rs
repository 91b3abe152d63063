//! Signed webhooks: organizers register endpoints per cohort (`routes`); the worker (`deliver`)
//! follows the event stream and sends each endpoint the events it asked for, in order, signed the
//! Standard Webhooks way (`sign`), to public addresses only (`address`).

pub mod address;
pub mod deliver;
pub mod model;
pub mod routes;
pub mod sign;
pub mod store;
