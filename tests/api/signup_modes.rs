//! Who may sign up (`ROUNDTABLE_SIGNUP`): anyone (`open`, the default), or only people invited
//! to a cohort (`invite-only`): a pending invitation mailed to the address, or an invite link's
//! code given at sign-up. Everyone else gets 403 `signup_invite_only`, with no account and no
//! mail. The instance is set up as README "Sign-up" says: the organizers sign up while it is
//! open, then it runs invite-only (here: a second server on the same database).

use chrono::Duration;
use diesel::prelude::*;
use roundtable::config::SignupMode;
use roundtable::db::schema::{outbound_mail, users};
use serde_json::{Value, json};

use crate::helpers::{Options, PASSWORD, TestApp, TestUser, assert_problem, spawn_app, spawn_replica_with};

fn signup_body(email: &str) -> Value {
    json!({"email": email, "password": PASSWORD, "display_name": "New Person", "time_zone": "Europe/Berlin"})
}

async fn signup_with_code(app: &TestApp, email: &str, code: &str) -> reqwest::Response {
    let mut body = signup_body(email);
    body["invite_code"] = json!(code);
    app.post("/api/v1/auth/signup", &body).await
}

/// Accounts and queued mails for this address.
fn traces(app: &TestApp, email: &str) -> (i64, i64) {
    let mut conn = app.db();
    let key = email.to_lowercase();
    let accounts = users::table.filter(users::email_lower.eq(&key)).count().get_result(&mut conn).unwrap();
    let mails = outbound_mail::table.filter(outbound_mail::to_address.eq(email)).count().get_result(&mut conn).unwrap();
    (accounts, mails)
}

/// An open instance with an organizer and a cohort, and an invite-only server on its database
/// (no jobs of its own: the open one's mailer sends what either queues).
async fn instance() -> (TestApp, TestApp, TestUser, String) {
    let open = spawn_app().await;
    let ada = open.user("ada@example.com").await;
    let cohort = open.cohort(&ada.access_token, "Staff engineers").await;
    let options =
        Options { signup: SignupMode::InviteOnly, mail_sink: false, background_jobs: false, ..Options::default() };
    let closed = spawn_replica_with(&open, options).await;
    (open, closed, ada, cohort)
}

#[tokio::test]
async fn open_is_the_default_and_anyone_signs_up() {
    let app = spawn_app().await;
    let instance: Value = app.get("/api/v1/instance").await.json().await.unwrap();
    assert_eq!(instance, json!({"signup": "open"}));
    // An invite code is not looked at when sign-up is open, not even a bad one.
    assert_eq!(signup_with_code(&app, "stranger@example.com", "rt_join_nonsense").await.status(), 201);
    assert_eq!(app.signup("other@example.com").await.status(), 201);
}

#[tokio::test]
async fn invite_only_refuses_strangers_with_no_account_and_no_mail() {
    let (open, closed, ada, _cohort) = instance().await;
    let instance: Value = closed.get("/api/v1/instance").await.json().await.unwrap();
    assert_eq!(instance, json!({"signup": "invite-only"}));

    let refused = assert_problem(closed.signup("stranger@example.com").await, 403, "signup_invite_only").await;
    assert!(refused["detail"].as_str().unwrap().contains("invited"), "{refused}");
    let bad_code = signup_with_code(&closed, "stranger@example.com", "rt_join_nonsense").await;
    let refused = assert_problem(bad_code, 403, "signup_invite_only").await;
    assert!(refused["detail"].as_str().unwrap().contains("invite_code"), "{refused}");
    open.outbox_settled().await;
    assert_eq!(traces(&closed, "stranger@example.com"), (0, 0), "no account, no mail");

    // Input is still checked first, naming the field.
    let mut blank = signup_body("stranger@example.com");
    blank["invite_code"] = json!("  ");
    let invalid = assert_problem(closed.post("/api/v1/auth/signup", &blank).await, 422, "validation_failed").await;
    assert!(invalid.to_string().contains("invite_code"), "{invalid}");

    // Existing accounts are not affected: the organizer signs in on the invite-only server.
    assert_eq!(closed.login("ada@example.com", PASSWORD).await.status(), 200);
    let me = closed.get_as("/api/v1/me", &ada.access_token).await;
    assert_eq!(me.status(), 200);
    // And an existing address still hears that it is taken only when it could sign up at all.
    assert_problem(closed.signup("ada@example.com").await, 403, "signup_invite_only").await;
}

