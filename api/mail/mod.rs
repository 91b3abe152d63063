//! Mail: queued in the database inside the request's transaction, delivered afterwards by the
//! mailer through SMTP (lettre), retried with back-off while the server is unreachable.
//! Without an SMTP URL the mailer writes each mail to the log instead.

pub mod outbox;
pub mod retry;
pub mod templates;
mod transport;

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::db::Db;
pub use outbox::OutgoingMail;
use transport::Transport;

pub struct Mailer {
    db: Db,
    clock: SharedClock,
    transport: Transport,
    wake: Notify,
}

/// What one delivery pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
    /// Mails that may have gone out (a conversation that broke off, or a claim whose lease ran
    /// out): moved to `unknown` and not sent again by themselves.
    pub unknown: usize,
}

/// Mails claimed per pass; the rest wait for the next pass.
const BATCH: i64 = 50;

impl Mailer {
    pub fn new(db: Db, clock: SharedClock, smtp_url: Option<&str>, from: &str) -> anyhow::Result<Self> {
        let transport = Transport::from_config(smtp_url, from).context("configuring mail")?;
        Ok(Self { db, clock, transport, wake: Notify::new() })
    }

    /// Asks the worker for a pass soon; call after committing a transaction that queued mail.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs a pass whenever woken, until the task is aborted.
    pub fn spawn_worker(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let mailer = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                mailer.wake.notified().await;
                if let Err(err) = mailer.deliver_due().await {
                    tracing::error!(error = ?err, "mail delivery pass failed");
                }
            }
        })
    }

    /// Sends every mail that is due. Each mail is claimed by a conditional update first (with a
    /// token that finishing it needs), so several workers or replicas never send the same mail;
    /// claims whose lease ran out are moved to `unknown` first.
    pub async fn deliver_due(&self) -> anyhow::Result<DeliveryReport> {
        let mut report = DeliveryReport::default();
        let now = self.clock.now();
        let expired = self.db.write(move |conn| outbox::expire_claims(conn, now)).await?;
        if expired > 0 {
            tracing::warn!(expired, "mail claims ran out while sending; marked unknown, not sent again");
            report.unknown += expired;
        }
        loop {
            let now = self.clock.now();
            let due = self.db.read(move |conn| outbox::due(conn, now, BATCH)).await?;
            let full_batch = due.len() as i64 == BATCH;
            for id in due {
                self.deliver_one(id, now, &mut report).await?;
            }
            // Mails that fail move their next attempt into the future, so this ends.
            if !full_batch {
                break;
            }
        }
        Ok(report)
    }

    async fn deliver_one(
        &self,
        id: String,
        now: chrono::DateTime<chrono::Utc>,
        report: &mut DeliveryReport,
    ) -> anyhow::Result<()> {
        let claim_id = id.clone();
        let Some(mail) = self.db.write(move |conn| outbox::claim(conn, &claim_id, now)).await? else {
            return Ok(()); // another worker took it
        };
        let outcome = self.transport.send(&mail).await;
        let now = self.clock.now();
        let token = mail.token.clone();
        let finished = match outcome {
            Ok(()) => {
                report.delivered += 1;
                let status = self.transport.delivered_status();
                self.db.write(move |conn| outbox::mark_delivered(conn, &id, &token, status, now)).await?
            }
            Err(failure) => {
                let after = retry::after(&failure, mail.attempts, now);
                tracing::warn!(mail_id = %id, attempts = mail.attempts, error = %failure, ?after, "mail not delivered");
                match after {
                    outbox::AfterFailure::RetryAt(_) => report.retrying += 1,
                    outbox::AfterFailure::Failed => report.failed += 1,
                    outbox::AfterFailure::Unknown => report.unknown += 1,
                }
                let message = failure.to_string();
                self.db.write(move |conn| outbox::mark_attempt_failed(conn, &id, &token, &message, after)).await?
            }
        };
        if !finished {
            tracing::warn!(mail_id = %mail.id, "the claim on this mail ran out and was taken over; its outcome is not recorded");
        }
        Ok(())
    }
}
