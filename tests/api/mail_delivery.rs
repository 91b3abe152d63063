//! Mail waits in the database while the SMTP server is down and goes out once it is back.

use std::net::TcpListener;
use std::sync::atomic::Ordering;

use diesel::prelude::*;
use roundtable::db::schema::outbound_mail;
use roundtable::mail::DeliveryReport;
use serde_json::json;

use crate::helpers::{MailSink, Options, TestApp, spawn_app_with};

fn mail_rows(app: &crate::helpers::TestApp) -> Vec<(String, i32, String)> {
    outbound_mail::table
        .order(outbound_mail::created_at.asc())
        .select((outbound_mail::status, outbound_mail::attempts, outbound_mail::text_body))
        .load(&mut app.db())
        .unwrap()
}

#[tokio::test]
async fn mail_is_retried_until_the_smtp_server_is_back() {
    // Reserve a port, then close it: connections are refused until a server listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = app_mailing_to(port).await;

    // The request succeeds although the mail cannot be sent.
    assert_eq!(app.signup("ada@example.com").await.status(), 201);
    let report = app.state.mailer.deliver_due().await.unwrap();
    assert_eq!(report, DeliveryReport { delivered: 0, retrying: 1, failed: 0, unknown: 0 });
    let rows = mail_rows(&app);
    assert_eq!((rows[0].0.as_str(), rows[0].1), ("pending", 1));

    // Not due yet: nothing is attempted before the back-off has passed.
    let sink = MailSink::start_on(TcpListener::bind(("127.0.0.1", port)).unwrap());
    assert_eq!(app.state.mailer.deliver_due().await.unwrap(), DeliveryReport::default());

    app.clock.advance(chrono::Duration::seconds(30));
    let report = app.state.mailer.deliver_due().await.unwrap();
    assert_eq!(report.delivered, 1);
    let mails = sink.wait_for("ada@example.com", 1).await;
    assert_eq!(mails[0].subject, "Confirm your email address for Roundtable");

    let rows = mail_rows(&app);
    assert_eq!((rows[0].0.as_str(), rows[0].1), ("sent", 2));
    assert_eq!(rows[0].2, "", "a sent mail's body (with its link) is not kept");
    // Sent once, never again.
    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(app.state.mailer.deliver_due().await.unwrap(), DeliveryReport::default());
    assert_eq!(sink.mails_to("ada@example.com").len(), 1);
}

#[tokio::test]
async fn temporary_smtp_refusals_are_retried() {
    let sink = MailSink::start();
    sink.refuse.store(true, Ordering::SeqCst);
    let app = spawn_app_with(Options {
        mail_sink: false,
        smtp_url: Some(format!("smtp://127.0.0.1:{}", sink.port)),
        background_jobs: false,
        ..Options::default()
    })
    .await;
    app.post("/api/v1/auth/magic-links", &json!({"email": "nobody@example.com"})).await;
    app.signup("ada@example.com").await;
    assert_eq!(app.state.mailer.deliver_due().await.unwrap().retrying, 1, "451 is temporary");
    sink.refuse.store(false, Ordering::SeqCst);
    app.clock.advance(chrono::Duration::seconds(30));
    assert_eq!(app.state.mailer.deliver_due().await.unwrap().delivered, 1);
    assert_eq!(sink.wait_for("ada@example.com", 1).await.len(), 1);
}

#[tokio::test]
async fn every_mail_has_a_message_id_and_a_date() {
    let app = crate::helpers::spawn_app().await;
    assert_eq!(app.signup("ada@example.com").await.status(), 201);
    assert_eq!(app.post("/api/v1/auth/magic-links", &json!({"email": "ada@example.com"})).await.status(), 202);
    let mails = app.mail().wait_for("ada@example.com", 2).await;
    let ids: Vec<String> = mails.iter().map(|m| m.message_id.clone().expect("Message-ID")).collect();
    for id in &ids {
        let (local, domain) = id.split_once('@').expect("id@domain");
        assert!(local.len() >= 32 && domain == "example.com", "unique, at the sender's domain: {id}");
    }
    assert_ne!(ids[0], ids[1], "one Message-ID per mail");
    for mail in &mails {
        assert!(mail.date.is_some(), "Date header");
    }
}

#[tokio::test]
async fn every_mail_says_its_kind_in_x_roundtable_kind() {
    let app = crate::helpers::spawn_app().await;
    assert_eq!(app.signup("ada@example.com").await.status(), 201);
    assert_eq!(app.post("/api/v1/auth/magic-links", &json!({"email": "ada@example.com"})).await.status(), 202);
    assert_eq!(app.post("/api/v1/auth/password-resets", &json!({"email": "ada@example.com"})).await.status(), 202);
    let mails = app.mail().wait_for("ada@example.com", 3).await;
    let mut kinds: Vec<String> = mails.iter().map(|m| m.kind.clone().expect("X-Roundtable-Kind")).collect();
    kinds.sort();
    assert_eq!(kinds, ["email_verification", "password_reset", "sign_in_link"]);
}

/// An SMTP server that takes the whole message and then hangs up instead of answering the final
/// ".": the message may well have been accepted. Counts the messages handed over to it.
fn smtp_hanging_up_after_the_data() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handed_over = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = handed_over.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut lines = BufReader::new(stream.try_clone().unwrap());
            let _ = stream.write_all(b"220 hangs-up.test ESMTP\r\n");
            let mut line = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                let reply: &[u8] = match verb.as_str() {
                    "EHLO" | "HELO" => b"250 hangs-up.test\r\n",
                    "DATA" => b"354 go ahead\r\n",
                    "QUIT" => b"221 bye\r\n",
                    _ => b"250 OK\r\n",
                };
                let _ = stream.write_all(reply);
                if verb == "DATA" {
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).unwrap_or(0) == 0 || line == ".\r\n" {
                            break;
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    break; // hang up without a word
                }
            }
        }
    });
    (port, handed_over)
}

#[tokio::test]
async fn a_mail_whose_conversation_broke_off_after_the_message_is_not_sent_again() {
    let (port, handed_over) = smtp_hanging_up_after_the_data();
    let app = app_mailing_to(port).await;
    assert_eq!(app.signup("ada@example.com").await.status(), 201);
    let report = app.state.mailer.deliver_due().await.unwrap();
    assert_eq!(report, DeliveryReport { unknown: 1, ..DeliveryReport::default() });
    assert_eq!(handed_over.load(Ordering::SeqCst), 1);
    assert_eq!(mail_rows(&app)[0].0, "unknown", "it may have arrived: not retried by itself");

    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(app.state.mailer.deliver_due().await.unwrap(), DeliveryReport::default());
    assert_eq!(handed_over.load(Ordering::SeqCst), 1, "handed over once");
}

/// An app that mails through an SMTP server on `port` (none, or a fake one), delivering only
/// when the test asks.
async fn app_mailing_to(port: u16) -> TestApp {
    spawn_app_with(Options {
        mail_sink: false,
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        background_jobs: false,
        ..Options::default()
    })
    .await
}
