//! Mail: queued in the database inside the request's transaction, delivered afterwards by the
//! mailer through SMTP (lettre), retried with back-off while the server is unreachable.
//! Without an SMTP URL the mailer writes each mail to the log instead.

pub mod outbox;
pub mod retry;
pub mod templates;
mod transport;

use std::sync::Arc;

use anyhow::Context;
use futures_util::StreamExt;
use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::db::Db;
pub use outbox::{ListHeaders, OutgoingMail};
use transport::Transport;

pub struct Mailer {
    db: Db,
    clock: SharedClock,
    transport: Transport,
    wake: Notify,
    /// Mails handed to SMTP at once, each over its own pooled connection.
    connections: usize,
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

/// Mails claimed at once; a pass claims batches until none is due.
const BATCH: i64 = 50;
/// Mails handed to SMTP at once by default (over the transport's pool of connections). A
/// connection carries about 22 mails/s here (lettre waits for a delayed ACK after each body), so
/// the rate grows with connections; many relays limit them per client.
pub const IN_FLIGHT: usize = 8;

impl Mailer {
    pub fn new(db: Db, clock: SharedClock, smtp_url: Option<&str>, from: &str) -> anyhow::Result<Self> {
        Self::with_connections(db, clock, smtp_url, from, IN_FLIGHT)
    }

    /// The same, sending over up to `connections` SMTP connections at once
    /// (`ROUNDTABLE_SMTP_CONNECTIONS`).
    pub fn with_connections(
        db: Db,
        clock: SharedClock,
        smtp_url: Option<&str>,
        from: &str,
        connections: usize,
    ) -> anyhow::Result<Self> {
        let connections = connections.clamp(1, 256);
        let transport = Transport::from_config(smtp_url, from, connections).context("configuring mail")?;
        Ok(Self { db, clock, transport, wake: Notify::new(), connections })
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
        let stale = self.db.write(move |conn| outbox::expire_stale(conn, now)).await?;
        if stale > 0 {
            tracing::info!(stale, "reminders whose time had passed before they could be sent: expired unsent");
        }
        let expired = self.db.write(move |conn| outbox::expire_claims(conn, now)).await?;
        if expired > 0 {
            tracing::warn!(expired, "mail claims ran out while sending; marked unknown, not sent again");
            report.unknown += expired;
        }
        loop {
            let now = self.clock.now();
            let claimed = self.db.write(move |conn| outbox::claim_batch(conn, now, BATCH)).await?;
            let full_batch = claimed.len() as i64 == BATCH;
            // Several at once over the transport's pooled connections; each finishes on its own.
            let outcomes: Vec<anyhow::Result<Sent>> =
                futures_util::stream::iter(claimed.into_iter().map(|mail| self.deliver_one(mail)))
                    .buffer_unordered(self.connections)
                    .collect()
                    .await;
            for outcome in outcomes {
                match outcome? {
                    Sent::Delivered => report.delivered += 1,
                    Sent::Retrying => report.retrying += 1,
                    Sent::Failed => report.failed += 1,
                    Sent::Unknown => report.unknown += 1,
                }
            }
            // Mails that fail move their next attempt into the future, so this ends.
            if !full_batch {
                break;
            }
        }
        Ok(report)
    }

    async fn deliver_one(&self, mail: outbox::ClaimedMail) -> anyhow::Result<Sent> {
        let outcome = self.transport.send(&mail).await;
        let now = self.clock.now();
        let (id, token) = (mail.id.clone(), mail.token.clone());
        let (sent, finished) = match outcome {
            Ok(()) => {
                let status = self.transport.delivered_status();
                let done = self.db.write(move |conn| outbox::mark_delivered(conn, &id, &token, status, now)).await?;
                (Sent::Delivered, done)
            }
            Err(failure) => {
                let after = retry::after(&failure, mail.attempts, now);
                tracing::warn!(mail_id = %id, attempts = mail.attempts, error = %failure, ?after, "mail not delivered");
                let sent = match after {
                    outbox::AfterFailure::RetryAt(_) => Sent::Retrying,
                    outbox::AfterFailure::Failed => Sent::Failed,
                    outbox::AfterFailure::Unknown => Sent::Unknown,
                };
                let message = failure.to_string();
                let done =
                    self.db.write(move |conn| outbox::mark_attempt_failed(conn, &id, &token, &message, after)).await?;
                (sent, done)
            }
        };
        if !finished {
            tracing::warn!(mail_id = %mail.id, "the claim on this mail ran out and was taken over; its outcome is not recorded");
        }
        Ok(sent)
    }
}

enum Sent {
    Delivered,
    Retrying,
    Failed,
    Unknown,
}
