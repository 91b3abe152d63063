//! Cohorts: create, list mine, read, change, archive.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn the_creator_becomes_organizer() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let response = app
        .post_json_as(
            "/api/v1/cohorts",
            &ada.access_token,
            &json!({"name": "  Staff engineers  ", "description": "Weekly.", "time_zone": "America/New_York"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let cohort: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/cohorts/{}", cohort["id"].as_str().unwrap()));
    assert_eq!(cohort["name"], "Staff engineers");
    assert_eq!(cohort["role"], "organizer");
    assert_eq!(cohort["membership_state"], "active");
    assert_eq!(cohort["locale"], "en", "the creator's language by default");
    assert_eq!(cohort["member_count"], 1);
    assert_eq!(cohort["archived"], false);

    let read: Value = app.get_as(&location, &ada.access_token).await.json().await.unwrap();
    assert_eq!(read, cohort);
}

#[tokio::test]
async fn cohort_fields_are_validated_together() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let body = json!({"name": "x".repeat(121), "time_zone": "Europe/Atlantis", "description": "y".repeat(2001)});
    let response = app.post_json_as("/api/v1/cohorts", &ada.access_token, &body).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "description", "time_zone"]);
}

#[tokio::test]
async fn my_cohorts_are_listed_page_by_page() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    for name in ["One", "Two", "Three"] {
        app.cohort(&ada.access_token, name).await;
        app.clock.advance(chrono::Duration::seconds(1));
    }
    app.cohort(&bob.access_token, "Bob's").await;
    let first: Value = app.get_as("/api/v1/cohorts?limit=2", &ada.access_token).await.json().await.unwrap();
    let names: Vec<&str> = first["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["One", "Two"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value =
        app.get_as(&format!("/api/v1/cohorts?limit=2&cursor={cursor}"), &ada.access_token).await.json().await.unwrap();
    assert_eq!(second["items"][0]["name"], "Three");
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn organizers_change_the_cohort_and_members_cannot() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let bob = app.member(&ada.access_token, &cohort, "bob@example.com").await;
    let path = format!("/api/v1/cohorts/{cohort}");

    let changed = app.patch_as(&path, &ada.access_token, &json!({"name": "Renamed", "locale": "de"})).await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!((changed["name"].as_str(), changed["locale"].as_str()), (Some("Renamed"), Some("de")));
    assert_eq!(changed["member_count"], 2);

    let by_member = app.patch_as(&path, &bob.access_token, &json!({"name": "Mine now"})).await;
    assert_problem(by_member, 403, "forbidden").await;
    let seen_by_member: Value = app.get_as(&path, &bob.access_token).await.json().await.unwrap();
    assert_eq!((seen_by_member["name"].as_str(), seen_by_member["role"].as_str()), (Some("Renamed"), Some("member")));
}

#[tokio::test]
async fn archived_cohorts_are_read_only() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Cohort").await;
    let code = app.invite_code(&ada.access_token, &cohort).await;
    let path = format!("/api/v1/cohorts/{cohort}");
    assert_problem(app.delete_as(&path, &app.user("bob@example.com").await.access_token).await, 404, "not_found").await;
    assert_eq!(app.delete_as(&path, &ada.access_token).await.status(), 204);

    let read: Value = app.get_as(&path, &ada.access_token).await.json().await.unwrap();
    assert_eq!(read["archived"], true);
    assert_problem(app.patch_as(&path, &ada.access_token, &json!({"name": "x"})).await, 409, "cohort_archived").await;
    assert_problem(app.delete_as(&path, &ada.access_token).await, 409, "cohort_archived").await;
    let invite = app
        .post_json_as(&format!("{path}/invitations"), &ada.access_token, &json!({"emails": ["c@example.com"]}))
        .await;
    assert_problem(invite, 409, "cohort_archived").await;
    let carol = app.user("carol@example.com").await;
    let join = app.post_json_as("/api/v1/invite-links/join", &carol.access_token, &json!({"code": code})).await;
    assert_problem(join, 409, "cohort_archived").await;
    // Still listed, still readable.
    let mine: Value = app.get_as("/api/v1/cohorts", &ada.access_token).await.json().await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
}
