//! Brute-force protection for sign-in and for endpoints that send mail: a budget per client IP
//! and one per account (email address). Budgets live in this process's memory; with several
//! replicas each keeps its own, which still bounds an attacker to N times the budget.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{ApiError, ApiResult};

pub struct Throttle {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl Throttle {
    pub fn new(ip_per_minute: u32, account_per_hour: u32) -> Self {
        let per_ip = NonZeroU32::new(ip_per_minute.max(1)).expect("at least one");
        let per_account = NonZeroU32::new(account_per_hour.max(1)).expect("at least one");
        Self {
            by_ip: RateLimiter::keyed(Quota::per_minute(per_ip)),
            by_account: RateLimiter::keyed(Quota::per_hour(per_account)),
            clock: DefaultClock::default(),
        }
    }

    /// Spends one attempt from each budget that applies; 429 with Retry-After when one is empty.
    pub fn attempt(&self, ip: Option<IpAddr>, account_key: Option<&str>) -> ApiResult<()> {
        if let Some(ip) = ip {
            self.by_ip.check_key(&ip).map_err(|not_until| self.refuse(not_until.wait_time_from(self.clock.now())))?;
        }
        if let Some(key) = account_key {
            self.by_account
                .check_key(&key.to_string())
                .map_err(|not_until| self.refuse(not_until.wait_time_from(self.clock.now())))?;
        }
        Ok(())
    }

    fn refuse(&self, wait: std::time::Duration) -> ApiError {
        ApiError::TooManyRequests { retry_after_secs: wait.as_secs().max(1) }
    }

    /// Forgets keys whose budget is full again, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.by_ip.retain_recent();
        self.by_account.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_per_ip_and_per_account() {
        let throttle = Throttle::new(3, 2);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other_ip: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(throttle.attempt(Some(ip), Some("a")).is_ok());
        assert!(throttle.attempt(Some(ip), Some("a")).is_ok());
        // The account budget (2 per hour) is spent, whatever the IP.
        match throttle.attempt(Some(other_ip), Some("a")) {
            Err(ApiError::TooManyRequests { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(throttle.attempt(Some(ip), Some("b")).is_ok());
        // The IP budget (3 per minute) is spent now, whatever the account.
        assert!(throttle.attempt(Some(ip), Some("c")).is_err());
    }
}
