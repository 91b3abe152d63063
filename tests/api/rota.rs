//! The rota over HTTP: roles, planning and re-planning, overrides, confirmations, absences,
//! swaps and cover, fairness, coaching pairs.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

pub(crate) struct Cohort {
    pub(crate) id: String,
    pub(crate) organizer: TestUser,
    pub(crate) members: Vec<TestUser>,
}

/// An organizer and `n` members, with a weekly series starting tomorrow.
pub(crate) async fn cohort(app: &TestApp, n: usize) -> Cohort {
    let organizer = app.user("ada@example.com").await;
    let id = app.cohort(&organizer.access_token, "Rota").await;
    let mut members = Vec::new();
    for i in 0..n {
        members.push(app.member(&organizer.access_token, &id, &format!("m{i}@example.com")).await);
    }
    let starts_on = (app.clock_now() + chrono::Duration::days(1)).date_naive().to_string();
    let body = json!({"rrule": "FREQ=WEEKLY", "starts_on": starts_on, "local_time": "18:00", "duration_minutes": 90});
    assert_eq!(
        app.post_json_as(&format!("/api/v1/cohorts/{id}/series"), &organizer.access_token, &body).await.status(),
        201
    );
    Cohort { id, organizer, members }
}

impl Cohort {
    pub(crate) fn path(&self, rest: &str) -> String {
        format!("/api/v1/cohorts/{}{rest}", self.id)
    }
    pub(crate) fn token_of(&self, user_id: &str) -> &str {
        if self.organizer.id == user_id {
            return &self.organizer.access_token;
        }
        &self.members.iter().find(|m| m.id == user_id).expect("a member").access_token
    }
}

pub(crate) async fn plan(app: &TestApp, c: &Cohort, weeks: i64) -> Value {
    let response = app.post_json_as(&c.path("/rota/plan"), &c.organizer.access_token, &json!({"weeks": weeks})).await;
    assert_eq!(response.status(), 200, "plan");
    response.json().await.unwrap()
}

pub(crate) async fn rota(app: &TestApp, c: &Cohort) -> Vec<Value> {
    let page: Value = app.get_as(&c.path("/rota?limit=50"), &c.organizer.access_token).await.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

pub(crate) fn holders(session: &Value) -> Vec<Option<String>> {
    session["duties"].as_array().unwrap().iter().map(|d| d["user_id"].as_str().map(String::from)).collect()
}

#[tokio::test]
async fn cohorts_start_with_three_roles_that_organizers_shape() {
    let app = spawn_app().await;
    let c = cohort(&app, 1).await;
    let page: Value = app.get_as(&c.path("/roles"), &c.members[0].access_token).await.json().await.unwrap();
    let roles = &page["items"];
    let names: Vec<&str> = roles.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Facilitator", "Note-taker", "Timekeeper"]);
    assert_eq!(roles[0]["facilitation"], true);
    let added = app
        .post_json_as(&c.path("/roles"), &c.organizer.access_token, &json!({"name": "Host", "min_attended": 2}))
        .await;
    assert_eq!(added.status(), 201);
    let host: Value = added.json().await.unwrap();
    assert_eq!((host["position"].as_i64(), host["min_attended"].as_i64()), (Some(3), Some(2)));
    let by_member = app.post_json_as(&c.path("/roles"), &c.members[0].access_token, &json!({"name": "Mine"})).await;
    assert_problem(by_member, 403, "forbidden").await;
    let retired = app
        .patch_as(
            &c.path(&format!("/roles/{}", host["id"].as_str().unwrap())),
            &c.organizer.access_token,
            &json!({"retired": true}),
        )
        .await;
    assert_eq!(retired.json::<Value>().await.unwrap()["retired"], true);
}

#[tokio::test]
async fn the_plan_fills_every_duty_fairly_and_the_same_inputs_give_the_same_plan() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    let first = plan(&app, &c, 4).await;
    assert_eq!(first["sessions"], 4);
    assert_eq!(first["duties"].as_array().unwrap().len(), 12);
    assert!(first["notes"].as_array().unwrap().is_empty());
    let sessions = rota(&app, &c).await;
    for session in sessions.iter().take(4) {
        let held: Vec<String> = holders(session).into_iter().flatten().collect();
        assert_eq!(held.len(), 3);
        assert_eq!(held.iter().collect::<HashSet<_>>().len(), 3, "nobody holds two roles");
    }
    let facilitators: HashSet<String> = sessions.iter().take(4).map(|s| holders(s)[0].clone().unwrap()).collect();
    assert_eq!(facilitators.len(), 4, "four sessions, four different facilitators");
    let again = plan(&app, &c, 4).await;
    let ids = |p: &Value| {
        p["duties"].as_array().unwrap().iter().map(|d| (d["id"].clone(), d["user_id"].clone())).collect::<Vec<_>>()
    };
    let (mut a, mut b) = (ids(&first), ids(&again));
    a.sort_by_key(|x| x.0.to_string());
    b.sort_by_key(|x| x.0.to_string());
    assert_eq!(a, b, "re-planning the same inputs changes nothing");
}

