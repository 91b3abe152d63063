//! Experiments: commit, check in, finish with an outcome, seed the next; visibility; peers;
//! attention; and Idempotency-Key on POST.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

struct Cohort {
    id: String,
    organizer: TestUser,
    ada: TestUser,
    bob: TestUser,
    cleo: TestUser,
}

async fn cohort(app: &TestApp) -> Cohort {
    let organizer = app.user("org@example.com").await;
    let id = app.cohort(&organizer.access_token, "Experiments").await;
    let ada = app.member(&organizer.access_token, &id, "ada@example.com").await;
    let bob = app.member(&organizer.access_token, &id, "bob@example.com").await;
    let cleo = app.member(&organizer.access_token, &id, "cleo@example.com").await;
    Cohort { id, organizer, ada, bob, cleo }
}

async fn commit(app: &TestApp, c: &Cohort, who: &TestUser, body: Value) -> Value {
    let response = app.post_json_as(&format!("/api/v1/cohorts/{}/experiments", c.id), &who.access_token, &body).await;
    assert_eq!(response.status(), 201, "commit");
    response.json().await.unwrap()
}

async fn titles(app: &TestApp, c: &Cohort, token: &str) -> Vec<String> {
    let page: Value = app.get_as(&format!("/api/v1/cohorts/{}/experiments", c.id), token).await.json().await.unwrap();
    page["items"].as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap().to_string()).collect()
}

fn basic(title: &str) -> Value {
    json!({"title": title, "success_signal": "It shows"})
}