#[tokio::test]
async fn an_address_with_a_pending_invitation_signs_up_and_joins() {
    let (open, closed, ada, cohort) = instance().await;
    let path = format!("/api/v1/cohorts/{cohort}/invitations");
    let sent = closed.post_json_as(&path, &ada.access_token, &json!({"emails": ["Grace@Example.com"]})).await;
    assert_eq!(sent.status(), 201);
    open.outbox_settled().await;
    let token = open.mail().wait_for("Grace@Example.com", 1).await[0].link_token();

    // Another address cannot sign up on the strength of Grace's invitation.
    assert_problem(closed.signup("mallory@example.com").await, 403, "signup_invite_only").await;
    // Grace signs up with the invited address, in any case.
    let created = closed.signup("grace@example.com").await;
    assert_eq!(created.status(), 201);
    let grace = closed.sign_in("grace@example.com").await;
    open.outbox_settled().await;
    let confirm = open.mail().wait_for_subject("grace@example.com", "Confirm your email address for Roundtable").await;
    let confirmed = closed
        .post_json_as("/api/v1/auth/email-verifications/redeem", &grace, &json!({"token": confirm.link_token()}))
        .await;
    assert_eq!(confirmed.status(), 204);
    let accepted = closed.post_json_as("/api/v1/invitations/accept", &grace, &json!({"token": token})).await;
    assert_eq!(accepted.status(), 200, "signing up did not use the invitation up");
}

#[tokio::test]
async fn revoked_and_expired_invitations_admit_nobody() {
    let (_open, closed, ada, cohort) = instance().await;
    let path = format!("/api/v1/cohorts/{cohort}/invitations");
    let sent: Value = closed
        .post_json_as(&path, &ada.access_token, &json!({"emails": ["revoked@example.com", "late@example.com"]}))
        .await
        .json()
        .await
        .unwrap();
    let revoked = sent["invited"][0]["id"].as_str().unwrap();
    assert_eq!(closed.delete_as(&format!("{path}/{revoked}"), &ada.access_token).await.status(), 204);
    assert_problem(closed.signup("revoked@example.com").await, 403, "signup_invite_only").await;

    closed.clock.advance(Duration::days(15));
    assert_problem(closed.signup("late@example.com").await, 403, "signup_invite_only").await;
    assert_eq!(traces(&closed, "late@example.com").0, 0);
}

#[tokio::test]
async fn an_invite_link_admits_whoever_holds_it_until_it_is_revoked() {
    let (_open, closed, ada, cohort) = instance().await;
    let created: Value = closed
        .post_json_as(&format!("/api/v1/cohorts/{cohort}/invite-links"), &ada.access_token, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let (code, url) = (created["code"].as_str().unwrap(), created["url"].as_str().unwrap());

    // The code as pasted (the whole link) admits; joining then uses the link.
    assert_eq!(signup_with_code(&closed, "linked@example.com", url).await.status(), 201);
    let linked = closed.sign_in("linked@example.com").await;
    let joined = closed.post_json_as("/api/v1/invite-links/join", &linked, &json!({"code": code})).await;
    assert_eq!(joined.status(), 201);
    assert_eq!(signup_with_code(&closed, "second@example.com", code).await.status(), 201, "the bare code too");

    let link_id = created["id"].as_str().unwrap();
    let revoke = closed.delete_as(&format!("/api/v1/cohorts/{cohort}/invite-links/{link_id}"), &ada.access_token).await;
    assert_eq!(revoke.status(), 204);
    assert_problem(signup_with_code(&closed, "third@example.com", code).await, 403, "signup_invite_only").await;
    assert_eq!(traces(&closed, "third@example.com"), (0, 0));
}