#[tokio::test]
async fn absences_and_a_no_send_duties_back_to_the_rota() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    plan(&app, &c, 3).await;
    let first = rota(&app, &c).await[0].clone();
    let session_id = first["session_id"].as_str().unwrap().to_string();
    let facilitator = holders(&first)[0].clone().unwrap();
    let absent =
        app.post_json_as(&c.path("/absences"), c.token_of(&facilitator), &json!({"session_id": session_id})).await;
    assert_eq!(absent.status(), 201);
    let replanned = rota(&app, &c).await[0].clone();
    assert!(!holders(&replanned).contains(&Some(facilitator.clone())), "the absent member has no duty there");

    let note_taker = holders(&replanned)[1].clone().unwrap();
    let no = app
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/sessions/{session_id}/rsvp"),
            Some(c.token_of(&note_taker)),
            Some(&json!({"response": "no"})),
        )
        .await;
    assert_eq!(no.status(), 200);
    let after_no = rota(&app, &c).await[0].clone();
    let remaining: Vec<Option<String>> = holders(&after_no);
    assert!(!remaining.contains(&Some(note_taker)) && !remaining.contains(&Some(facilitator)));
    let bad = app
        .post_json_as(
            &c.path("/absences"),
            &c.organizer.access_token,
            &json!({"from": "2030-02-02", "to": "2030-01-01"}),
        )
        .await;
    assert_problem(bad, 422, "validation_failed").await;
}

#[tokio::test]
async fn everyone_away_leaves_a_gap_and_says_so() {
    let app = spawn_app().await;
    let c = cohort(&app, 1).await;
    let sessions: Value =
        app.get_as(&c.path("/sessions?limit=1"), &c.organizer.access_token).await.json().await.unwrap();
    let session_id = sessions["items"][0]["id"].as_str().unwrap();
    for token in [&c.organizer.access_token, &c.members[0].access_token] {
        app.post_json_as(&c.path("/absences"), token, &json!({"session_id": session_id})).await;
    }
    let result = plan(&app, &c, 2).await;
    let notes = result["notes"].as_array().unwrap();
    assert_eq!(notes.iter().filter(|n| n["relaxed"] == "gap" && n["session_id"] == session_id).count(), 3);
    let week_after: Vec<&Value> = notes.iter().filter(|n| n["session_id"] != session_id).collect();
    assert_eq!(week_after.len(), 1, "two people, three roles the week after: one gap, never two roles");
    assert_eq!(week_after[0]["relaxed"], "gap");
}

#[tokio::test]
async fn overrides_and_confirmations_survive_re_planning() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    let result = plan(&app, &c, 2).await;
    let duty = result["duties"][0].clone();
    let everyone: Vec<String> = c.members.iter().map(|m| m.id.clone()).chain([c.organizer.id.clone()]).collect();
    let on_duty: Vec<&str> = result["duties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["session_id"] == duty["session_id"])
        .filter_map(|d| d["user_id"].as_str())
        .collect();
    let someone_else = everyone.iter().find(|id| !on_duty.contains(&id.as_str())).unwrap().clone();
    let busy = on_duty.iter().find(|id| Some(**id) != duty["user_id"].as_str()).unwrap().to_string();
    let assignment = format!("/api/v1/assignments/{}", duty["id"].as_str().unwrap());
    let clash = app
        .send(reqwest::Method::PUT, &assignment, Some(&c.organizer.access_token), Some(&json!({"user_id": busy})))
        .await;
    assert_problem(clash, 409, "already_on_duty").await;
    let overridden = app
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/assignments/{}", duty["id"].as_str().unwrap()),
            Some(&c.organizer.access_token),
            Some(&json!({"user_id": someone_else})),
        )
        .await;
    let overridden: Value = overridden.json().await.unwrap();
    assert_eq!(
        (overridden["locked"].as_bool(), overridden["user_id"].as_str()),
        (Some(true), Some(someone_else.as_str()))
    );
    let other = result["duties"][4].clone();
    let holder = other["user_id"].as_str().unwrap().to_string();
    let not_mine = app
        .post_as(&format!("/api/v1/assignments/{}/confirm", other["id"].as_str().unwrap()), &c.organizer.access_token)
        .await;
    if holder != c.organizer.id {
        assert_problem(not_mine, 403, "not_your_duty").await;
    }
    let confirmed: Value = app
        .post_as(&format!("/api/v1/assignments/{}/confirm", other["id"].as_str().unwrap()), c.token_of(&holder))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(confirmed["confirmed"], true);

    let again = plan(&app, &c, 2).await;
    let find = |id: &Value| again["duties"].as_array().unwrap().iter().find(|d| d["id"] == *id).unwrap().clone();
    assert_eq!(find(&duty["id"])["user_id"], someone_else.as_str());
    assert_eq!(find(&other["id"])["user_id"], holder.as_str());
}

