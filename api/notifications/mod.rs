//! Notifications: the kinds the server mails (`kinds`, one table with their defaults), each
//! member's preferences for them (`preferences`), the pure reminder planner (`plan`), and the
//! engine (`engine`) that stores what is planned (`store`), follows the event stream and turns
//! due notifications into mail (`mails`) with links that act for their recipient (`links`, and
//! their pages, `link_pages`). `GET /me/notifications` lists them (`routes`); `GET /me/inbox`
//! lists what is asked of a member now.

pub mod digest;
pub mod engine;
pub mod inbox;
pub mod kinds;
pub mod link_pages;
pub mod links;
pub mod mails;
pub mod plan;
pub mod preferences;
pub mod routes;
pub mod shown;
pub mod store;
