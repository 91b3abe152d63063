//! What to do after a failed attempt (pure): a retryable failure is tried again with exponential
//! back-off from 30 s, capped at an hour, giving up after 10 attempts; a permanent one fails at
//! once; one whose outcome is unknown (the mail may have gone out) is never tried again by itself.

use chrono::{DateTime, Duration, Utc};

use super::outbox::AfterFailure;

/// A failed attempt, sorted by what a retry would risk.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Nothing was handed over, or the server said "later": connection refused, a 4xx reply.
    #[error("temporary: {0}")]
    Retryable(String),
    /// The server will never accept it: 5xx reply, malformed address.
    #[error("permanent: {0}")]
    Permanent(String),
    /// The conversation broke off (a timeout, a dropped connection, a reply that made no sense)
    /// where the message may already have been accepted: sending again could deliver it twice.
    #[error("unknown outcome: {0}")]
    Unknown(String),
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

/// What the mail becomes after the `attempts`-th attempt failed so.
pub fn after(failure: &Failure, attempts: i32, now: DateTime<Utc>) -> AfterFailure {
    match failure {
        Failure::Permanent(_) => AfterFailure::Failed,
        Failure::Unknown(_) => AfterFailure::Unknown,
        Failure::Retryable(_) if attempts >= MAX_ATTEMPTS => AfterFailure::Failed,
        Failure::Retryable(_) => AfterFailure::RetryAt(now + delay_after(attempts)),
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
        assert_eq!(after(&Failure::Permanent("550".into()), 1, now), AfterFailure::Failed);
        assert_eq!(after(&Failure::Retryable("down".into()), MAX_ATTEMPTS, now), AfterFailure::Failed);
        assert_eq!(
            after(&Failure::Retryable("down".into()), 1, now),
            AfterFailure::RetryAt(now + Duration::seconds(30))
        );
    }

    #[test]
    fn an_unknown_outcome_is_never_retried_by_itself() {
        let now = Utc::now();
        for attempts in [1, 2, MAX_ATTEMPTS] {
            assert_eq!(after(&Failure::Unknown("connection dropped".into()), attempts, now), AfterFailure::Unknown);
        }
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
