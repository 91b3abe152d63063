//! The rota's re-planning horizon, the people named in its answers, the roles' bound, and
//! absences racing a plan.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};
use crate::rota::{cohort, holders, plan, rota};

#[tokio::test]
async fn an_absence_late_in_a_long_plan_is_re_planned_and_the_plan_keeps_its_length() {
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    let planned = plan(&app, &c, 20).await;
    assert_eq!(planned["sessions"], 20);
    let sessions = rota(&app, &c).await;
    let week_18 = sessions[17].clone();
    let absent = holders(&week_18)[0].clone().unwrap();
    let response = app
        .post_json_as(&c.path("/absences"), c.token_of(&absent), &json!({"session_id": week_18["session_id"]}))
        .await;
    assert_eq!(response.status(), 201);
    let after = rota(&app, &c).await;
    assert!(!holders(&after[17]).contains(&Some(absent.clone())), "the absent member is off duty in week 18");
    assert!(holders(&after[17]).iter().all(Option::is_some), "someone else took the duty");
    for (i, session) in after.iter().enumerate() {
        let planned_here = !session["duties"].as_array().unwrap().is_empty();
        assert_eq!(planned_here, i < 20, "session {i}: re-planning covers what was planned, no more");
    }

    // A shorter plan afterwards does not strand the later duties: they are still re-planned.
    plan(&app, &c, 3).await;
    let week_19 = rota(&app, &c).await[18].clone();
    let absent = holders(&week_19)[2].clone().unwrap();
    app.post_json_as(&c.path("/absences"), c.token_of(&absent), &json!({"session_id": week_19["session_id"]})).await;
    assert!(!holders(&rota(&app, &c).await[18]).contains(&Some(absent)), "week 19 re-planned too");

    // A short plan stays short when something changes.
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    plan(&app, &c, 3).await;
    let first = rota(&app, &c).await[0].clone();
    let absent = holders(&first)[1].clone().unwrap();
    app.post_json_as(&c.path("/absences"), c.token_of(&absent), &json!({"session_id": first["session_id"]})).await;
    let after = rota(&app, &c).await;
    assert!(after.iter().skip(3).all(|s| s["duties"].as_array().unwrap().is_empty()), "nothing past week 3");
}

