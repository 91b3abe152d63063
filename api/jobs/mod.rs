//! Periodic work that several replicas share. Each job runs under its named lease (`lease.rs`):
//! a replica runs a job only when it holds the job's lease, which it takes for the job's period,
//! so of several replicas one runs each sweep and the others skip it. The lease is the economy;
//! the guarantee is that each job's effect is keyed unique in the database (a coaching cycle per
//! cohort and number, a charter review notice per cohort and due date, a session per series and
//! occurrence), so a job that does run twice (a lease that ran out mid-run, a clock step) changes
//! nothing the second time.
//!
//! Per process, not leased: waking the mail worker (each mail is claimed on its own) and deleting
//! the throttle's counters of ended windows (deleting them twice changes nothing).

pub mod lease;

use actix_web::web;
use chrono::Duration;

use crate::error::ApiResult;
use crate::state::AppState;
use crate::{charter, http::idempotency, notifications, rota, sessions};

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
    /// Plans the reminders of the next 15 days (one row per notification key).
    Reminders,
    /// Writes each member's next weekly summary (one per member and Monday).
    Digests,
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
            Job::Reminders => "notifications.plan",
            Job::Digests => "notifications.digests",
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
            Job::Reminders => {
                db.write(move |conn| {
                    let sessions = notifications::engine::plan_sessions(conn, now, None)?;
                    let experiments = notifications::engine::plan_experiments(conn, now, None)?;
                    Ok(sessions.added + sessions.withdrawn + experiments.added + experiments.withdrawn)
                })
                .await
            }
            Job::Digests => db.write(move |conn| notifications::digest::plan_weekly(conn, now)).await,
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

    /// The frequent sweep: per process, wakes the mail worker and deletes the throttle's counters
    /// of ended windows; then each job of `Job::SWEEP` under its lease for `period`.
    pub async fn sweep(&self, period: Duration) -> Vec<(Job, Outcome)> {
        self.state.mailer.wake();
        if let Err(err) = self.state.throttle.forget_expired(self.state.now()).await {
            tracing::warn!(error = %err, "forgetting the throttle's ended windows");
        }
        let mut outcomes = Vec::with_capacity(Job::SWEEP.len());
        for job in Job::SWEEP {
            outcomes.push((job, self.run_logged(job, period).await));
        }
        outcomes
    }

    /// The reminder sweep: plans the reminders ahead under its lease, then notifies (`notify`).
    pub async fn reminders(&self, period: Duration) -> (Outcome, NotifyReport) {
        let planned = self.run_logged(Job::Reminders, period).await;
        // The weekly summaries are written a day ahead: once an hour is plenty.
        self.run_logged(Job::Digests, Duration::hours(1)).await;
        (planned, self.notify_logged().await)
    }

    /// One notifier pass of this process (no lease: each step is safe on several replicas at
    /// once): reads new events into notifications until the stream is read, queues the mail of
    /// every notification that is due, and wakes the mail worker when there is some.
    pub async fn notify(&self) -> ApiResult<NotifyReport> {
        let db = &self.state.db;
        let mut report = NotifyReport::default();
        loop {
            let now = self.state.now();
            let read = db.write(move |conn| notifications::engine::follow_events(conn, now)).await?;
            report.events += read;
            if read == 0 {
                break;
            }
        }
        loop {
            let (now, base) = (self.state.now(), self.state.base_url.clone());
            let done =
                db.write(move |conn| notifications::engine::dispatch_due(conn, now, &base, DISPATCH_BATCH)).await?;
            report.queued += done.queued;
            report.skipped += done.skipped;
            if ((done.queued + done.skipped) as i64) < DISPATCH_BATCH {
                break;
            }
        }
        if report.queued > 0 {
            self.state.mailer.wake();
        }
        Ok(report)
    }

    pub async fn notify_logged(&self) -> NotifyReport {
        match self.notify().await {
            Ok(report) => report,
            Err(err) => {
                tracing::error!(error = %err, "notifier pass failed");
                NotifyReport::default()
            }
        }
    }
}

/// Notifications claimed and queued per transaction.
const DISPATCH_BATCH: i64 = 200;

/// What one notifier pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NotifyReport {
    /// Events read from the stream.
    pub events: usize,
    /// Notifications whose mail was queued.
    pub queued: usize,
    /// Notifications that fell due but were no longer called for.
    pub skipped: usize,
}
