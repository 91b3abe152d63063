//! `GET /me/inbox`: what is asked of me now — a swap asked of me, a cover anyone may take, my
//! duties to confirm, an adopted charter I have not accepted, my quiet experiment — and each item
//! leaves once I act. A personal token sees only the kinds its scopes reach.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::spawn_app;
use crate::rota::{cohort, plan};

async fn inbox(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get_as("/api/v1/me/inbox", token).await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["next_cursor"], Value::Null);
    page["items"].as_array().unwrap().clone()
}

fn of_kind<'a>(items: &'a [Value], kind: &str) -> Vec<&'a Value> {
    items.iter().filter(|i| i["kind"] == kind).collect()
}

#[tokio::test]
async fn the_inbox_holds_what_is_asked_of_me_until_i_act() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    let result = plan(&app, &c, 2).await;
    let duties = result["duties"].as_array().unwrap().clone();
    let duty = duties.iter().find(|d| d["user_id"].is_string()).unwrap().clone();
    let holder = duty["user_id"].as_str().unwrap().to_string();
    let token = c.token_of(&holder).to_string();

    // My duties wait for my confirmation.
    let items = inbox(&app, &token).await;
    let mine = duties.iter().filter(|d| d["user_id"] == holder.as_str()).count();
    assert_eq!(of_kind(&items, "duty_to_confirm").len(), mine);
    let first = of_kind(&items, "duty_to_confirm")[0].clone();
    assert!(first["due_at"].is_string() && first["cohort"]["name"] == "Rota");
    let confirm = format!("/api/v1/assignments/{}/confirm", first["subject_id"].as_str().unwrap());
    assert_eq!(app.post_as(&confirm, &token).await.status(), 200);
    assert_eq!(of_kind(&inbox(&app, &token).await, "duty_to_confirm").len(), mine - 1);

    // A cover asked of anyone: in everyone's inbox but the asker's, with who asks.
    let asks = format!("/api/v1/assignments/{}/swap-requests", duty["id"].as_str().unwrap());
    let asked = app.post_json_as(&asks, &token, &json!({"kind": "cover"})).await;
    assert_eq!(asked.status(), 201);
    let asked: Value = asked.json().await.unwrap();
    assert!(of_kind(&inbox(&app, &token).await, "cover_needed").is_empty(), "not to the one asking");
    let other =
        c.members.iter().map(|m| m.id.clone()).chain([c.organizer.id.clone()]).find(|id| *id != holder).unwrap();
    let others = inbox(&app, c.token_of(&other)).await;
    let cover = of_kind(&others, "cover_needed");
    assert_eq!(cover.len(), 1);
    assert_eq!((cover[0]["subject_id"].clone(), cover[0]["from"]["id"].clone()), (asked["id"].clone(), json!(holder)));
    let withdraw = format!("/api/v1/swap-requests/{}/withdraw", asked["id"].as_str().unwrap());
    assert_eq!(app.post_as(&withdraw, &token).await.status(), 200);
    assert!(of_kind(&inbox(&app, c.token_of(&other)).await, "cover_needed").is_empty());

    // A charter adopted: to accept, until I accept it.
    let charter = format!("/api/v1/cohorts/{}/charter", c.id);
    let body = json!({"mission": "M", "weekly_minutes": 60, "review_cadence": {"every": 1, "unit": "months"}});
    let draft: Value =
        app.post_json_as(&format!("{charter}/versions"), &c.organizer.access_token, &body).await.json().await.unwrap();
    let adopt = format!("{charter}/versions/{}/adopt", draft["id"].as_str().unwrap());
    assert_eq!(app.post_as(&adopt, &c.organizer.access_token).await.status(), 200);
    let to_accept = of_kind(&inbox(&app, &token).await, "charter_to_accept").len();
    assert_eq!(to_accept, 1);
    let accepted =
        app.post_json_as(&format!("{charter}/acceptances"), &token, &json!({"version_id": draft["id"]})).await;
    assert_eq!(accepted.status(), 201);
    assert!(of_kind(&inbox(&app, &token).await, "charter_to_accept").is_empty());

    // An experiment with no check-in for a week.
    let path = format!("/api/v1/cohorts/{}/experiments", c.id);
    let experiment: Value = app
        .post_json_as(&path, &token, &json!({"title": "Pair daily", "success_signal": "5 days"}))
        .await
        .json()
        .await
        .unwrap();
    assert!(of_kind(&inbox(&app, &token).await, "checkin_due").is_empty());
    app.clock.advance(chrono::Duration::days(8));
    let token = app.sign_in(&email_of(&c, &holder)).await;
    let due = of_kind(&inbox(&app, &token).await, "checkin_due").into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0]["subject_id"].clone(), due[0]["title"].clone()),
        (experiment["id"].clone(), json!("Pair daily"))
    );
    let check_in = format!("/api/v1/experiments/{}/check-ins", experiment["id"].as_str().unwrap());
    assert_eq!(app.post_json_as(&check_in, &token, &json!({"done": "paired"})).await.status(), 201);
    assert!(of_kind(&inbox(&app, &token).await, "checkin_due").is_empty());

    // A token reaches the kinds its scopes allow.
    let rota_only = app.personal_token(&token, &["rota:read"]).await;
    let items = inbox(&app, &rota_only).await;
    assert!(
        items.iter().all(|i| ["duty_to_confirm", "swap_asked", "cover_needed"].contains(&i["kind"].as_str().unwrap()))
    );
    let none = app.personal_token(&token, &["cohorts:read"]).await;
    assert!(inbox(&app, &none).await.is_empty());
}

/// The address a member of the rota cohort signed up with (see `rota::cohort`).
fn email_of(c: &crate::rota::Cohort, user_id: &str) -> String {
    match c.members.iter().position(|m| m.id == user_id) {
        Some(i) => format!("m{i}@example.com"),
        None => "ada@example.com".to_string(),
    }
}
