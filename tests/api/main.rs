//! Black-box HTTP tests: each test starts the real server on a random port with a fresh
//! database. The suite runs once on SQLite and once on PostgreSQL (see tests/run.sh).

mod helpers;

mod accounts;
mod action_links;
mod app;
mod backup;
mod binary;
mod charter;
mod cohorts;
mod crash;
mod errors;
mod events;
mod experiments;
mod feeds;
mod health;
mod idempotency;
mod inbox;
mod inputs;
mod invitations;
mod invite_links;
mod isolation;
mod links;
mod mail_delivery;
mod members;
mod notification_preferences;
mod openapi;
mod personal_tokens;
mod reminders;
mod replicas;
mod rota;
mod rota_replan;
mod rota_swaps;
mod sessions;
mod sessions_people;
mod sessions_races;
mod sessions_rules;
mod sessions_series;
mod signup_modes;
mod skill_shares;
mod skill_shares_race;
mod throttle;
mod tokens;
mod typed_columns;
mod upgrade;
mod webhooks;
