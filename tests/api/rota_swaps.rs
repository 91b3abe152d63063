//! Swaps and cover: who may be named, what a request shows, withdrawing, one open cover per duty,
//! and accepting only while both duties are still where they were.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};
use crate::rota::{Cohort, cohort, plan};

pub(crate) fn duties(result: &Value) -> Vec<Value> {
    result["duties"].as_array().unwrap().clone()
}

fn everyone(c: &Cohort) -> Vec<String> {
    c.members.iter().map(|m| m.id.clone()).chain([c.organizer.id.clone()]).collect()
}

/// Someone holding no duty in the session of `duty`.
pub(crate) fn free_in(c: &Cohort, all: &[Value], session: &Value) -> String {
    let on_duty: Vec<&str> =
        all.iter().filter(|d| d["session_id"] == *session).filter_map(|d| d["user_id"].as_str()).collect();
    everyone(c).into_iter().find(|u| !on_duty.contains(&u.as_str())).expect("someone free")
}

pub(crate) fn asks(duty: &Value) -> String {
    format!("/api/v1/assignments/{}/swap-requests", duty["id"].as_str().unwrap())
}

#[tokio::test]
async fn a_member_away_from_a_session_cannot_cover_in_it() {
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    let result = plan(&app, &c, 1).await;
    let all = duties(&result);
    let duty = all[0].clone();
    let holder = duty["user_id"].as_str().unwrap().to_string();
    let away = free_in(&c, &all, &duty["session_id"]);
    let marked =
        app.post_json_as(&c.path("/absences"), c.token_of(&away), &json!({"session_id": duty["session_id"]})).await;
    assert_eq!(marked.status(), 201);
    let asked: Value =
        app.post_json_as(&asks(&duty), c.token_of(&holder), &json!({"kind": "cover"})).await.json().await.unwrap();
    let accept = format!("/api/v1/swap-requests/{}/accept", asked["id"].as_str().unwrap());
    assert_problem(app.post_as(&accept, c.token_of(&away)).await, 409, "absent_from_session").await;

    // Nor can a facilitator put them on duty there.
    let assignment = format!("/api/v1/assignments/{}", duty["id"].as_str().unwrap());
    let put = app
        .send(reqwest::Method::PUT, &assignment, Some(&c.organizer.access_token), Some(&json!({"user_id": away})))
        .await;
    let body = assert_problem(put, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "user_id");

    // Asking by name someone who said they are away is refused too.
    let named = app.post_json_as(&asks(&duty), c.token_of(&holder), &json!({"kind": "cover", "peer_id": away})).await;
    let body = assert_problem(named, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "peer_id");
}

#[tokio::test]
async fn every_user_id_in_a_rota_body_names_an_active_member() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    let outsider = app.user("zed@example.com").await;
    let result = plan(&app, &c, 1).await;
    let duty = duties(&result)[0].clone();
    let holder = duty["user_id"].as_str().unwrap().to_string();
    let paused = c.members.iter().find(|m| m.id != holder).unwrap();
    let path = c.path(&format!("/members/{}", paused.id));
    assert_eq!(app.patch_as(&path, &paused.access_token, &json!({"state": "paused"})).await.status(), 200);
    let duty = duties(&plan(&app, &c, 1).await).into_iter().find(|d| d["id"] == duty["id"]).unwrap();
    let holder = duty["user_id"].as_str().unwrap().to_string();
    let nobody = "0193a5a0-7c1e-7d2a-9a51-2b1f3c4d5e6f".to_string();
    for peer in [nobody.clone(), "not-a-uuid".to_string(), outsider.id.clone(), paused.id.clone()] {
        let response =
            app.post_json_as(&asks(&duty), c.token_of(&holder), &json!({"kind": "cover", "peer_id": peer})).await;
        let body = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "peer_id", "{peer}");
        let assignment = format!("/api/v1/assignments/{}", duty["id"].as_str().unwrap());
        let response = app
            .send(reqwest::Method::PUT, &assignment, Some(&c.organizer.access_token), Some(&json!({"user_id": peer})))
            .await;
        let body = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "user_id", "{peer}");
    }
    let swaps: Value = app.get_as(&c.path("/swap-requests"), &c.organizer.access_token).await.json().await.unwrap();
    assert!(swaps["items"].as_array().unwrap().is_empty(), "nothing was written");
}

