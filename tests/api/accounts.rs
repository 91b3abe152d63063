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
