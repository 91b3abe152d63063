//! `GET|PUT /me/notification-preferences`: defaults for every kind, a PUT that changes only what it
//! names, the rules of each field, and two changes at once that both hold.

use diesel::prelude::*;
use roundtable::db::schema::{notification_preferences, notification_settings};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

const PATH: &str = "/api/v1/me/notification-preferences";

async fn preferences(app: &TestApp, token: &str) -> Value {
    let response = app.get_as(PATH, token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn put(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.put_as(PATH, token, &body).await
}

#[tokio::test]
async fn every_kind_has_a_default_until_the_member_chooses() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    let prefs = preferences(&app, &user.access_token).await;
    let kinds = prefs["kinds"].as_object().unwrap();
    assert_eq!(kinds.len(), 18);
    assert_eq!(prefs["kinds"]["session_soon"]["lead_minutes"], json!([1440, 60]));
    assert_eq!(prefs["kinds"]["swap_asked"]["lead_minutes"], Value::Null);
    assert_eq!(prefs["kinds"]["password_reset"]["required"], true);
    assert!(kinds.values().all(|k| k["email"] == true));
    assert_eq!((prefs["digest"].as_str(), prefs["quiet_hours"].clone()), (Some("off"), Value::Null));
    assert_eq!(prefs["time_zone"], "Europe/Berlin");
    for kind in ["session_soon", "duty_soon", "skillshare_promoted", "charter_review_due", "digest"] {
        assert!(kinds.contains_key(kind), "{kind}");
    }
}

#[tokio::test]
async fn a_put_changes_only_what_it_names() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    let token = &user.access_token;
    let body = json!({"kinds": {"session_soon": {"lead_minutes": [60, 1440, 60]}}, "quiet_hours": {"start": "22:00", "end": "7:00"}});
    let response = put(&app, token, body).await;
    assert_eq!(response.status(), 200);
    let prefs: Value = response.json().await.unwrap();
    assert_eq!(prefs["kinds"]["session_soon"]["lead_minutes"], json!([1440, 60]), "largest first, once each");
    assert_eq!(prefs["quiet_hours"], json!({"start": "22:00", "end": "07:00"}));

    let prefs: Value = put(&app, token, json!({"digest": "weekly"})).await.json().await.unwrap();
    assert_eq!(prefs["digest"], "weekly");
    assert_eq!(prefs["quiet_hours"]["start"], "22:00", "quiet hours kept");
    let prefs: Value = put(&app, token, json!({"kinds": {"digest": {"email": false}}})).await.json().await.unwrap();
    assert_eq!(prefs["kinds"]["digest"]["email"], false);
    assert_eq!(prefs["kinds"]["session_soon"]["lead_minutes"], json!([1440, 60]), "other kinds kept");
    let prefs: Value =
        put(&app, token, json!({"kinds": {"session_soon": {"email": false}}})).await.json().await.unwrap();
    assert_eq!(
        prefs["kinds"]["session_soon"],
        json!({"email": false, "lead_minutes": [1440, 60], "required": false, "description": prefs["kinds"]["session_soon"]["description"]})
    );
    let prefs: Value = put(&app, token, json!({"quiet_hours": null})).await.json().await.unwrap();
    assert_eq!((prefs["quiet_hours"].clone(), prefs["digest"].as_str()), (Value::Null, Some("weekly")));
    assert_eq!(preferences(&app, token).await["kinds"]["digest"]["email"], false, "it was stored");
}

#[tokio::test]
async fn bad_preferences_are_refused_by_field_and_write_nothing() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    let cases = [
        (json!({"kinds": {"sms": {"email": true}}}), "kinds.sms"),
        (json!({"kinds": {"password_reset": {"email": false}}}), "kinds.password_reset.email"),
        (json!({"kinds": {"swap_asked": {"lead_minutes": [60]}}}), "kinds.swap_asked.lead_minutes"),
        (json!({"kinds": {"session_soon": {"lead_minutes": []}}}), "kinds.session_soon.lead_minutes"),
        (json!({"kinds": {"session_soon": {"lead_minutes": [1440, 2]}}}), "kinds.session_soon.lead_minutes[1]"),
        (json!({"kinds": {"session_soon": {"sms": true}}}), "kinds.session_soon.sms"),
        (json!({"quiet_hours": {"start": "25:00", "end": "07:00"}}), "quiet_hours.start"),
        (json!({"quiet_hours": {"start": "07:00", "end": "07:00"}}), "quiet_hours.end"),
        (json!({"digest": "hourly"}), "digest"),
    ];
    for (body, field) in cases {
        let problem = assert_problem(put(&app, &user.access_token, body.clone()).await, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    // Changing them takes a sign-in: a personal token may read them, not change them.
    let pat = app.personal_token(&user.access_token, &["cohorts:read"]).await;
    assert_eq!(app.get_as(PATH, &pat).await.status(), 200);
    assert_problem(put(&app, &pat, json!({"digest": "daily"})).await, 403, "sign_in_required").await;
    let conn = &mut app.db();
    assert_eq!(notification_preferences::table.count().get_result::<i64>(conn).unwrap(), 0);
    assert_eq!(notification_settings::table.count().get_result::<i64>(conn).unwrap(), 0);
}

#[tokio::test]
async fn two_changes_at_once_to_different_kinds_both_hold() {
    let app = spawn_app().await;
    let user = app.user("ada@example.com").await;
    for round in 0..5 {
        let lead = 60 + round;
        let a = put(
            &app,
            &user.access_token,
            json!({"kinds": {"session_soon": {"lead_minutes": [lead]}}, "digest": "daily"}),
        );
        let b = put(
            &app,
            &user.access_token,
            json!({"kinds": {"duty_soon": {"email": false}}, "quiet_hours": {"start": "23:00", "end": "06:00"}}),
        );
        let (a, b) = tokio::join!(a, b);
        assert_eq!((a.status(), b.status()), (reqwest::StatusCode::OK, reqwest::StatusCode::OK));
        let prefs = preferences(&app, &user.access_token).await;
        assert_eq!(prefs["kinds"]["session_soon"]["lead_minutes"], json!([lead]));
        assert_eq!(prefs["kinds"]["duty_soon"]["email"], false);
        assert_eq!((prefs["digest"].as_str(), prefs["quiet_hours"]["start"].as_str()), (Some("daily"), Some("23:00")));
    }
}
