//! Members: lists with filters, roles, pause / resume / leave, and the last organizer.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn members_are_listed_with_filters_and_addresses_only_for_organizers() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let bob = app.member(&ada.access_token, &cohort, "bob@example.com").await;
    let carol = app.member(&ada.access_token, &cohort, "carol@example.com").await;
    app.set_role(&ada.access_token, &cohort, &carol.id, "facilitator").await;
    let path = format!("/api/v1/cohorts/{cohort}/members");

    let all: Value = app.get_as(&path, &ada.access_token).await.json().await.unwrap();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["role"], "organizer");
    assert_eq!(items[1]["email"], "bob@example.com");

    let facilitators: Value =
        app.get_as(&format!("{path}?role=facilitator"), &ada.access_token).await.json().await.unwrap();
    assert_eq!(facilitators["items"].as_array().unwrap().len(), 1);
    assert_eq!(facilitators["items"][0]["user_id"], carol.id.as_str());

    let seen_by_member: Value = app.get_as(&path, &bob.access_token).await.json().await.unwrap();
    assert!(seen_by_member["items"].as_array().unwrap().iter().all(|m| m.get("email").is_none()));

    let page: Value = app.get_as(&format!("{path}?limit=2"), &bob.access_token).await.json().await.unwrap();
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value =
        app.get_as(&format!("{path}?limit=2&cursor={cursor}"), &bob.access_token).await.json().await.unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);

    let bad = app.get_as(&format!("{path}?role=king"), &bob.access_token).await;
    assert_problem(bad, 422, "validation_failed").await;
}

#[tokio::test]
async fn members_pause_resume_and_leave_themselves() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let bob = app.member(&ada.access_token, &cohort, "bob@example.com").await;
    let mine = format!("/api/v1/cohorts/{cohort}/members/{}", bob.id);

    let paused: Value = app.patch_as(&mine, &bob.access_token, &json!({"state": "paused"})).await.json().await.unwrap();
    assert_eq!(paused["state"], "paused");
    // Paused: reads, but changes nothing but their own membership.
    assert_eq!(app.get_as(&format!("/api/v1/cohorts/{cohort}"), &bob.access_token).await.status(), 200);
    let promote_self = app.patch_as(&mine, &bob.access_token, &json!({"role": "organizer"})).await;
    assert_problem(promote_self, 403, "forbidden").await;
    let resumed: Value =
        app.patch_as(&mine, &bob.access_token, &json!({"state": "active"})).await.json().await.unwrap();
    assert_eq!(resumed["state"], "active");

    assert_eq!(app.delete_as(&mine, &bob.access_token).await.status(), 204);
    assert_problem(app.get_as(&format!("/api/v1/cohorts/{cohort}"), &bob.access_token).await, 404, "not_found").await;
    let listed: Value = app.get_as("/api/v1/cohorts", &bob.access_token).await.json().await.unwrap();
    assert!(listed["items"].as_array().unwrap().is_empty());
    let gone: Value = app
        .get_as(&format!("/api/v1/cohorts/{cohort}/members?state=left"), &ada.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gone["items"][0]["user_id"], bob.id.as_str());
    // Coming back takes an invitation, not a PATCH.
    let back = app.patch_as(&mine, &ada.access_token, &json!({"state": "active"})).await;
    assert_problem(back, 409, "member_left").await;
    let code = app.invite_code(&ada.access_token, &cohort).await;
    let rejoined = app.post_json_as("/api/v1/invite-links/join", &bob.access_token, &json!({"code": code})).await;
    assert_eq!(rejoined.status(), 201);
}

#[tokio::test]
async fn members_cannot_change_other_members() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let bob = app.member(&ada.access_token, &cohort, "bob@example.com").await;
    let carol = app.member(&ada.access_token, &cohort, "carol@example.com").await;
    let carols = format!("/api/v1/cohorts/{cohort}/members/{}", carol.id);
    assert_problem(app.patch_as(&carols, &bob.access_token, &json!({"state": "paused"})).await, 403, "forbidden").await;
    assert_problem(app.delete_as(&carols, &bob.access_token).await, 403, "forbidden").await;
    let unknown = format!("/api/v1/cohorts/{cohort}/members/{}", uuid::Uuid::new_v4());
    assert_problem(app.patch_as(&unknown, &ada.access_token, &json!({"role": "member"})).await, 404, "not_found").await;
}

#[tokio::test]
async fn the_last_organizer_cannot_step_down() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let bob = app.member(&ada.access_token, &cohort, "bob@example.com").await;
    let adas = format!("/api/v1/cohorts/{cohort}/members/{}", ada.id);
    assert_problem(app.delete_as(&adas, &ada.access_token).await, 409, "last_organizer").await;
    assert_problem(app.patch_as(&adas, &ada.access_token, &json!({"role": "member"})).await, 409, "last_organizer")
        .await;
    assert_problem(app.patch_as(&adas, &ada.access_token, &json!({"state": "paused"})).await, 409, "last_organizer")
        .await;

    app.set_role(&ada.access_token, &cohort, &bob.id, "organizer").await;
    let demoted = app.patch_as(&adas, &ada.access_token, &json!({"role": "member"})).await;
    assert_eq!(demoted.status(), 200);
    let bobs = format!("/api/v1/cohorts/{cohort}/members/{}", bob.id);
    assert_problem(app.delete_as(&bobs, &bob.access_token).await, 409, "last_organizer").await;
}

#[tokio::test]
async fn two_organizers_demoting_each_other_at_once_leave_one() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let bob = app.member(&ada.access_token, &cohort, "bob@example.com").await;
    app.set_role(&ada.access_token, &cohort, &bob.id, "organizer").await;
    let (bobs, adas) = (
        format!("/api/v1/cohorts/{cohort}/members/{}", bob.id),
        format!("/api/v1/cohorts/{cohort}/members/{}", ada.id),
    );
    let demote = json!({"role": "member"});
    let (a, b) =
        tokio::join!(app.patch_as(&bobs, &ada.access_token, &demote), app.patch_as(&adas, &bob.access_token, &demote));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    // Either one demotion wins and the other is refused as the last organizer, or the second
    // request comes from someone already demoted (403). Never both.
    assert!(statuses == [200, 403] || statuses == [200, 409], "{statuses:?}");
    let organizers: Value = app
        .get_as(&format!("/api/v1/cohorts/{cohort}/members?role=organizer"), &ada.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(organizers["items"].as_array().unwrap().len(), 1);
}
