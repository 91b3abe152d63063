//! Periodic work that several replicas share. Each job runs under its named lease (`lease.rs`):
//! a replica runs a job only when it holds the job's lease, which it takes for the job's period,
//! so of several replicas one runs each sweep and the others skip it. The lease is the economy;
//! the guarantee is that each job's effect is keyed unique in the database (a coaching cycle per
//! cohort and number, a charter review notice per cohort and due date, a session per series and
//! occurrence), so a job that does run twice (a lease that ran out mid-run, a clock step) changes
//! nothing the second time.
//!
//! Per process, not leased: waking the mail worker (each mail is claimed on its own) and letting
//! the in-memory throttles forget idle clients.

pub mod lease;

use actix_web::web;
use chrono::Duration;

use crate::error::ApiResult;
use crate::state::AppState;
use crate::{charter, http::idempotency, rota, sessions};

/// The leased periodic jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Job {
    /// Forgets Idempotency-Key records past their window.
    ForgetIdempotencyKeys,
    /// Records charter reviews that fell due (one notice per cohort and due date).
    CharterReviews,
    /// Forms the coaching cycles that are due (one per cohort and cycle number).
    CoachingCycles,
    /// Keeps every series' sessions stored 26 weeks ahead (one per series and occurrence).
    SessionHorizon,
}

impl Job {
    /// The jobs of the frequent sweep (the session horizon has its own, slower period).
    pub const SWEEP: [Job; 3] = [Job::ForgetIdempotencyKeys, Job::CharterReviews, Job::CoachingCycles];

    /// The lease's name in `job_leases`.
    pub fn name(self) -> &'static str {
        match self {
            Job::ForgetIdempotencyKeys => "idempotency.forget",
            Job::CharterReviews => "charter.reviews",
            Job::CoachingCycles => "rota.coaching_cycles",
            Job::SessionHorizon => "sessions.horizon",
        }
    }
}

/// What one job did on this replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It ran and changed this many things.
    Done(usize),
    /// Another replica holds its lease.
    Skipped,
    /// It failed (logged); the lease was given up so that the next sweep anywhere tries again.
    Failed,
}

/// The periodic jobs of one replica: its holder id (random, one per application instance, so
/// every process is a holder of its own) and its state.
#[derive(Clone)]
pub struct Jobs {
    state: web::Data<AppState>,
    holder: String,
}

impl Jobs {
    pub fn new(state: web::Data<AppState>) -> Self {
        Self { state, holder: uuid::Uuid::new_v4().to_string() }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Runs `job` when this replica gets its lease for `period`; `Ok(None)` when another holds it.
    pub async fn run(&self, job: Job, period: Duration) -> ApiResult<Option<usize>> {
        let db = self.state.db.clone();
        let now = self.state.now();
        let holder = self.holder.clone();
        if !db.write(move |conn| lease::claim(conn, job.name(), &holder, now, period)).await? {
            tracing::debug!(job = job.name(), "another replica holds the lease; skipped");
            return Ok(None);
        }
        let done = match job {
            Job::ForgetIdempotencyKeys => db.write(move |conn| idempotency::forget_old(conn, now)).await,
            Job::CharterReviews => db.write(move |conn| charter::notices::record_due_reviews(conn, now)).await,
            Job::CoachingCycles => rota::cycles::form_due(&db, now).await,
            Job::SessionHorizon => sessions::materialize::extend_all(&db, now).await,
        };
        if done.is_err() {
            let holder = self.holder.clone();
            if let Err(err) = db.write(move |conn| lease::release(conn, job.name(), &holder, now)).await {
                tracing::warn!(job = job.name(), error = %err, "giving up the lease after a failure");
            }
        }
        done.map(Some)
    }

    /// Runs `job` as `run` does, logging instead of answering errors.
    pub async fn run_logged(&self, job: Job, period: Duration) -> Outcome {
        match self.run(job, period).await {
            Ok(Some(done)) => {
                tracing::debug!(job = job.name(), done, "periodic job ran");
                Outcome::Done(done)
            }
            Ok(None) => Outcome::Skipped,
            Err(err) => {
                tracing::error!(job = job.name(), error = %err, "periodic job failed");
                Outcome::Failed
            }
        }
    }

    /// The frequent sweep: per process, wakes the mail worker and lets the throttles forget idle
    /// clients; then each job of `Job::SWEEP` under its lease for `period`.
    pub async fn sweep(&self, period: Duration) -> Vec<(Job, Outcome)> {
        self.state.mailer.wake();
        self.state.throttle.forget_idle();
        let mut outcomes = Vec::with_capacity(Job::SWEEP.len());
        for job in Job::SWEEP {
            outcomes.push((job, self.run_logged(job, period).await));
        }
        outcomes
    }
}