#[tokio::test]
async fn a_swap_moves_both_duties_at_once() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    let result = plan(&app, &c, 2).await;
    let duties = result["duties"].as_array().unwrap();
    let everyone: Vec<String> = c.members.iter().map(|m| m.id.clone()).chain([c.organizer.id.clone()]).collect();
    let holders_of = |session: &Value| -> Vec<String> {
        duties
            .iter()
            .filter(|d| d["session_id"] == *session)
            .filter_map(|d| d["user_id"].as_str().map(String::from))
            .collect()
    };
    let (s0, s1) = (duties[0]["session_id"].clone(), duties[3]["session_id"].clone());
    let free_in = |session: &Value| everyone.iter().find(|u| !holders_of(session).contains(u)).unwrap().clone();
    // Four people, three duties: one is free in each session. Swapping between those two keeps
    // everyone at one duty per session.
    let (me, them) = (free_in(&s1), free_in(&s0));
    let mine = duties.iter().find(|d| d["session_id"] == s0 && d["user_id"] == me.as_str()).unwrap().clone();
    let theirs = duties.iter().find(|d| d["session_id"] == s1 && d["user_id"] == them.as_str()).unwrap().clone();
    let ask = json!({"kind": "swap", "peer_assignment_id": theirs["id"]});
    let asked = app
        .post_json_as(
            &format!("/api/v1/assignments/{}/swap-requests", mine["id"].as_str().unwrap()),
            c.token_of(&me),
            &ask,
        )
        .await;
    assert_eq!(asked.status(), 201);
    let asked: Value = asked.json().await.unwrap();
    assert_eq!((asked["state"].as_str(), asked["peer_id"].as_str()), (Some("open"), Some(them.as_str())));
    let id = asked["id"].as_str().unwrap();
    assert_eq!(app.post_as(&format!("/api/v1/swap-requests/{id}/accept"), c.token_of(&them)).await.status(), 200);
    let rota = rota(&app, &c).await;
    let all: Vec<Value> = rota.iter().flat_map(|s| s["duties"].as_array().unwrap().clone()).collect();
    let now_mine = all.iter().find(|d| d["id"] == mine["id"]).unwrap();
    let now_theirs = all.iter().find(|d| d["id"] == theirs["id"]).unwrap();
    assert_eq!(
        (now_mine["user_id"].as_str(), now_theirs["user_id"].as_str()),
        (Some(them.as_str()), Some(me.as_str()))
    );
    assert_eq!(now_mine["locked"], true);
    assert_problem(
        app.post_as(&format!("/api/v1/swap-requests/{id}/accept"), c.token_of(&them)).await,
        409,
        "request_closed",
    )
    .await;
}

