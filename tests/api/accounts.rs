//! `/me`: profile, deletion, sign-ins; and the events account changes leave in the outbox.

use diesel::prelude::*;
use roundtable::db::schema::events;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, spawn_app};

#[tokio::test]
async fn me_can_be_read_and_changed() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    let me: Value = app.get_as("/api/v1/me", &user.access_token).await.json().await.unwrap();
    assert_eq!(me["id"], user.id.as_str());
    assert_eq!((me["time_zone"].as_str(), me["locale"].as_str()), (Some("Europe/Berlin"), Some("en")));
    assert!(me.get("password_hash").is_none());

    let patched = app
        .patch_as(
            "/api/v1/me",
            &user.access_token,
            &json!({"display_name": "  Ada L.  ", "time_zone": "America/New_York", "locale": "pt-BR"}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let me: Value = patched.json().await.unwrap();
    assert_eq!(me["display_name"], "Ada L.");
    assert_eq!(me["time_zone"], "America/New_York");
    assert_eq!(me["locale"], "pt-BR");

    let invalid =
        app.patch_as("/api/v1/me", &user.access_token, &json!({"display_name": "", "time_zone": "Nowhere/Land"})).await;
    let body = assert_problem(invalid, 422, "validation_failed").await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn deleting_the_account_removes_it_and_its_sign_ins() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    let deleted = app.delete_as("/api/v1/me", &user.access_token).await;
    assert_eq!(deleted.status(), 204);
    assert_problem(app.get_as("/api/v1/me", &user.access_token).await, 401, "invalid_token").await;
    assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 401);
    let refresh = app.post("/api/v1/auth/refresh", &json!({"refresh_token": user.refresh_token})).await;
    assert_eq!(refresh.status(), 401);
    // The address is free again.
    assert_eq!(app.signup("ada@example.com").await.status(), 201);
}

#[tokio::test]
async fn sign_ins_are_listed_page_by_page_and_can_be_ended() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    for _ in 0..2 {
        app.clock.advance(chrono::Duration::seconds(1));
        assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 200);
    }
    let first: Value = app.get_as("/api/v1/me/sign-ins?limit=2", &user.access_token).await.json().await.unwrap();
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["current"], true, "oldest first: the first sign-in made this request");
    assert_eq!(items[0]["method"], "password");
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second: Value = app
        .get_as(&format!("/api/v1/me/sign-ins?limit=2&cursor={cursor}"), &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());

    let last_id = second["items"][0]["id"].as_str().unwrap();
    let ended = app.delete_as(&format!("/api/v1/me/sign-ins/{last_id}"), &user.access_token).await;
    assert_eq!(ended.status(), 204);
    let again = app.delete_as(&format!("/api/v1/me/sign-ins/{last_id}"), &user.access_token).await;
    assert_problem(again, 404, "not_found").await;
    let all: Value = app.get_as("/api/v1/me/sign-ins", &user.access_token).await.json().await.unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_paging_parameters_are_422_on_the_field() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    for (query, field) in [("limit=0", "limit"), ("cursor=garbage", "cursor"), ("limit=many", "limit")] {
        let response = app.get_as(&format!("/api/v1/me/sign-ins?{query}"), &user.access_token).await;
        let body = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn another_users_sign_in_cannot_be_ended() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let bobs: Value = app.get_as("/api/v1/me/sign-ins", &bob.access_token).await.json().await.unwrap();
    let bob_sign_in = bobs["items"][0]["id"].as_str().unwrap();
    let response = app.delete_as(&format!("/api/v1/me/sign-ins/{bob_sign_in}"), &ada.access_token).await;
    assert_problem(response, 404, "not_found").await;
    assert_eq!(app.get_as("/api/v1/me", &bob.access_token).await.status(), 200);
}

