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
    /// Password attempts on one account from one client address.
    by_account_and_ip: DefaultKeyedRateLimiter<(String, IpAddr)>,
    /// Password attempts on one account from anywhere: a higher ceiling, so that one attacker
    /// cannot lock the owner out, and many together still cannot guess freely.
    by_account: DefaultKeyedRateLimiter<String>,
    /// Mail sent about one account (links, confirmations): its own budget, which password
    /// failures never spend.
    mail_by_account: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

/// The all-addresses ceiling for password attempts, as a multiple of the per-address budget.
pub const ACCOUNT_CEILING_FACTOR: u32 = 10;

impl Throttle {
    pub fn new(ip_per_minute: u32, account_per_hour: u32) -> Self {
        let per_ip = NonZeroU32::new(ip_per_minute.max(1)).expect("at least one");
        let per_account = NonZeroU32::new(account_per_hour.max(1)).expect("at least one");
        let ceiling =
            NonZeroU32::new(account_per_hour.max(1).saturating_mul(ACCOUNT_CEILING_FACTOR)).expect("at least one");
        Self {
            by_ip: RateLimiter::keyed(Quota::per_minute(per_ip)),
            by_account_and_ip: RateLimiter::keyed(Quota::per_hour(per_account)),
            by_account: RateLimiter::keyed(Quota::per_hour(ceiling)),
            mail_by_account: RateLimiter::keyed(Quota::per_hour(per_account)),
            clock: DefaultClock::default(),
        }
    }

    /// A password attempt (sign-in, password change): the client's budget, the budget of this
    /// account from this client, and the account's higher ceiling from everywhere.
    pub fn password(&self, ip: Option<IpAddr>, account_key: &str) -> ApiResult<()> {
        self.client(ip)?;
        if let Some(ip) = ip {
            self.check(&self.by_account_and_ip, &(account_key.to_string(), ip))?;
        }
        self.check(&self.by_account, &account_key.to_string())
    }

    /// A request that mails the account (sign-in link, reset, confirmation, sign-up).
    pub fn mail(&self, ip: Option<IpAddr>, account_key: &str) -> ApiResult<()> {
        self.client(ip)?;
        self.check(&self.mail_by_account, &account_key.to_string())
    }

    /// Costly work with no account named (redeeming a reset link hashes a password).
    pub fn client(&self, ip: Option<IpAddr>) -> ApiResult<()> {
        match ip {
            Some(ip) => self.check(&self.by_ip, &ip),
            None => Ok(()),
        }
    }

    fn check<K: std::hash::Hash + Eq + Clone>(&self, limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> ApiResult<()> {
        limiter.check_key(key).map_err(|not_until| self.refuse(not_until.wait_time_from(self.clock.now())))
    }

    fn refuse(&self, wait: std::time::Duration) -> ApiError {
        ApiError::TooManyRequests { retry_after_secs: wait.as_secs().max(1) }
    }

    /// Forgets keys whose budget is full again, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.by_ip.retain_recent();
        self.by_account_and_ip.retain_recent();
        self.by_account.retain_recent();
        self.mail_by_account.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(result: ApiResult<()>) -> bool {
        matches!(result, Err(ApiError::TooManyRequests { retry_after_secs }) if retry_after_secs >= 1)
    }

    #[test]
    fn one_client_guessing_does_not_lock_the_owner_out() {
        let throttle = Throttle::new(1000, 2);
        let attacker: IpAddr = "192.0.2.1".parse().unwrap();
        let owner: IpAddr = "198.51.100.7".parse().unwrap();
        assert!(throttle.password(Some(attacker), "a").is_ok());
        assert!(throttle.password(Some(attacker), "a").is_ok());
        assert!(refused(throttle.password(Some(attacker), "a")), "this client's budget for the account is spent");
        assert!(throttle.password(Some(owner), "a").is_ok(), "the owner, elsewhere, still signs in");
        assert!(throttle.mail(Some(attacker), "a").is_ok(), "password failures never block mail");
    }

    #[test]
    fn many_clients_together_meet_the_account_ceiling() {
        let throttle = Throttle::new(1000, 2);
        let mut allowed = 0;
        for i in 0..100u8 {
            let ip: IpAddr = format!("10.0.0.{i}").parse().unwrap();
            allowed += usize::from(throttle.password(Some(ip), "a").is_ok());
            allowed += usize::from(throttle.password(Some(ip), "a").is_ok());
        }
        assert_eq!(allowed, (2 * ACCOUNT_CEILING_FACTOR) as usize);
    }

    #[test]
    fn the_client_budget_holds_across_accounts() {
        let throttle = Throttle::new(3, 100);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(throttle.password(Some(ip), "a").is_ok());
        assert!(throttle.mail(Some(ip), "b").is_ok());
        assert!(throttle.client(Some(ip)).is_ok());
        assert!(refused(throttle.password(Some(ip), "c")));
    }

    #[test]
    fn mail_has_its_own_budget_per_account() {
        let throttle = Throttle::new(1000, 2);
        assert!(throttle.mail(None, "a").is_ok());
        assert!(throttle.mail(None, "a").is_ok());
        assert!(refused(throttle.mail(None, "a")));
        assert!(throttle.password(None, "a").is_ok(), "and mail never blocks passwords");
    }
}
