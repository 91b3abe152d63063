//! Notifications: the kinds the server mails (`kinds`, one table with their defaults) and each
//! member's preferences for them (`preferences`), and the pure reminder planner (`plan`). The
//! engine that stores, sends and withdraws what the planner plans builds on these.

pub mod inbox;
pub mod kinds;
pub mod plan;
pub mod preferences;
