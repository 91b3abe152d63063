//! Brute-force protection for sign-in and for endpoints that send mail: a budget per client
//! address and budgets per account (email address), counted in the database (`auth_throttle`),
//! so that every replica on one PostgreSQL spends the same budget (N replicas do not give N times
//! the budget). SQLite runs one process by design; it keeps its counters in the same table (the
//! cost, measured with tests/load/login.lua, is in README "Throttle").
//!
//! Each budget is a count per fixed window (a minute for a client address, an hour for an
//! account): a request adds one to its (key, window) row with one atomic upsert that returns the
//! new count (`INSERT … ON CONFLICT … DO UPDATE … RETURNING` on PostgreSQL), and is refused with
//! 429 and `Retry-After` (the seconds until the window ends) once the count passes the budget.
//! Keys are hashes of the address and the account, never the plain values. Rows of windows that
//! have ended are deleted by the periodic sweep (`forget_expired`).

use std::net::IpAddr;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::auth_throttle as counters;
use crate::db::{AnyConnection, Db};
use crate::error::{ApiError, ApiResult};

/// The all-addresses ceiling for password attempts, as a multiple of the per-address budget.
pub const ACCOUNT_CEILING_FACTOR: u32 = 10;

/// One budget: what it counts, over which window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// Every throttled request from one client address, per minute.
    Client,
    /// Password attempts on one account from one client address, per hour.
    AccountFromClient,
    /// Password attempts on one account from anywhere, per hour: a higher ceiling, so that one
    /// attacker cannot lock the owner out, and many together still cannot guess freely.
    Account,
    /// Mail sent about one account (links, confirmations), per hour: its own budget, which
    /// password failures never spend.
    Mail,
}

impl Budget {
    fn prefix(self) -> &'static str {
        match self {
            Budget::Client => "ip",
            Budget::AccountFromClient => "account-ip",
            Budget::Account => "account",
            Budget::Mail => "mail",
        }
    }

    /// The window's length in seconds.
    pub fn window_seconds(self) -> i64 {
        match self {
            Budget::Client => 60,
            Budget::AccountFromClient | Budget::Account | Budget::Mail => 3600,
        }
    }
}

/// The window `now` falls in for windows of `length` seconds (aligned on the Unix epoch, so every
/// replica agrees): its start, and the whole seconds until it ends (at least 1).
pub fn window(now: DateTime<Utc>, length: i64) -> (NaiveDateTime, u64) {
    let length = length.max(1);
    let start_secs = now.timestamp().div_euclid(length) * length;
    let start = DateTime::from_timestamp(start_secs, 0).unwrap_or(now).naive_utc();
    let end_micros = (start_secs + length) * 1_000_000;
    let left_micros = (end_micros - now.timestamp_micros()).max(0);
    let retry_after = ((left_micros + 999_999) / 1_000_000).max(1) as u64;
    (start, retry_after)
}

/// One count to spend: a budget, the hashed key it is kept under, and its limit.
#[derive(Clone, Debug)]
pub struct Spend {
    pub budget: Budget,
    pub key: String,
    pub limit: u32,
}

/// Adds one to each budget in order, stopping at the first that is spent: `Err(seconds)` to wait
/// then (the budgets before it keep their count, as a refused request still knocked on them).
pub fn spend(conn: &mut AnyConnection, spends: &[Spend], now: DateTime<Utc>) -> ApiResult<Result<(), u64>> {
    for spend in spends {
        let length = spend.budget.window_seconds();
        let (start, retry_after) = window(now, length);
        let expires_at = start + chrono::Duration::seconds(length);
        let upsert = diesel::insert_into(counters::table)
            .values((
                counters::key.eq(&spend.key),
                counters::window_start.eq(start),
                counters::hits.eq(1),
                counters::expires_at.eq(expires_at),
            ))
            .on_conflict((counters::key, counters::window_start))
            .do_update()
            .set(counters::hits.eq(counters::hits + 1));
        let hits: i32 = match conn {
            AnyConnection::Postgresql(c) => upsert.returning(counters::hits).get_result(c)?,
            // SQLite: one writer at a time (this runs in a write transaction), so reading the
            // row back right after the upsert reads this request's count.
            AnyConnection::Sqlite(c) => {
                upsert.execute(c)?;
                counters::table.find((&spend.key, start)).select(counters::hits).first(c)?
            }
        };
        if i64::from(hits) > i64::from(spend.limit) {
            return Ok(Err(retry_after));
        }
    }
    Ok(Ok(()))
}

