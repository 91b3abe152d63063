//! Personal access tokens: how third parties (an HR system, a chat bot, a script) call the API
//! on a user's behalf, limited to chosen scopes. Shown once, stored hashed, recognisable by their
//! `rt_pat_` prefix so secret scanners can spot a leaked one.

pub mod model;
pub mod routes;
pub mod store;