#[tokio::test]
async fn a_plan_with_no_session_in_its_window_says_so() {
    let app = spawn_app().await;
    let organizer = app.user("ada@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "Quiet").await;
    let response = app
        .post_json_as(&format!("/api/v1/cohorts/{cohort}/rota/plan"), &organizer.access_token, &json!({"weeks": 4}))
        .await;
    assert_eq!(response.status(), 200);
    let result: Value = response.json().await.unwrap();
    assert_eq!(result["sessions"], 0);
    let notes = result["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{result}");
    assert_eq!(notes[0]["relaxed"], "no_sessions");
    assert!(notes[0]["session_id"].is_null() && notes[0]["role_id"].is_null());
    assert!(notes[0]["reason"].as_str().unwrap().contains("4 weeks"));
}

fn person_matches(object: &Value, id_field: &str, person_field: &str) {
    match object[id_field].as_str() {
        Some(id) => {
            assert_eq!(object[person_field]["id"], id, "{person_field} in {object}");
            assert_eq!(object[person_field]["display_name"], "Test Person", "{object}");
        }
        None => assert!(object[person_field].is_null(), "{object}"),
    }
}

#[tokio::test]
async fn every_person_in_the_rota_comes_with_their_name() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    let result = plan(&app, &c, 2).await;
    for duty in result["duties"].as_array().unwrap() {
        person_matches(duty, "user_id", "user");
    }
    for session in rota(&app, &c).await.iter().take(2) {
        for duty in session["duties"].as_array().unwrap() {
            person_matches(duty, "user_id", "user");
        }
    }
    let report: Value = app.get_as(&c.path("/rota/fairness"), &c.organizer.access_token).await.json().await.unwrap();
    for member in report["members"].as_array().unwrap() {
        person_matches(member, "user_id", "user");
    }
    let session_id = rota(&app, &c).await[0]["session_id"].clone();
    app.post_json_as(&c.path("/absences"), &c.members[0].access_token, &json!({"session_id": session_id})).await;
    let absences: Value = app.get_as(&c.path("/absences"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(absences["items"].as_array().unwrap().len(), 1);
    person_matches(&absences["items"][0], "user_id", "user");
    let formed: Value = app.post_as(&c.path("/pairs"), &c.organizer.access_token).await.json().await.unwrap();
    let listed: Value = app.get_as(&c.path("/pairs"), &c.organizer.access_token).await.json().await.unwrap();
    for pair in formed["pairs"].as_array().unwrap().iter().chain(listed["items"][0]["pairs"].as_array().unwrap()) {
        for field in ["coach", "coachee", "third"] {
            person_matches(pair, field, &format!("{field}_person"));
        }
    }
}

#[tokio::test]
async fn roles_answer_a_complete_page_and_stop_at_twenty() {
    let app = spawn_app().await;
    let c = cohort(&app, 0).await;
    let page: Value = app.get_as(&c.path("/roles"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 3, "{page}");
    assert!(page["next_cursor"].is_null());
    for i in 3..20 {
        let added =
            app.post_json_as(&c.path("/roles"), &c.organizer.access_token, &json!({"name": format!("Role {i}")})).await;
        assert_eq!(added.status(), 201, "role {i}");
    }
    let one_more = app.post_json_as(&c.path("/roles"), &c.organizer.access_token, &json!({"name": "Too many"})).await;
    assert_problem(one_more, 409, "too_many_roles").await;
    let page: Value = app.get_as(&c.path("/roles"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn absences_racing_plans_never_fail_and_leave_a_consistent_rota() {
    let app = spawn_app().await;
    let c = cohort(&app, 9).await;
    plan(&app, &c, 6).await;
    let sessions = rota(&app, &c).await;
    let mut requests = Vec::new();
    for (i, member) in c.members.iter().enumerate() {
        let session_id = sessions[i % 6]["session_id"].clone();
        let path = c.path("/absences");
        let body = json!({"session_id": session_id});
        let token = member.access_token.clone();
        let app = &app;
        requests.push(Box::pin(async move { app.post_json_as(&path, &token, &body).await })
            as std::pin::Pin<Box<dyn std::future::Future<Output = reqwest::Response>>>);
    }
    for _ in 0..11 {
        let path = c.path("/rota/plan");
        let token = c.organizer.access_token.clone();
        let app = &app;
        requests.push(Box::pin(async move { app.post_json_as(&path, &token, &json!({"weeks": 6})).await }));
    }
    let responses = futures_join_all(requests).await;
    assert_eq!(responses.len(), 20);
    for status in &responses {
        assert!(*status == 200 || *status == 201, "status {status}");
    }
    let absences: Value = app.get_as(&c.path("/absences"), &c.organizer.access_token).await.json().await.unwrap();
    let away: HashSet<(String, String)> = absences["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["session_id"].as_str().unwrap().to_string(), a["user_id"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(away.len(), 9);
    for session in rota(&app, &c).await.iter().take(6) {
        let held: Vec<String> = holders(session).into_iter().flatten().collect();
        assert_eq!(held.len(), held.iter().collect::<HashSet<_>>().len(), "nobody holds two roles");
        let id = session["session_id"].as_str().unwrap().to_string();
        for user in &held {
            assert!(!away.contains(&(id.clone(), user.clone())), "an absent member is on duty");
        }
    }
}

/// Runs the requests at once and answers their statuses.
async fn futures_join_all(
    requests: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = reqwest::Response> + '_>>>,
) -> Vec<u16> {
    futures_util::future::join_all(requests).await.iter().map(|r| r.status().as_u16()).collect()
}
