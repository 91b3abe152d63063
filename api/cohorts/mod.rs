//! Cohorts and their members. `access` is the one place that decides what a caller may do in a
//! cohort; every module that owns cohort data goes through it.

pub mod access;
pub mod members;
pub mod model;
pub mod routes;
pub mod rules;
pub mod store;
