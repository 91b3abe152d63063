//! Notifications: the kinds the server mails (`kinds`, one table with their defaults) and each
//! member's preferences for them (`preferences`). The planner and the sender build on these.

pub mod kinds;
pub mod preferences;