#[tokio::test]
async fn a_request_shows_its_session_role_and_people_and_can_be_withdrawn() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    let result = plan(&app, &c, 2).await;
    let all = duties(&result);
    let mine = all[0].clone();
    let me = mine["user_id"].as_str().unwrap().to_string();
    let peer = free_in(&c, &all, &mine["session_id"]);
    let asked = app.post_json_as(&asks(&mine), c.token_of(&me), &json!({"kind": "cover", "peer_id": peer})).await;
    assert_eq!(asked.status(), 201);
    let asked: Value = asked.json().await.unwrap();
    assert_eq!(asked["session"]["id"], mine["session_id"]);
    assert!(asked["session"]["starts_at"].is_string() && asked["session"]["local_start"].is_string());
    assert_eq!(asked["role"]["id"], mine["role_id"]);
    assert_eq!(asked["role"]["name"], mine["role"]);
    assert_eq!(asked["requester"], json!({"id": me, "display_name": "Test Person"}));
    assert_eq!(asked["peer"], json!({"id": peer, "display_name": "Test Person"}));
    let listed: Value = app.get_as(&c.path("/swap-requests"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(listed["items"][0]["session"], asked["session"]);
    assert_eq!(listed["items"][0]["requester"], asked["requester"]);

    let id = asked["id"].as_str().unwrap();
    let withdraw = format!("/api/v1/swap-requests/{id}/withdraw");
    assert_problem(app.post_as(&withdraw, c.token_of(&peer)).await, 403, "not_requester").await;
    let withdrawn = app.post_as(&withdraw, c.token_of(&me)).await;
    assert_eq!(withdrawn.status(), 200);
    assert_eq!(withdrawn.json::<Value>().await.unwrap()["state"], "withdrawn");
    assert_problem(app.post_as(&withdraw, c.token_of(&me)).await, 409, "request_closed").await;
    let accept = format!("/api/v1/swap-requests/{id}/accept");
    assert_problem(app.post_as(&accept, c.token_of(&peer)).await, 409, "request_closed").await;
}

#[tokio::test]
async fn one_duty_has_at_most_one_open_cover_request_even_under_a_burst() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    let result = plan(&app, &c, 1).await;
    let duty = duties(&result)[0].clone();
    let holder = duty["user_id"].as_str().unwrap().to_string();
    let token = c.token_of(&holder).to_string();
    let path = asks(&duty);
    let body = json!({"kind": "cover"});
    let requests: Vec<_> = (0..20).map(|_| app.post_json_as(&path, &token, &body)).collect();
    let responses = futures_util::future::join_all(requests).await;
    let mut created = Vec::new();
    for response in responses {
        match response.status().as_u16() {
            201 => created.push(response.json::<Value>().await.unwrap()),
            409 => {
                assert_problem(response, 409, "cover_already_requested").await;
            }
            other => panic!("status {other}"),
        }
    }
    assert_eq!(created.len(), 1, "exactly one open cover request");
    let withdraw = format!("/api/v1/swap-requests/{}/withdraw", created[0]["id"].as_str().unwrap());
    assert_eq!(app.post_as(&withdraw, &token).await.status(), 200);
    assert_eq!(app.post_json_as(&path, &token, &body).await.status(), 201, "a new ask once the first is closed");
}

#[tokio::test]
async fn a_swap_accepted_after_the_peers_duty_changed_hands_is_refused() {
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    let result = plan(&app, &c, 2).await;
    let all = duties(&result);
    let (s0, s1) = (all[0]["session_id"].clone(), all[3]["session_id"].clone());
    let holds = |u: &str, s: &Value| all.iter().any(|d| d["session_id"] == *s && d["user_id"] == u);
    let people = everyone(&c);
    let me = people.iter().find(|u| holds(u, &s0) && !holds(u, &s1)).unwrap().clone();
    let them = people.iter().find(|u| holds(u, &s1) && !holds(u, &s0)).unwrap().clone();
    let third = people.iter().find(|u| **u != me && !holds(u, &s1)).unwrap().clone();
    let mine = all.iter().find(|d| d["session_id"] == s0 && d["user_id"] == me.as_str()).unwrap().clone();
    let theirs = all.iter().find(|d| d["session_id"] == s1 && d["user_id"] == them.as_str()).unwrap().clone();
    let asked: Value = app
        .post_json_as(&asks(&mine), c.token_of(&me), &json!({"kind": "swap", "peer_assignment_id": theirs["id"]}))
        .await
        .json()
        .await
        .unwrap();
    // A facilitator gives the peer's duty to a third person (and so locks it).
    let assignment = format!("/api/v1/assignments/{}", theirs["id"].as_str().unwrap());
    let overridden = app
        .send(reqwest::Method::PUT, &assignment, Some(&c.organizer.access_token), Some(&json!({"user_id": third})))
        .await;
    assert_eq!(overridden.status(), 200);
    let accept = format!("/api/v1/swap-requests/{}/accept", asked["id"].as_str().unwrap());
    assert_problem(app.post_as(&accept, c.token_of(&them)).await, 409, "duty_changed").await;
    let rota = crate::rota::rota(&app, &c).await;
    let find = |id: &Value| {
        rota.iter().flat_map(|s| s["duties"].as_array().unwrap().clone()).find(|d| d["id"] == *id).unwrap()
    };
    assert_eq!(find(&theirs["id"])["user_id"], third.as_str(), "the third person keeps the duty");
    assert_eq!(find(&mine["id"])["user_id"], me.as_str());
}