#[tokio::test]
async fn account_changes_are_recorded_in_the_outbox() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    let token = app.mail().wait_for("ada@example.com", 1).await[0].link_token();
    app.post("/api/v1/auth/email-verifications/redeem", &json!({"token": token})).await;
    app.patch_as("/api/v1/me", &user.access_token, &json!({"locale": "de"})).await;
    app.delete_as("/api/v1/me", &user.access_token).await;

    let recorded: Vec<(String, String, String)> = events::table
        .filter(events::subject_id.eq(&user.id))
        .order((events::created_at.asc(), events::id.asc()))
        .select((events::kind, events::subject_type, events::payload))
        .load(&mut app.db())
        .unwrap();
    let kinds: Vec<&str> = recorded.iter().map(|(kind, _, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["user.signed_up", "user.email_verified", "user.updated", "user.deleted"]);
    assert!(recorded.iter().all(|(_, subject, _)| subject == "user"));
    assert_eq!(recorded[2].2, r#"{"changed":["locale"]}"#);
    assert!(recorded.iter().all(|(_, _, payload)| !payload.contains("ada@")), "no personal data in events");
}

#[tokio::test]
async fn a_squatter_loses_everything_once_the_owner_proves_the_address() {
    let app = spawn_app().await;
    // Someone signs up with another person's address and their own password.
    let squatter = app.unconfirmed_user("victim@example.com").await;
    let token = app
        .post_json_as("/api/v1/me/tokens", &squatter.access_token, &json!({"name": "x", "scopes": ["cohorts:read"]}))
        .await;
    assert_problem(token, 403, "email_unconfirmed").await;
    assert_eq!(app.get_as("/api/v1/me", &squatter.access_token).await.status(), 200);

    // The owner signs in with a link mailed to the address: the squatter's sign-in ends.
    assert_eq!(app.post("/api/v1/auth/magic-links", &json!({"email": "victim@example.com"})).await.status(), 202);
    let link = app.mail().wait_for("victim@example.com", 2).await[1].link_token();
    let redeemed = app.post("/api/v1/auth/magic-links/redeem", &json!({"token": link})).await;
    assert_eq!(redeemed.status(), 200);
    let owner: Value = redeemed.json().await.unwrap();
    assert_eq!(app.get_as("/api/v1/me", &squatter.access_token).await.status(), 401, "the squatter is out");
    assert_eq!(app.login("victim@example.com", crate::helpers::PASSWORD).await.status(), 401, "and their password too");
    let refreshed = app.post("/api/v1/auth/refresh", &json!({"refresh_token": squatter.refresh_token})).await;
    assert_eq!(refreshed.status(), 401);
    assert_eq!(app.get_as("/api/v1/me", owner["access_token"].as_str().unwrap()).await.status(), 200);
}

#[tokio::test]
async fn a_password_reset_ends_every_sign_in_and_token_and_says_so() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pat = app.personal_token(&ada.access_token, &["cohorts:read"]).await;
    assert_eq!(app.get_as("/api/v1/cohorts", &pat).await.status(), 200);
    assert_eq!(app.post("/api/v1/auth/password-resets", &json!({"email": "ada@example.com"})).await.status(), 202);
    let mails = app.mail().wait_for("ada@example.com", 2).await;
    let reset = mails[1].link_token();
    let done = app
        .post("/api/v1/auth/password-resets/redeem", &json!({"token": reset, "password": "another long password"}))
        .await;
    assert_eq!(done.status(), 204);
    assert_eq!(app.get_as("/api/v1/cohorts", &pat).await.status(), 401, "tokens end with a reset");
    assert_eq!(app.get_as("/api/v1/me", &ada.access_token).await.status(), 401);
    let notice = &app.mail().wait_for("ada@example.com", 3).await[2];
    assert_eq!(notice.subject, "Your Roundtable password was changed");
    assert!(notice.text.contains("personal access token"), "{}", notice.text);

    // A change (knowing the password) keeps this sign-in, ends the tokens, and tells too.
    let token = app.sign_in_with("ada@example.com", "another long password").await;
    let pat = app.personal_token(&token, &["cohorts:read"]).await;
    let changed = app
        .post_json_as(
            "/api/v1/me/password",
            &token,
            &json!({"current_password": "another long password", "password": "a third long password"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(app.get_as("/api/v1/cohorts", &pat).await.status(), 401);
    assert_eq!(app.get_as("/api/v1/me", &token).await.status(), 200);
    assert_eq!(app.mail().wait_for("ada@example.com", 4).await[3].subject, "Your Roundtable password was changed");
}

#[tokio::test]
async fn an_unconfirmed_account_cannot_take_an_invitation() {
    let app = spawn_app().await;
    let org = app.user("org@example.com").await;
    let cohort = app.cohort(&org.access_token, "C").await;
    let invited = app
        .post_json_as(
            &format!("/api/v1/cohorts/{cohort}/invitations"),
            &org.access_token,
            &json!({"emails": ["bob@example.com"]}),
        )
        .await;
    assert_eq!(invited.status(), 201);
    let token = app.mail().wait_for("bob@example.com", 1).await[0].link_token();
    let bob = app.unconfirmed_user("bob@example.com").await;
    let refused = app.post_json_as("/api/v1/invitations/accept", &bob.access_token, &json!({"token": token})).await;
    assert_problem(refused, 403, "email_unconfirmed").await;
}

#[tokio::test]
async fn the_owner_confirming_by_the_mailed_link_shuts_the_squatter_out() {
    let app = spawn_app().await;
    let squatter = app.unconfirmed_user("victim@example.com").await;
    // The owner finds the confirmation mail and clicks it, not signed in to that account.
    let link = app.mail().wait_for("victim@example.com", 1).await[0].link_token();
    let confirmed = app.post("/api/v1/auth/email-verifications/redeem", &json!({"token": link})).await;
    assert_eq!(confirmed.status(), 204);
    assert_eq!(app.get_as("/api/v1/me", &squatter.access_token).await.status(), 401);
    assert_eq!(
        app.login("victim@example.com", crate::helpers::PASSWORD).await.status(),
        401,
        "the password nobody proved is void"
    );
    // The owner signs in with a link and sets a password of their own.
    assert_eq!(app.post("/api/v1/auth/password-resets", &json!({"email": "victim@example.com"})).await.status(), 202);
    let reset = app.mail().wait_for("victim@example.com", 2).await[1].link_token();
    let done = app
        .post("/api/v1/auth/password-resets/redeem", &json!({"token": reset, "password": "the owner's own password"}))
        .await;
    assert_eq!(done.status(), 204);
    assert_eq!(app.login("victim@example.com", "the owner's own password").await.status(), 200);
}