/// Deletes the counters of windows that have ended; answers how many.
pub fn forget_expired(conn: &mut AnyConnection, now: DateTime<Utc>) -> ApiResult<usize> {
    Ok(diesel::delete(counters::table.filter(counters::expires_at.le(now.naive_utc()))).execute(conn)?)
}

fn key(budget: Budget, parts: &[&str]) -> String {
    format!("{}:{}", budget.prefix(), crate::auth::secrets::hash(&parts.join("\n")))
}

/// What sign-in, sign-up and the mailing endpoints spend, and where the counts are kept.
pub struct Throttle {
    db: Db,
    per_ip: u32,
    per_account: u32,
}

impl Throttle {
    pub fn new(db: Db, ip_per_minute: u32, account_per_hour: u32) -> Self {
        Self { db, per_ip: ip_per_minute.max(1), per_account: account_per_hour.max(1) }
    }

    fn client_spend(&self, ip: Option<IpAddr>) -> Option<Spend> {
        ip.map(|ip| Spend { budget: Budget::Client, key: key(Budget::Client, &[&ip.to_string()]), limit: self.per_ip })
    }

    /// The budgets a password attempt spends (sign-in, password change): the client's budget, the
    /// budget of this account from this client, and the account's higher ceiling from everywhere.
    pub fn password_spends(&self, ip: Option<IpAddr>, account_key: &str) -> Vec<Spend> {
        let mut spends: Vec<Spend> = self.client_spend(ip).into_iter().collect();
        if let Some(ip) = ip {
            let budget = Budget::AccountFromClient;
            spends.push(Spend { budget, key: key(budget, &[account_key, &ip.to_string()]), limit: self.per_account });
        }
        let ceiling = self.per_account.saturating_mul(ACCOUNT_CEILING_FACTOR);
        spends.push(Spend { budget: Budget::Account, key: key(Budget::Account, &[account_key]), limit: ceiling });
        spends
    }

    /// The budgets a request that mails the account spends (sign-in link, reset, confirmation,
    /// sign-up).
    pub fn mail_spends(&self, ip: Option<IpAddr>, account_key: &str) -> Vec<Spend> {
        let mut spends: Vec<Spend> = self.client_spend(ip).into_iter().collect();
        spends.push(Spend { budget: Budget::Mail, key: key(Budget::Mail, &[account_key]), limit: self.per_account });
        spends
    }

    /// A password attempt (see `password_spends`).
    pub async fn password(&self, ip: Option<IpAddr>, account_key: &str, now: DateTime<Utc>) -> ApiResult<()> {
        self.run(self.password_spends(ip, account_key), now).await
    }

    /// A request that mails the account (see `mail_spends`).
    pub async fn mail(&self, ip: Option<IpAddr>, account_key: &str, now: DateTime<Utc>) -> ApiResult<()> {
        self.run(self.mail_spends(ip, account_key), now).await
    }

    /// Costly work with no account named (redeeming a reset link hashes a password).
    pub async fn client(&self, ip: Option<IpAddr>, now: DateTime<Utc>) -> ApiResult<()> {
        self.run(self.client_spend(ip).into_iter().collect(), now).await
    }

    async fn run(&self, spends: Vec<Spend>, now: DateTime<Utc>) -> ApiResult<()> {
        if spends.is_empty() {
            return Ok(());
        }
        match self.db.write(move |conn| spend(conn, &spends, now)).await? {
            Ok(()) => Ok(()),
            Err(retry_after_secs) => Err(ApiError::TooManyRequests { retry_after_secs }),
        }
    }

