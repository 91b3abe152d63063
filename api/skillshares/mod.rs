//! Skill shares: a member offers a time-boxed slot on a session (title, what others will be able
//! to do, minutes, places, optionally one of their experiments); approved slots are boxes on the
//! session's agenda; members sign up for the places, and past capacity join a first-come
//! waitlist that moves up as places free. Pure rules live in `waitlist` (places and positions)
//! and `sessions::agenda` (boxes); `roster` applies them under the slot's row lock.

pub mod model;
pub mod reactions;
pub mod roster;
pub mod routes;
pub mod store;
pub mod view;
pub mod waitlist;
