//! Notifications: the kinds the server mails (`kinds`, one table with their defaults) and each
//! member's preferences for them (`preferences`), and the pure reminder planner (`plan`). The
//! engine that stores, sends and withdraws what the planner plans builds on these. Links in mail
//! that act for their recipient (`links`) and their pages (`link_pages`) are its buttons.

pub mod inbox;
pub mod kinds;
pub mod link_pages;
pub mod links;
pub mod plan;
pub mod preferences;
