//! Invite links: multi-use, optional expiry and use limit, revocable; joining twice is a no-op.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn a_link_lets_people_join_once_each_until_used_up() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let created = app
        .post_json_as(&format!("/api/v1/cohorts/{cohort}/invite-links"), &ada.access_token, &json!({"max_uses": 2}))
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let code = created["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("rt_join_"));
    assert_eq!(created["url"], format!("{}/app/join#code={code}", app.base));

    let bob = app.user("bob@example.com").await;
    let joined = app.post_json_as("/api/v1/invite-links/join", &bob.access_token, &json!({"code": code})).await;
    assert_eq!(joined.status(), 201);
    let seen: Value = joined.json().await.unwrap();
    assert_eq!((seen["role"].as_str(), seen["id"].as_str()), (Some("member"), Some(cohort.as_str())));
    let again = app.post_json_as("/api/v1/invite-links/join", &bob.access_token, &json!({"code": code})).await;
    assert_eq!(again.status(), 200, "joining twice changes nothing");

    let links: Value =
        app.get_as(&format!("/api/v1/cohorts/{cohort}/invite-links"), &ada.access_token).await.json().await.unwrap();
    assert_eq!(links["items"][0]["uses"], 1, "a repeated join does not use the link up");
    assert!(links["items"][0].get("code").is_none());

    let carol = app.user("carol@example.com").await;
    assert_eq!(
        app.post_json_as("/api/v1/invite-links/join", &carol.access_token, &json!({"code": code})).await.status(),
        201
    );
    let dave = app.user("dave@example.com").await;
    let full = app.post_json_as("/api/v1/invite-links/join", &dave.access_token, &json!({"code": code})).await;
    assert_problem(full, 410, "invite_link_invalid").await;
}

#[tokio::test]
async fn links_expire_and_can_be_revoked() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let path = format!("/api/v1/cohorts/{cohort}/invite-links");
    let in_a_day = (app.clock_now() + chrono::Duration::days(1)).to_rfc3339();
    let expiring: Value =
        app.post_json_as(&path, &ada.access_token, &json!({"expires_at": in_a_day})).await.json().await.unwrap();
    let lasting: Value = app.post_json_as(&path, &ada.access_token, &json!({})).await.json().await.unwrap();
    let bad =
        app.post_json_as(&path, &ada.access_token, &json!({"expires_at": "2001-01-01T00:00:00Z", "max_uses": 0})).await;
    assert_eq!(assert_problem(bad, 422, "validation_failed").await["errors"].as_array().unwrap().len(), 2);

    app.clock.advance(chrono::Duration::days(2));
    let ada_token = app.sign_in("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let late =
        app.post_json_as("/api/v1/invite-links/join", &bob.access_token, &json!({"code": expiring["code"]})).await;
    assert_problem(late, 410, "invite_link_invalid").await;

    let id = lasting["id"].as_str().unwrap();
    assert_eq!(app.delete_as(&format!("{path}/{id}"), &ada_token).await.status(), 204);
    let revoked =
        app.post_json_as("/api/v1/invite-links/join", &bob.access_token, &json!({"code": lasting["code"]})).await;
    assert_problem(revoked, 410, "invite_link_invalid").await;
    let listed: Value = app.get_as(&path, &ada_token).await.json().await.unwrap();
    assert!(listed["items"].as_array().unwrap().iter().all(|l| l["usable"] == false));
    assert_problem(app.delete_as(&format!("{path}/{id}"), &ada_token).await, 404, "not_found").await;
}

#[tokio::test]
async fn two_people_racing_for_the_last_place_cannot_both_join() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let created: Value = app
        .post_json_as(&format!("/api/v1/cohorts/{cohort}/invite-links"), &ada.access_token, &json!({"max_uses": 1}))
        .await
        .json()
        .await
        .unwrap();
    let (bob, carol) = (app.user("bob@example.com").await, app.user("carol@example.com").await);
    let body = json!({"code": created["code"]});
    let (a, b) = tokio::join!(
        app.post_json_as("/api/v1/invite-links/join", &bob.access_token, &body),
        app.post_json_as("/api/v1/invite-links/join", &carol.access_token, &body),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 410]);
}

/// A new invite link of the cohort, with no expiry or limit, as created (code and url included).
async fn open_link(app: &crate::helpers::TestApp, token: &str, cohort: &str) -> Value {
    let created = app.post_json_as(&format!("/api/v1/cohorts/{cohort}/invite-links"), token, &json!({})).await;
    assert_eq!(created.status(), 201);
    created.json().await.unwrap()
}

#[tokio::test]
async fn the_whole_link_pasted_into_code_works() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let created = open_link(&app, &ada.access_token, &cohort).await;
    let url = created["url"].as_str().unwrap().to_string();
    let bob = app.user("bob@example.com").await;
    let joined =
        app.post_json_as("/api/v1/invite-links/join", &bob.access_token, &json!({"code": format!(" {url} ")})).await;
    assert_eq!(joined.status(), 201, "the URL as pasted, spaces and all");
    let carol = app.user("carol@example.com").await;
    let query_form = url.replace("#code=", "?code=");
    let joined = app.post_json_as("/api/v1/invite-links/join", &carol.access_token, &json!({"code": query_form})).await;
    assert_eq!(joined.status(), 201);
    let dave = app.user("dave@example.com").await;
    let empty = app
        .post_json_as("/api/v1/invite-links/join", &dave.access_token, &json!({"code": "https://x/app/join#code="}))
        .await;
    assert_eq!(assert_problem(empty, 422, "validation_failed").await["errors"][0]["field"], "code");
}

#[tokio::test]
async fn someone_removed_cannot_rejoin_by_link_but_someone_who_left_can() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let created = open_link(&app, &ada.access_token, &cohort).await;
    let code = created["code"].as_str().unwrap().to_string();
    let join = |token: String| {
        let app = &app;
        let code = code.clone();
        async move { app.post_json_as("/api/v1/invite-links/join", &token, &json!({"code": code})).await }
    };
    let bob = app.user("bob@example.com").await;
    let cleo = app.user("cleo@example.com").await;
    assert_eq!(join(bob.access_token.clone()).await.status(), 201);
    assert_eq!(join(cleo.access_token.clone()).await.status(), 201);

    let removed = app.delete_as(&format!("/api/v1/cohorts/{cohort}/members/{}", bob.id), &ada.access_token).await;
    assert_eq!(removed.status(), 204);
    assert_problem(join(bob.access_token.clone()).await, 403, "removed_from_cohort").await;

    let left = app.delete_as(&format!("/api/v1/cohorts/{cohort}/members/{}", cleo.id), &cleo.access_token).await;
    assert_eq!(left.status(), 204);
    assert_eq!(join(cleo.access_token.clone()).await.status(), 201, "leaving by oneself does not bar");

    // A new invitation brings the removed member back.
    let invited = app
        .post_json_as(
            &format!("/api/v1/cohorts/{cohort}/invitations"),
            &ada.access_token,
            &json!({"emails": ["bob@example.com"]}),
        )
        .await;
    assert_eq!(invited.status(), 201);
    let token = app.mail().wait_for("bob@example.com", 2).await[1].link_token();
    let accepted = app.post_json_as("/api/v1/invitations/accept", &bob.access_token, &json!({"token": token})).await;
    assert_eq!(accepted.status(), 200);
}
