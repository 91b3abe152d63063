//! Roundtable: a self-hosted API for peer-learning cohorts. See README.md for the map.

pub mod accounts;
pub mod auth;
pub mod charter;
pub mod clock;
pub mod cohorts;
pub mod comments;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod experiments;
pub mod health;
pub mod http;
pub mod invitations;
pub mod jobs;
pub mod mail;
pub mod openapi;
pub mod pagination;
pub mod people;
pub mod rota;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tokens;
pub mod validation;
