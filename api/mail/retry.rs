//! When to try a failed mail again (pure): exponential back-off from 30 s, capped at an hour,
//! giving up after 10 attempts or at once when the server refused the mail for good.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The server may accept it later: connection refused, timeout, 4xx reply.
    #[error("temporary: {0}")]
    Retryable(String),
    /// The server will never accept it: 5xx reply, malformed address.
    #[error("permanent: {0}")]
    Permanent(String),
}

pub const MAX_ATTEMPTS: i32 = 10;
const FIRST_DELAY_SECONDS: i64 = 30;
const MAX_DELAY_SECONDS: i64 = 3600;

/// Delay after the `attempts`-th failed attempt (1-based).
pub fn delay_after(attempts: i32) -> Duration {
    let doublings = attempts.clamp(1, 30) - 1;
    let seconds = FIRST_DELAY_SECONDS.saturating_mul(1i64 << doublings).min(MAX_DELAY_SECONDS);
    Duration::seconds(seconds)
}

/// When to try again, or `None` to give up.
pub fn next_attempt(failure: &Failure, attempts: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match failure {
        Failure::Permanent(_) => None,
        Failure::Retryable(_) if attempts >= MAX_ATTEMPTS => None,
        Failure::Retryable(_) => Some(now + delay_after(attempts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn back_off_doubles_then_caps() {
        let secs: Vec<i64> = (1..=9).map(|a| delay_after(a).num_seconds()).collect();
        assert_eq!(secs, vec![30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    #[test]
    fn permanent_failures_and_the_last_attempt_give_up() {
        let now = Utc::now();
        assert_eq!(next_attempt(&Failure::Permanent("550".into()), 1, now), None);
        assert_eq!(next_attempt(&Failure::Retryable("down".into()), MAX_ATTEMPTS, now), None);
        assert_eq!(next_attempt(&Failure::Retryable("down".into()), 1, now), Some(now + Duration::seconds(30)));
    }

    proptest! {
        #[test]
        fn delays_never_shrink_and_stay_bounded(a in -5i32..100) {
            let d = delay_after(a);
            prop_assert!(d >= Duration::seconds(FIRST_DELAY_SECONDS) && d <= Duration::seconds(MAX_DELAY_SECONDS));
            prop_assert!(delay_after(a + 1) >= d);
        }
    }
}
