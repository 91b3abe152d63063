//! Links by mail: email verification, magic-link sign-in, password reset. The links are taken
//! from what a real SMTP server received.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, spawn_app};

#[tokio::test]
async fn signup_mails_a_link_that_confirms_the_address() {
    let app = spawn_app().await;
    let user = app.unconfirmed_user("ada@example.com").await;
    let mails = app.mail().wait_for("ada@example.com", 1).await;
    let mail = &mails[0];
    assert_eq!(mail.subject, "Confirm your email address for Roundtable");
    assert!(mail.html.contains(&mail.link_token()), "both parts carry the link");
    assert!(mail.text.contains(&format!("{}/app/verify-email#token=", app.base)));

    let me: Value = app.get_as("/api/v1/me", &user.access_token).await.json().await.unwrap();
    assert_eq!(me["email_verified"], false);
    // Confirmed while signed in to the account, as its owner does in the app: that sign-in stays.
    let other_device = app.sign_in("ada@example.com").await;
    let redeem = app
        .post_json_as(
            "/api/v1/auth/email-verifications/redeem",
            &user.access_token,
            &json!({"token": mail.link_token()}),
        )
        .await;
    assert_eq!(redeem.status(), 204);
    let user_token = user.access_token.clone();
    let me: Value = app.get_as("/api/v1/me", &user_token).await.json().await.unwrap();
    assert_eq!(me["email_verified"], true);
    assert_eq!(app.get_as("/api/v1/me", &other_device).await.status(), 401, "other sign-ins end");

    let again = app.post("/api/v1/auth/email-verifications/redeem", &json!({"token": mail.link_token()})).await;
    assert_problem(again, 401, "invalid_link").await;
    let resend = app.post_as("/api/v1/auth/email-verifications", &user_token).await;
    assert_problem(resend, 409, "already_verified").await;
}

#[tokio::test]
async fn verification_can_be_resent() {
    let app = spawn_app().await;
    let user = app.unconfirmed_user("ada@example.com").await;
    let resend = app.post_as("/api/v1/auth/email-verifications", &user.access_token).await;
    assert_eq!(resend.status(), 202);
    let mails = app.mail().wait_for("ada@example.com", 2).await;
    let redeem = app.post("/api/v1/auth/email-verifications/redeem", &json!({"token": mails[1].link_token()})).await;
    assert_eq!(redeem.status(), 204);
}

#[tokio::test]
async fn a_magic_link_from_the_mail_signs_in_once() {
    let app = spawn_app().await;
    app.signup("ada@example.com").await;
    let response = app.post("/api/v1/auth/magic-links", &json!({"email": "ADA@example.com"})).await;
    assert_eq!(response.status(), 202);
    let mails = app.mail().wait_for("ada@example.com", 2).await;
    let mail = mails.iter().find(|m| m.subject == "Your Roundtable sign-in link").expect("magic-link mail");
    assert!(mail.text.contains("/app/magic-link#token=rt_ln_"));

    let signed_in = app.post("/api/v1/auth/magic-links/redeem", &json!({"token": mail.link_token()})).await;
    assert_eq!(signed_in.status(), 200);
    let tokens: Value = signed_in.json().await.unwrap();
    let me: Value = app.get_as("/api/v1/me", tokens["access_token"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["email_verified"], true, "a used magic link proves the address");

    let again = app.post("/api/v1/auth/magic-links/redeem", &json!({"token": mail.link_token()})).await;
    assert_problem(again, 401, "invalid_link").await;
}

#[tokio::test]
async fn magic_links_expire_after_15_minutes() {
    let app = spawn_app().await;
    app.signup("ada@example.com").await;
    app.post("/api/v1/auth/magic-links", &json!({"email": "ada@example.com"})).await;
    let mails = app.mail().wait_for("ada@example.com", 2).await;
    let token = mails.iter().find(|m| m.subject.contains("sign-in link")).unwrap().link_token();
    app.clock.advance(chrono::Duration::minutes(15) + chrono::Duration::seconds(1));
    let late = app.post("/api/v1/auth/magic-links/redeem", &json!({"token": token})).await;
    assert_problem(late, 401, "invalid_link").await;
}

#[tokio::test]
async fn link_requests_never_reveal_whether_an_account_exists() {
    let app = spawn_app().await;
    app.signup("ada@example.com").await;
    for path in ["/api/v1/auth/magic-links", "/api/v1/auth/password-resets"] {
        let known = app.post(path, &json!({"email": "ada@example.com"})).await;
        let unknown = app.post(path, &json!({"email": "nobody@example.com"})).await;
        assert_eq!((known.status(), unknown.status()), (reqwest::StatusCode::ACCEPTED, reqwest::StatusCode::ACCEPTED));
        assert_eq!(known.json::<Value>().await.unwrap(), unknown.json::<Value>().await.unwrap());
    }
    app.mail().wait_for("ada@example.com", 3).await;
    app.state.mailer.deliver_due().await.unwrap();
    assert!(app.mail().mails_to("nobody@example.com").is_empty());
}

#[tokio::test]
async fn a_password_reset_sets_the_password_and_ends_every_sign_in() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    app.post("/api/v1/auth/password-resets", &json!({"email": "ada@example.com"})).await;
    let mails = app.mail().wait_for("ada@example.com", 2).await;
    let mail = mails.iter().find(|m| m.subject == "Reset your Roundtable password").unwrap();

    let weak = app
        .post("/api/v1/auth/password-resets/redeem", &json!({"token": mail.link_token(), "password": "short"}))
        .await;
    assert_problem(weak, 422, "validation_failed").await;
    let reset = app
        .post(
            "/api/v1/auth/password-resets/redeem",
            &json!({"token": mail.link_token(), "password": "a brand new secret"}),
        )
        .await;
    assert_eq!(reset.status(), 204);

    assert_problem(app.get_as("/api/v1/me", &user.access_token).await, 401, "invalid_token").await;
    assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 401);
    assert_eq!(app.login("ada@example.com", "a brand new secret").await.status(), 200);
    let reuse = app
        .post(
            "/api/v1/auth/password-resets/redeem",
            &json!({"token": mail.link_token(), "password": "yet another one"}),
        )
        .await;
    assert_problem(reuse, 401, "invalid_link").await;
}

#[tokio::test]
async fn a_link_works_only_for_its_own_purpose() {
    let app = spawn_app().await;
    app.signup("ada@example.com").await;
    let verification = app.mail().wait_for("ada@example.com", 1).await[0].link_token();
    let as_magic = app.post("/api/v1/auth/magic-links/redeem", &json!({"token": verification})).await;
    assert_problem(as_magic, 401, "invalid_link").await;
}
