//! What every handler can reach: the database, the clock, token keys, the mailer and throttles.

use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::auth::throttle::Throttle;
use crate::clock::SharedClock;
use crate::db::Db;
use crate::mail::Mailer;

pub struct AppState {
    pub db: Db,
    pub clock: SharedClock,
    pub jwt: JwtKeys,
    pub mailer: Arc<Mailer>,
    pub throttle: Throttle,
    /// Public URL of the server, for links in mail (no trailing slash).
    pub base_url: String,
    /// `ROUNDTABLE_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::http::forwarded::TrustedProxies,
    /// `ROUNDTABLE_SIGNUP`: who may create an account.
    pub signup: crate::config::SignupMode,
    /// `ROUNDTABLE_WEBHOOK_ALLOW_PRIVATE`: webhooks may call non-public addresses.
    pub webhook_allow_private: bool,
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
