//! Invitations by mail: sending in bulk, accepting with the invited address, renewing, revoking.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

async fn organizer_with_cohort(app: &TestApp) -> (TestUser, String) {
    let ada = app.user("ada@example.com").await;
    let cohort = app.cohort(&ada.access_token, "Staff engineers").await;
    (ada, cohort)
}

#[tokio::test]
async fn invitations_are_mailed_and_accepted_with_the_invited_address() {
    let app = spawn_app().await;
    let (ada, cohort) = organizer_with_cohort(&app).await;
    let path = format!("/api/v1/cohorts/{cohort}/invitations");
    let sent = app
        .post_json_as(&path, &ada.access_token, &json!({"emails": ["Grace@Example.com"], "role": "facilitator"}))
        .await;
    assert_eq!(sent.status(), 201);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!(sent["invited"][0]["state"], "pending");
    assert_eq!(sent["invited"][0]["role"], "facilitator");

    let mail = &app.mail().wait_for("Grace@Example.com", 1).await[0];
    assert_eq!(mail.subject, "Test Person invited you to Staff engineers on Roundtable");
    assert!(mail.text.contains("/app/invitation#token=rt_inv_"));
    let token = mail.link_token();

    // Someone else cannot use it, even with the link in hand.
    let bob = app.user("bob@example.com").await;
    let stolen = app.post_json_as("/api/v1/invitations/accept", &bob.access_token, &json!({"token": token})).await;
    assert_problem(stolen, 403, "invitation_for_other_address").await;

    // The invitee signs up with the invited address (any case) and accepts.
    let grace = app.user("grace@example.com").await;
    let accepted = app.post_json_as("/api/v1/invitations/accept", &grace.access_token, &json!({"token": token})).await;
    assert_eq!(accepted.status(), 200);
    let seen: Value = accepted.json().await.unwrap();
    assert_eq!((seen["role"].as_str(), seen["member_count"].as_i64()), (Some("facilitator"), Some(2)));
    let me: Value = app.get_as("/api/v1/me", &grace.access_token).await.json().await.unwrap();
    assert_eq!(me["email_verified"], true, "the invitation mail proved the address");

    // Accepting again changes nothing.
    let again = app.post_json_as("/api/v1/invitations/accept", &grace.access_token, &json!({"token": token})).await;
    assert_eq!(again.status(), 200);
    let listed: Value = app.get_as(&format!("{path}?state=accepted"), &ada.access_token).await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let members: Value =
        app.get_as(&format!("/api/v1/cohorts/{cohort}/members"), &ada.access_token).await.json().await.unwrap();
    assert_eq!(members["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bulk_invitations_validate_every_address_and_skip_members() {
    let app = spawn_app().await;
    let (ada, cohort) = organizer_with_cohort(&app).await;
    app.member(&ada.access_token, &cohort, "bob@example.com").await;
    let path = format!("/api/v1/cohorts/{cohort}/invitations");

    let bad =
        app.post_json_as(&path, &ada.access_token, &json!({"emails": ["ok@example.com", "nope", "also bad"]})).await;
    let problem = assert_problem(bad, 422, "validation_failed").await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["emails[1]", "emails[2]"]);
    let too_many: Vec<String> = (0..101).map(|i| format!("p{i}@example.com")).collect();
    let problem = assert_problem(
        app.post_json_as(&path, &ada.access_token, &json!({"emails": too_many})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "too_many");
    assert_problem(app.post_json_as(&path, &ada.access_token, &json!({"emails": []})).await, 422, "validation_failed")
        .await;

    let hundred: Vec<String> = (0..100).map(|i| format!("p{i}@example.com")).collect();
    let mut emails = hundred.clone();
    emails[99] = "BOB@example.com".to_string();
    emails[98] = "p0@EXAMPLE.com".to_string();
    let sent: Value =
        app.post_json_as(&path, &ada.access_token, &json!({"emails": emails})).await.json().await.unwrap();
    assert_eq!(sent["invited"].as_array().unwrap().len(), 98, "duplicates collapse, members are skipped");
    assert_eq!(sent["skipped"], json!([{"email": "BOB@example.com", "reason": "already_member"}]));
    let pending: Value =
        app.get_as(&format!("{path}?state=pending&limit=200"), &ada.access_token).await.json().await.unwrap();
    assert_eq!(pending["items"].as_array().unwrap().len(), 98);
    app.mail().wait_for("p50@example.com", 1).await;
}

#[tokio::test]
async fn resending_renews_the_link_and_revoking_ends_it() {
    let app = spawn_app().await;
    let (ada, cohort) = organizer_with_cohort(&app).await;
    let path = format!("/api/v1/cohorts/{cohort}/invitations");
    let sent: Value = app
        .post_json_as(&path, &ada.access_token, &json!({"emails": ["grace@example.com"]}))
        .await
        .json()
        .await
        .unwrap();
    let id = sent["invited"][0]["id"].as_str().unwrap().to_string();
    let first = app.mail().wait_for("grace@example.com", 1).await[0].link_token();

    app.clock.advance(chrono::Duration::days(20));
    let ada_token = app.sign_in("ada@example.com").await;
    let grace = app.user("grace@example.com").await;
    let expired = app.post_json_as("/api/v1/invitations/accept", &grace.access_token, &json!({"token": first})).await;
    assert_problem(expired, 410, "invitation_invalid").await;
    let listed: Value = app.get_as(&format!("{path}?state=expired"), &ada_token).await.json().await.unwrap();
    assert_eq!(listed["items"][0]["id"], id.as_str());

    let resent = app.post_as(&format!("{path}/{id}/resend"), &ada_token).await;
    assert_eq!(resent.status(), 200);
    assert_eq!(resent.json::<Value>().await.unwrap()["state"], "pending");
    let second = app.mail().wait_for("grace@example.com", 2).await[1].link_token();
    assert_ne!(first, second);

    assert_eq!(app.delete_as(&format!("{path}/{id}"), &ada_token).await.status(), 204);
    let revoked = app.post_json_as("/api/v1/invitations/accept", &grace.access_token, &json!({"token": second})).await;
    assert_problem(revoked, 410, "invitation_invalid").await;
    assert_problem(app.delete_as(&format!("{path}/{id}"), &ada_token).await, 409, "invitation_closed").await;
    assert_problem(app.post_as(&format!("{path}/{id}/resend"), &ada_token).await, 409, "invitation_closed").await;
}

#[tokio::test]
async fn only_organizers_handle_invitations() {
    let app = spawn_app().await;
    let (ada, cohort) = organizer_with_cohort(&app).await;
    let bob = app.member(&ada.access_token, &cohort, "bob@example.com").await;
    let path = format!("/api/v1/cohorts/{cohort}/invitations");
    let response = app.post_json_as(&path, &bob.access_token, &json!({"emails": ["x@example.com"]})).await;
    assert_problem(response, 403, "forbidden").await;
    assert_problem(app.get_as(&path, &bob.access_token).await, 403, "forbidden").await;
    assert_problem(
        app.get_as(&format!("/api/v1/cohorts/{cohort}/invite-links"), &bob.access_token).await,
        403,
        "forbidden",
    )
    .await;
}