#[tokio::test]
async fn two_peers_racing_to_cover_leave_exactly_one_on_duty() {
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    let result = plan(&app, &c, 1).await;
    let duty = result["duties"][0].clone();
    let holder = duty["user_id"].as_str().unwrap().to_string();
    let session_holders: Vec<String> =
        result["duties"].as_array().unwrap().iter().filter_map(|d| d["user_id"].as_str().map(String::from)).collect();
    let free: Vec<&TestUser> =
        c.members.iter().chain(std::iter::once(&c.organizer)).filter(|u| !session_holders.contains(&u.id)).collect();
    assert!(free.len() >= 2);
    let asked: Value = app
        .post_json_as(
            &format!("/api/v1/assignments/{}/swap-requests", duty["id"].as_str().unwrap()),
            c.token_of(&holder),
            &json!({"kind": "cover"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let accept = format!("/api/v1/swap-requests/{}/accept", asked["id"].as_str().unwrap());
    let (a, b) = tokio::join!(app.post_as(&accept, &free[0].access_token), app.post_as(&accept, &free[1].access_token));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let decline = format!("/api/v1/swap-requests/{}/decline", asked["id"].as_str().unwrap());
    assert_problem(app.post_as(&decline, &free[0].access_token).await, 409, "request_closed").await;
}

#[tokio::test]
async fn unanswered_asks_expire_and_the_duty_stays() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    let result = plan(&app, &c, 4).await;
    let later = result["duties"].as_array().unwrap().iter().rev().find(|d| d["user_id"].is_string()).unwrap().clone();
    let holder = later["user_id"].as_str().unwrap().to_string();
    let peer = c.members.iter().find(|m| m.id != holder).unwrap();
    let asked: Value = app
        .post_json_as(
            &format!("/api/v1/assignments/{}/swap-requests", later["id"].as_str().unwrap()),
            c.token_of(&holder),
            &json!({"kind": "cover", "peer_id": peer.id}),
        )
        .await
        .json()
        .await
        .unwrap();
    app.clock.advance(chrono::Duration::hours(73));
    let token = app.sign_in(&peer_email(&c, &peer.id)).await;
    let late = app.post_as(&format!("/api/v1/swap-requests/{}/accept", asked["id"].as_str().unwrap()), &token).await;
    assert_problem(late, 409, "request_expired").await;
    let organizer = app.sign_in("ada@example.com").await;
    let open: Value = app.get_as(&c.path("/swap-requests?state=expired"), &organizer).await.json().await.unwrap();
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
}

fn peer_email(c: &Cohort, id: &str) -> String {
    let index = c.members.iter().position(|m| m.id == id).unwrap();
    format!("m{index}@example.com")
}

#[tokio::test]
async fn the_fairness_report_counts_turns_and_upcoming_load() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    plan(&app, &c, 8).await;
    app.clock.advance(chrono::Duration::weeks(3));
    let token = app.sign_in("ada@example.com").await;
    let report: Value = app.get_as(&c.path("/rota/fairness?weeks=4"), &token).await.json().await.unwrap();
    let members = report["members"].as_array().unwrap();
    assert_eq!(members.len(), 4);
    let served: i64 = members.iter().map(|m| m["total"].as_i64().unwrap()).sum();
    assert_eq!(served, 9, "three sessions, three duties each");
    let upcoming: i64 = members.iter().map(|m| m["upcoming"].as_i64().unwrap()).sum();
    assert_eq!(upcoming, 15, "five sessions left in the plan");
    for m in members {
        let turns: Vec<i64> = m["turns"].as_array().unwrap().iter().map(|t| t["turns"].as_i64().unwrap()).collect();
        assert_eq!(turns.iter().sum::<i64>(), m["total"].as_i64().unwrap());
        assert_eq!(m["overloaded"], false);
    }
}

#[tokio::test]
async fn coaching_pairs_rotate_and_an_odd_member_makes_a_trio() {
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    let first = app.post_as(&c.path("/pairs"), &c.organizer.access_token).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["cycle"], 1);
    let pairs = first["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs.iter().filter(|p| p["third"].is_string()).count(), 1, "five members: one trio");
    let second: Value = app.post_as(&c.path("/pairs"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(second["cycle"], 2);
    let key = |p: &Value| {
        let mut k = [p["coach"].as_str().unwrap().to_string(), p["coachee"].as_str().unwrap().to_string()];
        k.sort();
        k
    };
    let before: HashSet<[String; 2]> = pairs.iter().map(key).collect();
    assert!(second["pairs"].as_array().unwrap().iter().all(|p| !before.contains(&key(p))), "new partners");
    let history: Value = app.get_as(&c.path("/pairs"), &c.members[0].access_token).await.json().await.unwrap();
    assert_eq!(history["items"].as_array().unwrap().len(), 2);
    let first: Value = app.get_as(&c.path("/pairs?limit=1"), &c.members[0].access_token).await.json().await.unwrap();
    assert_eq!(first["items"][0]["cycle"], 1);
    let cursor = first["next_cursor"].as_str().expect("a second page").to_string();
    let next: Value = app
        .get_as(&c.path(&format!("/pairs?limit=1&cursor={cursor}")), &c.members[0].access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((next["items"][0]["cycle"].as_i64(), next["next_cursor"].is_null()), (Some(2), true));
    assert_problem(app.post_as(&c.path("/pairs"), &c.members[0].access_token).await, 403, "forbidden").await;
}

#[tokio::test]
async fn a_member_who_pauses_hands_their_duties_back() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    plan(&app, &c, 2).await;
    let pausing = &c.members[0];
    let path = c.path(&format!("/members/{}", pausing.id));
    assert_eq!(app.patch_as(&path, &pausing.access_token, &json!({"state": "paused"})).await.status(), 200);
    let sessions = rota(&app, &c).await;
    for session in sessions.iter().take(2) {
        assert!(!holders(session).contains(&Some(pausing.id.clone())));
    }
}

#[tokio::test]
async fn whoever_is_on_duty_keeps_the_session_record() {
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    plan(&app, &c, 1).await;
    let session = rota(&app, &c).await[0].clone();
    let session_id = session["session_id"].as_str().unwrap();
    let on_duty = holders(&session)[1].clone().unwrap();
    // Five people, three duties: at least one member is off duty.
    let off_duty =
        c.members.iter().map(|m| m.id.as_str()).find(|u| !holders(&session).contains(&Some(u.to_string()))).unwrap();
    let notes = json!({"notes": "Taken by the note-taker", "publish": true});
    let path = format!("/api/v1/sessions/{session_id}/notes");
    let refused = app.send(reqwest::Method::PUT, &path, Some(c.token_of(off_duty)), Some(&notes)).await;
    assert_problem(refused, 403, "forbidden").await;
    let written = app.send(reqwest::Method::PUT, &path, Some(c.token_of(&on_duty)), Some(&notes)).await;
    assert_eq!(written.status(), 200);
    // [sessions branch] Attendance is recorded once the session has started (409
    // `session_not_started` before): move the clock there and sign the note-taker in again.
    let starts_at: chrono::DateTime<chrono::Utc> = session["starts_at"].as_str().unwrap().parse().unwrap();
    app.clock.advance(starts_at - app.clock_now() + chrono::Duration::minutes(1));
    let email = c
        .members
        .iter()
        .position(|m| m.id == on_duty)
        .map_or("ada@example.com".into(), |i| format!("m{i}@example.com"));
    let on_duty_token = app.sign_in(&email).await;
    let attendance = json!({"records": [{"user_id": off_duty, "status": "absent"}]});
    let recorded = app
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/sessions/{session_id}/attendance"),
            Some(&on_duty_token),
            Some(&attendance),
        )
        .await;
    assert_eq!(recorded.status(), 200);
}

#[tokio::test]
async fn the_home_screen_shows_my_duties() {
    let app = spawn_app().await;
    let c = cohort(&app, 2).await;
    let result = plan(&app, &c, 1).await;
    let mine =
        result["duties"].as_array().unwrap().iter().find(|d| d["user_id"] == c.members[0].id.as_str()).unwrap().clone();
    let home: Value = app.get_as("/api/v1/me/sessions?limit=1", &c.members[0].access_token).await.json().await.unwrap();
    let duties = home["items"][0]["my_duties"].as_array().unwrap();
    assert_eq!(duties.len(), 1);
    assert_eq!(duties[0]["assignment_id"], mine["id"]);
    assert_eq!(duties[0]["role"], mine["role"]);
    assert_eq!(duties[0]["confirmed"], false);
}

#[tokio::test]
async fn coaching_cycles_can_start_by_themselves_every_n_sessions() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    let settings = c.path("/pairs/settings");
    let by_member = app
        .send(reqwest::Method::PUT, &settings, Some(&c.members[0].access_token), Some(&json!({"every_sessions": 2})))
        .await;
    assert_problem(by_member, 403, "forbidden").await;
    let zero = app
        .send(reqwest::Method::PUT, &settings, Some(&c.organizer.access_token), Some(&json!({"every_sessions": 0})))
        .await;
    assert_problem(zero, 422, "validation_failed").await;
    let set = app
        .send(reqwest::Method::PUT, &settings, Some(&c.organizer.access_token), Some(&json!({"every_sessions": 2})))
        .await;
    assert_eq!(set.status(), 200);
    let read: Value = app.get_as(&settings, &c.members[0].access_token).await.json().await.unwrap();
    assert_eq!(read["every_sessions"], 2);

    let sweep = |app: &TestApp| {
        let (db, now) = (app.state.db.clone(), app.clock_now());
        async move { roundtable::rota::cycles::form_due(&db, now).await.unwrap() }
    };
    assert_eq!(sweep(&app).await, 1, "the first cycle starts at once");
    assert_eq!(sweep(&app).await, 0);
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(sweep(&app).await, 0, "one session held since");
    app.clock.advance(chrono::Duration::days(7));
    assert_eq!(sweep(&app).await, 1, "two sessions held since");
    let token = app.sign_in("m0@example.com").await;
    let cycles: Value = app.get_as(&c.path("/pairs"), &token).await.json().await.unwrap();
    assert_eq!(cycles["items"].as_array().unwrap().len(), 2);
}
