//! People in session responses: the facilitator's list of who answered what, and a Person
//! object next to every id (attendance, action item owners, whoever wrote the notes); the
//! agenda template as a complete list.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};
use crate::sessions::{cohort, in_days, one_off};

fn person(id: &str) -> Value {
    json!({"id": id, "display_name": "Test Person"})
}

#[tokio::test]
async fn facilitators_see_who_answered_what() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let third = app.member(&c.organizer.access_token, &c.id, "zoe@example.com").await;
    let session = one_off(&app, &c, &format!("{}T10:00", in_days(&app, 2)), 60).await;
    let id = session["id"].as_str().unwrap();
    let rsvp = format!("/api/v1/sessions/{id}/rsvp");
    let answered = app.put_as(&rsvp, &c.member.access_token, &json!({"response": "no", "note": "Away"})).await;
    assert_eq!(answered.status(), 200);
    assert_eq!(app.put_as(&rsvp, &third.access_token, &json!({"response": "maybe"})).await.status(), 200);

    let path = format!("/api/v1/sessions/{id}/rsvps");
    let list: Value = app.get_as(&path, &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(list["next_cursor"], Value::Null, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let max = items.iter().find(|i| i["user_id"] == c.member.id.as_str()).unwrap();
    assert_eq!(max["user"], person(&c.member.id));
    assert_eq!((max["response"].as_str(), max["note"].as_str()), (Some("no"), Some("Away")));
    assert!(max["updated_at"].is_string());
    let zoe = items.iter().find(|i| i["user_id"] == third.id.as_str()).unwrap();
    assert_eq!(zoe["response"], "maybe");

    assert_problem(app.get_as(&path, &c.member.access_token).await, 403, "forbidden").await;
}

#[tokio::test]
async fn every_person_in_a_session_comes_with_their_name() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = one_off(&app, &c, &format!("{}T10:00", in_days(&app, 1)), 60).await;
    let id = session["id"].as_str().unwrap();
    let notes = json!({"notes": "Decisions", "publish": true, "action_items": [
        {"text": "Write the RFC", "owner_id": c.member.id},
        {"text": "Anyone"}
    ]});
    let written: Value = app
        .put_as(&format!("/api/v1/sessions/{id}/notes"), &c.organizer.access_token, &notes)
        .await
        .json()
        .await
        .unwrap();
    let details = &written["details"];
    assert_eq!(details["notes_author_id"], c.organizer.id.as_str(), "{details}");
    assert_eq!(details["notes_author"], person(&c.organizer.id));
    assert_eq!(details["action_items"][0]["owner_id"], c.member.id.as_str());
    assert_eq!(details["action_items"][0]["owner"], person(&c.member.id));
    assert_eq!(details["action_items"][1]["owner"], Value::Null);

    app.clock.advance(chrono::Duration::days(2));
    let token = app.sign_in("ada@example.com").await;
    let records = json!({"records": [{"user_id": c.member.id, "status": "late"}]});
    let recorded: Value =
        app.put_as(&format!("/api/v1/sessions/{id}/attendance"), &token, &records).await.json().await.unwrap();
    let attendance = &recorded["details"]["attendance"][0];
    assert_eq!(attendance["user_id"], c.member.id.as_str());
    assert_eq!(attendance["user"], person(&c.member.id));
    assert_eq!(attendance["status"], "late");

    let member = app.sign_in("max@example.com").await;
    let seen: Value = app.get_as(&format!("/api/v1/sessions/{id}"), &member).await.json().await.unwrap();
    assert_eq!(seen["details"]["notes_author"], person(&c.organizer.id));
    assert_eq!(seen["details"]["action_items"][0]["owner"], person(&c.member.id));
}

#[tokio::test]
async fn the_agenda_template_is_a_complete_list() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let path = format!("/api/v1/cohorts/{}/agenda-template", c.id);
    let template: Value = app.get_as(&path, &c.member.access_token).await.json().await.unwrap();
    assert_eq!(template["next_cursor"], Value::Null, "{template}");
    assert_eq!(template["items"].as_array().unwrap().len(), 4);
    let body = json!({"items": [{"kind": "phase", "title": "Open", "minutes": 20}]});
    let saved: Value = app.put_as(&path, &c.organizer.access_token, &body).await.json().await.unwrap();
    assert_eq!(saved["items"][0]["title"], "Open");
    assert_eq!(saved["next_cursor"], Value::Null);
    let phase = json!({"kind": "phase", "title": "p", "minutes": 1});
    let too_many = json!({"items": vec![phase; 21]});
    let problem =
        assert_problem(app.put_as(&path, &c.organizer.access_token, &too_many).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "items");
}
