//! Signing in: passwords, access tokens (JWT), rotating refresh tokens, magic links, password
//! resets, email verification, brute-force throttling, and the `Caller` every route starts from.

pub mod caller;
pub mod instance;
pub mod jwt;
pub mod model;
pub mod password;
pub mod routes;
pub mod scopes;
pub mod secrets;
pub mod store;
pub mod throttle;

pub use caller::Caller;
