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
    pub fn from_config(smtp_url: Option<&str>, from: &str, connections: usize) -> anyhow::Result<Self> {
        let Some(url) = smtp_url.filter(|u| !u.trim().is_empty()) else {
            tracing::warn!("ROUNDTABLE_SMTP_URL is not set: mail will be written to the log, not sent");
            return Ok(Self::Log);
        };
        let from: Mailbox = from.parse().map_err(|e| anyhow::anyhow!("ROUNDTABLE_MAIL_FROM {from:?}: {e}"))?;
        let transport: AsyncSmtpTransport<Tokio1Executor> = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("ROUNDTABLE_SMTP_URL: {e}"))?
            .timeout(Some(Duration::from_secs(15)))
            .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(connections as u32))
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
                let mut builder = Message::builder().message_id(Some(message_id(&mail.id, from)));
                if let Some(kind) = &mail.kind {
                    builder = builder.header(RoundtableKind(kind.clone()));
                }
                if let Some(list) = &mail.list {
                    // RFC 2919 and RFC 8058: a client's "unsubscribe" button POSTs
                    // `List-Unsubscribe=One-Click` to the URL, which needs no sign-in.
                    builder = builder
                        .header(ListId(list.list_id.clone()))
                        .header(ListUnsubscribe(format!("<{}>", list.unsubscribe_url)))
                        .header(ListUnsubscribePost("List-Unsubscribe=One-Click".into()));
                }
                let message = builder
                    .from(from.clone())
                    .to(to)
                    .subject(&mail.subject)
                    .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
                    .map_err(|e| Failure::Permanent(format!("building message: {e}")))?;
                transport.send(message).await.map(|_| ()).map_err(|e| classify(SmtpErrorKind::of(&e), e.to_string()))
            }
        }
    }
}

/// A header whose value is text we made (no folding or encoding needed beyond lettre's own).
macro_rules! text_header {
    ($(#[$doc:meta])* $name:ident, $wire:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub String);

        impl lettre::message::header::Header for $name {
            fn name() -> lettre::message::header::HeaderName {
                lettre::message::header::HeaderName::new_from_ascii_str($wire)
            }

            fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok(Self(text.to_string()))
            }

            fn display(&self) -> lettre::message::header::HeaderValue {
                lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

text_header!(
    /// `X-Roundtable-Kind: <kind>` on every mail, so people can filter on what it is.
    RoundtableKind,
    "X-Roundtable-Kind"
);
text_header!(
    /// `List-Id` (RFC 2919): one list per cohort.
    ListId,
    "List-Id"
);
text_header!(
    /// `List-Unsubscribe: <https://…>` (RFC 2369), the kind's one-click unsubscribe URL.
    ListUnsubscribe,
    "List-Unsubscribe"
);
text_header!(
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
    ListUnsubscribePost,
    "List-Unsubscribe-Post"
);

/// What kind of lettre SMTP error it was, as far as the error tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpErrorKind {
    /// A 5xx reply.
    Permanent,
    /// A 4xx reply.
    Transient,
    /// Opening the connection failed (refused, unreachable, a timeout while connecting, the TLS
    /// set-up): nothing was handed over.
    Connection,
    /// The TLS layer failed.
    Tls,
    /// lettre could not build the conversation (say, an envelope it refuses).
    Client,
    /// The transport was shut down before it sent.
    Shutdown,
    /// Anything else: the connection dropped or timed out mid-conversation, or a reply made no
    /// sense. lettre does not say at which step, so the message may have been accepted.
    Other,
}

impl SmtpErrorKind {
    pub fn of(err: &lettre::transport::smtp::Error) -> Self {
        if err.is_permanent() {
            Self::Permanent
        } else if err.is_transient() {
            Self::Transient
        } else if err.is_client() {
            Self::Client
        } else if err.is_tls() {
            Self::Tls
        } else if err.is_transport_shutdown() {
            Self::Shutdown
        } else if err.to_string().starts_with("Connection error") {
            // lettre exposes no `is_connection()`; its Display names the kind first.
            Self::Connection
        } else {
            Self::Other
        }
    }
}

/// Sorts an SMTP error by what sending again would risk: a reply is the server's word (5xx never,
/// 4xx later); a failure before anything was handed over is safe to retry; a conversation that
/// broke off may have delivered the mail already, so its outcome is unknown.
pub fn classify(kind: SmtpErrorKind, message: String) -> Failure {
    match kind {
        SmtpErrorKind::Permanent | SmtpErrorKind::Client => Failure::Permanent(message),
        SmtpErrorKind::Transient | SmtpErrorKind::Connection | SmtpErrorKind::Tls | SmtpErrorKind::Shutdown => {
            Failure::Retryable(message)
        }
        SmtpErrorKind::Other => Failure::Unknown(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_broken_off_conversation_has_an_unknown_outcome() {
        let sorted = |kind| match classify(kind, String::new()) {
            Failure::Permanent(_) => "terminal",
            Failure::Retryable(_) => "retryable",
            Failure::Unknown(_) => "unknown",
        };
        assert_eq!(sorted(SmtpErrorKind::Permanent), "terminal");
        assert_eq!(sorted(SmtpErrorKind::Client), "terminal");
        assert_eq!(sorted(SmtpErrorKind::Transient), "retryable");
        assert_eq!(sorted(SmtpErrorKind::Connection), "retryable");
        assert_eq!(sorted(SmtpErrorKind::Tls), "retryable");
        assert_eq!(sorted(SmtpErrorKind::Shutdown), "retryable");
        assert_eq!(sorted(SmtpErrorKind::Other), "unknown");
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connection_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(port).build();
        let message = Message::builder()
            .from("a@example.com".parse().unwrap())
            .to("b@example.com".parse().unwrap())
            .subject("x")
            .body(String::from("x"))
            .unwrap();
        let err = transport.send(message).await.unwrap_err();
        assert_eq!(SmtpErrorKind::of(&err), SmtpErrorKind::Connection, "{err}");
    }
}