    /// Deletes the counters of windows that have ended, so the table stays small.
    pub async fn forget_expired(&self, now: DateTime<Utc>) -> ApiResult<usize> {
        self.db.write(move |conn| forget_expired(conn, now)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(dir.path().join("t.db").to_str().unwrap(), 2).unwrap();
        (dir, db)
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
    }

    /// Runs `spends` as a request at `now` would: Ok, or the seconds to wait.
    fn attempt(db: &Db, spends: Vec<Spend>, now: DateTime<Utc>) -> Result<(), u64> {
        db.write_blocking(move |conn| spend(conn, &spends, now)).unwrap()
    }

    fn ip(raw: &str) -> Option<IpAddr> {
        Some(raw.parse().unwrap())
    }

    #[test]
    fn one_client_guessing_does_not_lock_the_owner_out() {
        let (_dir, db) = db();
        let throttle = Throttle::new(db.clone(), 1000, 2);
        let (attacker, owner) = (ip("192.0.2.1"), ip("198.51.100.7"));
        let now = at(0);
        assert!(attempt(&db, throttle.password_spends(attacker, "a"), now).is_ok());
        assert!(attempt(&db, throttle.password_spends(attacker, "a"), now).is_ok());
        assert!(attempt(&db, throttle.password_spends(attacker, "a"), now).is_err(), "this client's budget is spent");
        assert!(attempt(&db, throttle.password_spends(owner, "a"), now).is_ok(), "the owner, elsewhere, signs in");
        assert!(attempt(&db, throttle.mail_spends(attacker, "a"), now).is_ok(), "password failures never block mail");
    }

    #[test]
    fn many_clients_together_meet_the_account_ceiling() {
        let (_dir, db) = db();
        let throttle = Throttle::new(db.clone(), 1000, 2);
        let mut allowed = 0;
        for i in 0..100u8 {
            let client = ip(&format!("10.0.0.{i}"));
            allowed += usize::from(attempt(&db, throttle.password_spends(client, "a"), at(0)).is_ok());
            allowed += usize::from(attempt(&db, throttle.password_spends(client, "a"), at(0)).is_ok());
        }
        assert_eq!(allowed, (2 * ACCOUNT_CEILING_FACTOR) as usize);
    }

    #[test]
    fn the_client_budget_holds_across_accounts_and_comes_back_next_minute() {
        let (_dir, db) = db();
        let throttle = Throttle::new(db.clone(), 3, 100);
        let client = ip("127.0.0.1");
        assert!(attempt(&db, throttle.password_spends(client, "a"), at(0)).is_ok());
        assert!(attempt(&db, throttle.mail_spends(client, "b"), at(1)).is_ok());
        assert!(attempt(&db, throttle.client_spend(client).into_iter().collect(), at(2)).is_ok());
        assert_eq!(attempt(&db, throttle.password_spends(client, "c"), at(20)), Err(40), "wait for the minute to end");
        assert!(attempt(&db, throttle.password_spends(client, "c"), at(60)).is_ok(), "a new minute, a new budget");
    }

    #[test]
    fn mail_has_its_own_budget_per_account() {
        let (_dir, db) = db();
        let throttle = Throttle::new(db.clone(), 1000, 2);
        assert!(attempt(&db, throttle.mail_spends(None, "a"), at(0)).is_ok());
        assert!(attempt(&db, throttle.mail_spends(None, "a"), at(0)).is_ok());
        assert!(attempt(&db, throttle.mail_spends(None, "a"), at(0)).is_err());
        assert!(attempt(&db, throttle.password_spends(None, "a"), at(0)).is_ok(), "and mail never blocks passwords");
    }

    #[test]
    fn ended_windows_are_forgotten_and_current_ones_kept() {
        let (_dir, db) = db();
        let throttle = Throttle::new(db.clone(), 1, 100);
        assert!(attempt(&db, throttle.password_spends(ip("192.0.2.1"), "a"), at(0)).is_ok());
        let forgot = |now| db.write_blocking(move |conn| forget_expired(conn, now)).unwrap();
        assert_eq!(forgot(at(59)), 0, "every window still runs");
        assert_eq!(forgot(at(60)), 1, "the minute ended: the client's row goes, the hourly ones stay");
        assert_eq!(forgot(at(3600)), 2);
        assert!(attempt(&db, throttle.password_spends(ip("192.0.2.1"), "a"), at(3600)).is_ok());
    }

    #[test]
    fn keys_hide_the_address_and_the_account() {
        let (_dir, db) = db();
        let throttle = Throttle::new(db, 1, 1);
        for spend in throttle.password_spends(ip("192.0.2.1"), "ada@example.com") {
            assert!(!spend.key.contains("192.0.2.1") && !spend.key.contains("ada"), "{}", spend.key);
        }
    }

    proptest! {
        #[test]
        fn now_lies_in_its_window_and_retry_after_reaches_its_end(offset in 0i64..10_000_000, micros in 0u32..1_000_000, length in 1i64..100_000) {
            let now = at(offset) + chrono::Duration::microseconds(i64::from(micros));
            let (start, retry_after) = window(now, length);
            let start = start.and_utc();
            prop_assert!(start <= now && now < start + chrono::Duration::seconds(length));
            prop_assert_eq!(start.timestamp() % length, 0);
            prop_assert!(retry_after >= 1 && retry_after as i64 <= length);
            let end = start + chrono::Duration::seconds(length);
            prop_assert!(now + chrono::Duration::seconds(retry_after as i64) >= end, "waiting Retry-After reaches the next window");
            prop_assert!(now + chrono::Duration::seconds(retry_after as i64 - 1) < end, "and not a second more");
        }
    }
}