#[tokio::test]
async fn an_experiment_goes_from_commitment_to_outcome_and_seeds_the_next() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let due = (app.clock_now() + chrono::Duration::days(10)).date_naive().to_string();
    let body = json!({"title": "Lead a design review", "success_signal": "Two decisions recorded", "due_on": due, "metric": {"name": "decisions", "target": 2}});
    let experiment = commit(&app, &c, &c.ada, body).await;
    assert_eq!((experiment["state"].as_str(), experiment["overdue"].as_bool()), (Some("committed"), Some(false)));
    let id = experiment["id"].as_str().unwrap();
    let path = format!("/api/v1/experiments/{id}");

    let too_early = app.patch_as(&path, &c.ada.access_token, &json!({"state": "done"})).await;
    let problem = assert_problem(too_early, 422, "validation_failed").await;
    assert_eq!(
        (problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()),
        (Some("state"), Some("illegal_transition"))
    );

    let check_in = app.post_json_as(&format!("{path}/check-ins"), &c.ada.access_token, &json!({"value": 1})).await;
    assert_eq!(check_in.status(), 201, "a value alone is a check-in");
    let empty = app.post_json_as(&format!("{path}/check-ins"), &c.ada.access_token, &json!({})).await;
    assert_problem(empty, 422, "validation_failed").await;
    app.post_json_as(&format!("{path}/check-ins"), &c.ada.access_token, &json!({"done": "Booked it", "value": 2}))
        .await;
    let now: Value = app.get_as(&path, &c.bob.access_token).await.json().await.unwrap();
    assert_eq!((now["state"].as_str(), now["check_in_count"].as_i64()), (Some("in_progress"), Some(2)));
    let metric: Value = app.get_as(&format!("{path}/metric"), &c.bob.access_token).await.json().await.unwrap();
    let values = metric["items"].as_array().unwrap().iter().map(|p| p["value"].as_f64().unwrap()).collect::<Vec<_>>();
    assert_eq!(values, [1.0, 2.0]);
    assert!(metric["next_cursor"].is_null());
    let first: Value = app.get_as(&format!("{path}/metric?limit=1"), &c.bob.access_token).await.json().await.unwrap();
    assert_eq!(first["items"][0]["value"], 1.0);
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second: Value =
        app.get_as(&format!("{path}/metric?limit=1&cursor={cursor}"), &c.bob.access_token).await.json().await.unwrap();
    assert_eq!(second["items"][0]["value"], 2.0);

    let by_peer = app.patch_as(&path, &c.bob.access_token, &json!({"title": "Mine now"})).await;
    assert_problem(by_peer, 403, "not_owner").await;
    let outcome = json!({"state": "done", "outcome": {"result": "partly", "learned": "Ask earlier", "next_step": "Book reviews two weeks ahead"}});
    let done: Value = app.patch_as(&path, &c.ada.access_token, &outcome).await.json().await.unwrap();
    assert_eq!((done["state"].as_str(), done["outcome"]["result"].as_str()), (Some("done"), Some("partly")));
    assert_problem(
        app.patch_as(&path, &c.ada.access_token, &json!({"state": "in_progress"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.post_json_as(&format!("{path}/check-ins"), &c.ada.access_token, &json!({"done": "x"})).await,
        409,
        "experiment_closed",
    )
    .await;

    let seeded = app.post_as(&format!("{path}/seed-next"), &c.ada.access_token).await;
    assert_eq!(seeded.status(), 201);
    let seeded: Value = seeded.json().await.unwrap();
    assert_eq!(
        (seeded["title"].as_str(), seeded["state"].as_str()),
        (Some("Book reviews two weeks ahead"), Some("committed"))
    );
    assert_eq!((seeded["seeded_from_id"].as_str(), seeded["metric"]["name"].as_str()), (Some(id), Some("decisions")));
    let mine: Value = app.get_as("/api/v1/me/experiments", &c.ada.access_token).await.json().await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn dropping_needs_a_reason() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let experiment = commit(&app, &c, &c.ada, basic("Try pairing")).await;
    let path = format!("/api/v1/experiments/{}", experiment["id"].as_str().unwrap());
    assert_problem(
        app.patch_as(&path, &c.ada.access_token, &json!({"state": "dropped"})).await,
        422,
        "validation_failed",
    )
    .await;
    let dropped: Value = app
        .patch_as(&path, &c.ada.access_token, &json!({"state": "dropped", "drop_reason": "Team changed"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((dropped["state"].as_str(), dropped["drop_reason"].as_str()), (Some("dropped"), Some("Team changed")));
}

#[tokio::test]
async fn visibility_holds_everywhere() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let private =
        commit(&app, &c, &c.ada, json!({"title": "Private", "success_signal": "s", "visibility": "private"})).await;
    let buddy = commit(
        &app,
        &c,
        &c.ada,
        json!({"title": "For Bob", "success_signal": "s", "visibility": "buddy", "buddy_id": c.bob.id}),
    )
    .await;
    let open = commit(&app, &c, &c.ada, basic("For all")).await;
    assert_eq!(titles(&app, &c, &c.ada.access_token).await, ["Private", "For Bob", "For all"]);
    assert_eq!(titles(&app, &c, &c.bob.access_token).await, ["For Bob", "For all"]);
    assert_eq!(titles(&app, &c, &c.cleo.access_token).await, ["For all"]);
    assert_eq!(titles(&app, &c, &c.organizer.access_token).await, ["For all"], "organizers see no more than anyone");
    for hidden in [&private, &buddy] {
        let path = format!("/api/v1/experiments/{}", hidden["id"].as_str().unwrap());
        assert_problem(app.get_as(&path, &c.cleo.access_token).await, 404, "not_found").await;
        assert_problem(app.get_as(&format!("{path}/check-ins"), &c.cleo.access_token).await, 404, "not_found").await;
        assert_problem(
            app.post_json_as(&format!("{path}/comments"), &c.cleo.access_token, &json!({"body": "hi"})).await,
            404,
            "not_found",
        )
        .await;
    }
    assert_eq!(
        app.get_as(&format!("/api/v1/experiments/{}", buddy["id"].as_str().unwrap()), &c.bob.access_token)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_as(&format!("/api/v1/experiments/{}", open["id"].as_str().unwrap()), &c.cleo.access_token)
            .await
            .status(),
        200
    );

    // Without a chosen buddy, "buddy" means the coaching partner.
    let partnered =
        commit(&app, &c, &c.ada, json!({"title": "For my partner", "success_signal": "s", "visibility": "buddy"}))
            .await;
    let pairs: Value =
        app.post_as(&format!("/api/v1/cohorts/{}/pairs", c.id), &c.organizer.access_token).await.json().await.unwrap();
    let group = pairs["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| [&p["coach"], &p["coachee"], &p["third"]].iter().any(|m| **m == c.ada.id.as_str()))
        .unwrap()
        .clone();
    let partner_ids: Vec<&str> = [&group["coach"], &group["coachee"], &group["third"]]
        .iter()
        .filter_map(|m| m.as_str())
        .filter(|m| *m != c.ada.id)
        .collect();
    let path = format!("/api/v1/experiments/{}", partnered["id"].as_str().unwrap());
    for member in [&c.organizer, &c.bob, &c.cleo] {
        let status = app.get_as(&path, &member.access_token).await.status().as_u16();
        assert_eq!(status, if partner_ids.contains(&member.id.as_str()) { 200 } else { 404 });
    }
}

#[tokio::test]
async fn peers_comment_offer_help_and_celebrate_once() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let experiment = commit(&app, &c, &c.ada, basic("Write a strategy")).await;
    let path = format!("/api/v1/experiments/{}", experiment["id"].as_str().unwrap());
    assert_eq!(
        app.post_json_as(&format!("{path}/comments"), &c.bob.access_token, &json!({"body": "Nice"})).await.status(),
        201
    );
    let comments: Value = app.get_as(&format!("{path}/comments"), &c.ada.access_token).await.json().await.unwrap();
    assert_eq!(comments["items"][0]["author_id"], c.bob.id.as_str());

    let offer: Value = app
        .post_json_as(&format!("{path}/help-offers"), &c.bob.access_token, &json!({"message": "I can review it"}))
        .await
        .json()
        .await
        .unwrap();
    let own = app.post_json_as(&format!("{path}/help-offers"), &c.ada.access_token, &json!({"message": "me"})).await;
    assert_problem(own, 409, "own_experiment").await;
    let answer = format!("{path}/help-offers/{}", offer["id"].as_str().unwrap());
    let by_bob =
        app.send(reqwest::Method::PUT, &answer, Some(&c.bob.access_token), Some(&json!({"state": "accepted"}))).await;
    assert_problem(by_bob, 403, "not_owner").await;
    let accepted: Value = app
        .send(reqwest::Method::PUT, &answer, Some(&c.ada.access_token), Some(&json!({"state": "accepted"})))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted["state"], "accepted");

    assert_eq!(app.post_as(&format!("{path}/celebrations"), &c.bob.access_token).await.status(), 201);
    assert_eq!(app.post_as(&format!("{path}/celebrations"), &c.bob.access_token).await.status(), 200);
    assert_eq!(app.post_as(&format!("{path}/celebrations"), &c.cleo.access_token).await.status(), 201);
    let seen: Value = app.get_as(&path, &c.ada.access_token).await.json().await.unwrap();
    assert_eq!(seen["celebrations"], 2);
}

#[tokio::test]
async fn facilitators_see_what_is_overdue_or_stuck() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let tomorrow = (app.clock_now() + chrono::Duration::days(1)).date_naive().to_string();
    let due =
        commit(&app, &c, &c.ada, json!({"title": "Due tomorrow", "success_signal": "s", "due_on": tomorrow})).await;
    let blocked = commit(&app, &c, &c.bob, basic("Blocked")).await;
    let fine = commit(&app, &c, &c.cleo, basic("Going well")).await;
    app.clock.advance(chrono::Duration::days(3));
    let bob = app.sign_in("bob@example.com").await;
    let cleo = app.sign_in("cleo@example.com").await;
    for _ in 0..2 {
        app.post_json_as(
            &format!("/api/v1/experiments/{}/check-ins", blocked["id"].as_str().unwrap()),
            &bob,
            &json!({"blockers": "No access"}),
        )
        .await;
    }
    app.post_json_as(
        &format!("/api/v1/experiments/{}/check-ins", fine["id"].as_str().unwrap()),
        &cleo,
        &json!({"done": "Step one"}),
    )
    .await;
    let organizer = app.sign_in("org@example.com").await;
    let attention: Value =
        app.get_as(&format!("/api/v1/cohorts/{}/experiments/attention", c.id), &organizer).await.json().await.unwrap();
    let items = attention["items"].as_array().unwrap();
    assert!(attention["next_cursor"].is_null());
    let listed: Vec<&str> = items.iter().map(|i| i["experiment"]["id"].as_str().unwrap()).collect();
    assert_eq!(
        listed,
        [due["id"].as_str().unwrap(), blocked["id"].as_str().unwrap()],
        "oldest first; the fine one is not listed"
    );
    assert_eq!((items[0]["overdue"].as_bool(), items[0]["quiet_since"].is_null()), (Some(true), true));
    assert_eq!(items[0]["repeated_blocker"], Value::Null);
    assert_eq!(
        (items[1]["overdue"].as_bool(), items[1]["repeated_blocker"].as_str()),
        (Some(false), Some("No access"))
    );
    assert_eq!(items[1]["experiment"]["owner"]["display_name"], "Test Person");

    // Quiet: a week on, nobody has checked in since.
    app.clock.advance(chrono::Duration::days(7));
    let organizer = app.sign_in("org@example.com").await;
    let attention: Value =
        app.get_as(&format!("/api/v1/cohorts/{}/experiments/attention", c.id), &organizer).await.json().await.unwrap();
    let fine_item = attention["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["experiment"]["id"] == fine["id"])
        .expect("quiet for 7 days");
    assert!(fine_item["quiet_since"].is_string(), "{fine_item}");
    let bad = app.get_as(&format!("/api/v1/cohorts/{}/experiments/attention?quiet_days=0", c.id), &organizer).await;
    assert_eq!(assert_problem(bad, 422, "validation_failed").await["errors"][0]["field"], "quiet_days");
    let member = app.sign_in("ada@example.com").await;
    assert_problem(
        app.get_as(&format!("/api/v1/cohorts/{}/experiments/attention", c.id), &member).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn an_experiment_due_at_a_session_follows_the_session() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let local = format!("{}T18:00", (app.clock_now() + chrono::Duration::days(5)).date_naive());
    let session: Value = app
        .post_json_as(
            &format!("/api/v1/cohorts/{}/sessions", c.id),
            &c.organizer.access_token,
            &json!({"local_start": local, "duration_minutes": 60}),
        )
        .await
        .json()
        .await
        .unwrap();
    let experiment = commit(
        &app,
        &c,
        &c.ada,
        json!({"title": "By the session", "success_signal": "s", "due_session_id": session["id"]}),
    )
    .await;
    assert_eq!(experiment["due_at"], session["starts_at"]);
    let later = (chrono::DateTime::parse_from_rfc3339(session["starts_at"].as_str().unwrap()).unwrap()
        + chrono::Duration::days(7))
    .to_rfc3339();
    let moved: Value = app
        .patch_as(
            &format!("/api/v1/sessions/{}", session["id"].as_str().unwrap()),
            &c.organizer.access_token,
            &json!({"starts_at": later}),
        )
        .await
        .json()
        .await
        .unwrap();
    let followed: Value = app
        .get_as(&format!("/api/v1/experiments/{}", experiment["id"].as_str().unwrap()), &c.ada.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(followed["due_at"], moved["starts_at"]);
    let board: Value = app
        .get_as(
            &format!("/api/v1/cohorts/{}/experiments?due_session_id={}", c.id, session["id"].as_str().unwrap()),
            &c.bob.access_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(board["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_retried_post_with_the_same_idempotency_key_creates_nothing_new() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let experiment = commit(&app, &c, &c.ada, basic("Offline phone")).await;
    let path = format!("{}/api/v1/experiments/{}/check-ins", app.base, experiment["id"].as_str().unwrap());
    let send = |key: &str, body: Value| {
        app.client.post(&path).bearer_auth(&c.ada.access_token).header("idempotency-key", key).json(&body).send()
    };
    let first = send("phone-1", json!({"done": "Did it"})).await.unwrap();
    assert_eq!(first.status(), 201);
    let first_body: Value = first.json().await.unwrap();
    let again = send("phone-1", json!({"done": "Did it"})).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first_body);
    let list: Value = app
        .get_as(&format!("/api/v1/experiments/{}/check-ins", experiment["id"].as_str().unwrap()), &c.ada.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "one check-in, not two");

    let other = send("phone-1", json!({"done": "Something else"})).await.unwrap();
    assert_problem(other, 422, "validation_failed").await;
    // Keys are the user's own: another member's same key is a different request.
    let created = app
        .client
        .post(format!("{}/api/v1/cohorts/{}/experiments", app.base, c.id))
        .bearer_auth(&c.bob.access_token)
        .header("idempotency-key", "phone-1")
        .json(&basic("Bob's"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
}

async fn rename(app: &TestApp, who: &TestUser, name: &str) {
    let response = app.patch_as("/api/v1/me", &who.access_token, &json!({"display_name": name})).await;
    assert_eq!(response.status(), 200);
}

/// Ada's experiment, done, with an outcome whose next step can seed another; its path.
async fn finished_with_a_next_step(app: &TestApp, c: &Cohort) -> String {
    let experiment = commit(app, c, &c.ada, basic("Pair on a review")).await;
    let path = format!("/api/v1/experiments/{}", experiment["id"].as_str().unwrap());
    app.post_json_as(&format!("{path}/check-ins"), &c.ada.access_token, &json!({"done": "one"})).await;
    let outcome = json!({"state": "done", "outcome": {"result": "worked", "learned": "l", "next_step": "Do two"}});
    assert_eq!(app.patch_as(&path, &c.ada.access_token, &outcome).await.status(), 200);
    path
}

#[tokio::test]
async fn seeding_twice_gives_the_one_seeded_experiment() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let path = finished_with_a_next_step(&app, &c).await;
    let first = app.post_as(&format!("{path}/seed-next"), &c.ada.access_token).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = app.post_as(&format!("{path}/seed-next"), &c.ada.access_token).await;
    assert_eq!(again.status(), 200, "asking again answers the first result");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    // And at once: still one.
    let seed = format!("{path}/seed-next");
    let requests = (0..6).map(|_| app.post_as(&seed, &c.ada.access_token));
    for response in futures_util::future::join_all(requests).await {
        assert_eq!(response.status(), 200);
    }
    let mine: Value = app.get_as("/api/v1/me/experiments", &c.ada.access_token).await.json().await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2, "the original and one seeded");
}

#[tokio::test]
async fn racing_first_seeds_make_one() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let path = finished_with_a_next_step(&app, &c).await;
    let seed = format!("{path}/seed-next");
    let requests = (0..8).map(|_| app.post_as(&seed, &c.ada.access_token));
    let statuses: Vec<u16> =
        futures_util::future::join_all(requests).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 7, "{statuses:?}");
}

#[tokio::test]
async fn people_come_with_names_and_peers_see_what_they_did() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    rename(&app, &c.ada, "Ada").await;
    rename(&app, &c.bob, "Bob").await;
    rename(&app, &c.cleo, "Cleo").await;
    let experiment = commit(
        &app,
        &c,
        &c.ada,
        json!({"title": "T", "success_signal": "S", "visibility": "buddy", "buddy_id": c.bob.id}),
    )
    .await;
    assert_eq!(experiment["owner"], json!({"id": c.ada.id, "display_name": "Ada"}));
    assert_eq!(experiment["buddy"], json!({"id": c.bob.id, "display_name": "Bob"}));
    let path = format!("/api/v1/experiments/{}", experiment["id"].as_str().unwrap());

    let comment = app.post_json_as(&format!("{path}/comments"), &c.bob.access_token, &json!({"body": "**Go**"})).await;
    let comment: Value = comment.json().await.unwrap();
    assert_eq!(comment["body_html"], "<p><strong>Go</strong></p>\n");
    assert_eq!(comment["author"], json!({"id": c.bob.id, "display_name": "Bob"}));
    let long = "x".repeat(4001);
    let too_long = app.post_json_as(&format!("{path}/comments"), &c.bob.access_token, &json!({"body": long})).await;
    assert_eq!(assert_problem(too_long, 422, "validation_failed").await["errors"][0]["field"], "body");
    let fits =
        app.post_json_as(&format!("{path}/comments"), &c.bob.access_token, &json!({"body": "y".repeat(4000)})).await;
    assert_eq!(fits.status(), 201, "the same limit as charter comments");

    // Offers: the owner lists them all, with the helper's name; a helper sees their own.
    for text in ["I can review", "I know someone"] {
        let made =
            app.post_json_as(&format!("{path}/help-offers"), &c.bob.access_token, &json!({"message": text})).await;
        assert_eq!(made.status(), 201);
    }
    let offers: Value = app.get_as(&format!("{path}/help-offers"), &c.ada.access_token).await.json().await.unwrap();
    let items = offers["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["helper"], json!({"id": c.bob.id, "display_name": "Bob"}));
    assert_eq!(items[0]["message"], "I can review");
    let page: Value =
        app.get_as(&format!("{path}/help-offers?limit=1"), &c.ada.access_token).await.json().await.unwrap();
    assert!(page["next_cursor"].is_string());
    let cleo_sees: Value =
        app.get_as(&format!("{path}/help-offers"), &c.cleo.access_token).await.json().await.unwrap_or(Value::Null);
    assert!(cleo_sees.get("items").is_none(), "cleo may not see a buddy experiment: {cleo_sees}");
    let bob_sees: Value = app.get_as(&format!("{path}/help-offers"), &c.bob.access_token).await.json().await.unwrap();
    assert_eq!(bob_sees["items"].as_array().unwrap().len(), 2, "bob sees his own");

    // Celebrating answers the new count and that you are among them.
    let celebrated = app.post_as(&format!("{path}/celebrations"), &c.bob.access_token).await;
    assert_eq!(celebrated.status(), 201);
    let body: Value = celebrated.json().await.unwrap();
    assert_eq!(body, json!({"celebrations": 1, "celebrated_by_me": true}));
    let again: Value = app.post_as(&format!("{path}/celebrations"), &c.bob.access_token).await.json().await.unwrap();
    assert_eq!(again, json!({"celebrations": 1, "celebrated_by_me": true}));
    let seen_by_bob: Value = app.get_as(&path, &c.bob.access_token).await.json().await.unwrap();
    let seen_by_ada: Value = app.get_as(&path, &c.ada.access_token).await.json().await.unwrap();
    assert_eq!(
        (seen_by_bob["celebrated_by_me"].as_bool(), seen_by_ada["celebrated_by_me"].as_bool()),
        (Some(true), Some(false))
    );
}

#[tokio::test]
async fn many_peers_celebrating_at_once_count_once_each() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let experiment = commit(&app, &c, &c.ada, basic("T")).await;
    let path = format!("/api/v1/experiments/{}/celebrations", experiment["id"].as_str().unwrap());
    let tokens = [&c.bob.access_token, &c.cleo.access_token, &c.organizer.access_token];
    let requests = (0..12).map(|i| app.post_as(&path, tokens[i % 3]));
    let statuses: Vec<u16> =
        futures_util::future::join_all(requests).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 3, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 200), "{statuses:?}");
    let seen: Value = app
        .get_as(&format!("/api/v1/experiments/{}", experiment["id"].as_str().unwrap()), &c.ada.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["celebrations"], 3);
}

#[tokio::test]
async fn a_replay_is_authorised_before_it_is_answered() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let experiment =
        commit(&app, &c, &c.ada, json!({"title": "Private", "success_signal": "S", "visibility": "cohort"})).await;
    let comments = format!("{}/api/v1/experiments/{}/comments", app.base, experiment["id"].as_str().unwrap());
    let post = |token: &str| {
        app.client
            .post(&comments)
            .bearer_auth(token)
            .header("idempotency-key", "k-1")
            .json(&json!({"body": "my note"}))
            .send()
    };
    assert_eq!(post(&c.bob.access_token).await.unwrap().status(), 201);

    // The same user with a read-only token: the scope is asked again, not skipped.
    let read_only = app.personal_token(&c.bob.access_token, &["experiments:read"]).await;
    let replay = post(&read_only).await.unwrap();
    assert_problem(replay, 403, "insufficient_scope").await;

    // Removed from the cohort since: a stranger now, so 404, not the stored 201.
    let removed =
        app.delete_as(&format!("/api/v1/cohorts/{}/members/{}", c.id, c.bob.id), &c.organizer.access_token).await;
    assert_eq!(removed.status(), 204);
    let replay = post(&c.bob.access_token).await.unwrap();
    assert!(replay.headers().get("idempotent-replayed").is_none());
    assert_problem(replay, 404, "not_found").await;
}
