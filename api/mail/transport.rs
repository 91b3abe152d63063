//! Where mail goes: an SMTP server (lettre, TLS / STARTTLS / plain as the URL says), or the log
//! when no SMTP server is configured, so a first run needs nothing installed.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::outbox::ClaimedMail;
use super::retry::Failure;

/// `<mail-id@sender-domain>` (RFC 5322 §3.6.4): unique per queued mail, stable across retries.
pub fn message_id(mail_id: &str, from: &Mailbox) -> String {
    format!("<{mail_id}@{}>", from.email.domain())
}

pub enum Transport {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
    Log,
}

impl Transport {
    pub fn from_config(smtp_url: Option<&str>, from: &str) -> anyhow::Result<Self> {
        let Some(url) = smtp_url.filter(|u| !u.trim().is_empty()) else {
            tracing::warn!("ROUNDTABLE_SMTP_URL is not set: mail will be written to the log, not sent");
            return Ok(Self::Log);
        };
        let from: Mailbox = from.parse().map_err(|e| anyhow::anyhow!("ROUNDTABLE_MAIL_FROM {from:?}: {e}"))?;
        let transport: AsyncSmtpTransport<Tokio1Executor> = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("ROUNDTABLE_SMTP_URL: {e}"))?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        Ok(Self::Smtp { transport, from })
    }

    /// The status a delivered mail ends in.
    pub fn delivered_status(&self) -> &'static str {
        match self {
            Self::Smtp { .. } => "sent",
            Self::Log => "logged",
        }
    }

    pub async fn send(&self, mail: &ClaimedMail) -> Result<(), Failure> {
        match self {
            Self::Log => {
                tracing::info!(
                    to = %mail.to,
                    subject = %mail.subject,
                    body = %mail.text,
                    "MAIL NOT SENT (no SMTP server configured; set ROUNDTABLE_SMTP_URL)"
                );
                Ok(())
            }
            Self::Smtp { transport, from } => {
                let to: Mailbox = mail.to.parse().map_err(|e| Failure::Permanent(format!("recipient: {e}")))?;
                // lettre adds `Date` itself; `Message-ID` is ours: one per queued mail, so that a
                // retry after an unclear failure is recognised as the same message.
                let message = Message::builder()
                    .message_id(Some(message_id(&mail.id, from)))
                    .from(from.clone())
                    .to(to)
                    .subject(&mail.subject)
                    .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
                    .map_err(|e| Failure::Permanent(format!("building message: {e}")))?;
                transport.send(message).await.map(|_| ()).map_err(|e| {
                    if e.is_permanent() { Failure::Permanent(e.to_string()) } else { Failure::Retryable(e.to_string()) }
                })
            }
        }
    }
}
