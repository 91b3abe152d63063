//! The living charter: propose, discuss, adopt, accept, review; diffs; safe Markdown.

use diesel::prelude::*;
use roundtable::db::schema::events;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

fn charter(mission: &str) -> Value {
    json!({
        "mission": mission,
        "goals": ["Lead a design review", "Mentor someone"],
        "weekly_minutes": 90,
        "learning_formats": ["case_study", "peer_coaching"],
        "other_learning_formats": ["architecture kata"],
        "norms": "- Be **candid**\n- Start on time",
        "confidentiality": "What is said here stays here.",
        "project_kinds": ["design docs"],
        "review_cadence": {"every": 4, "unit": "weeks"}
    })
}

struct Cohort {
    id: String,
    organizer: TestUser,
    facilitator: TestUser,
    member: TestUser,
}

async fn cohort(app: &TestApp) -> Cohort {
    let organizer = app.user("ada@example.com").await;
    let id = app.cohort(&organizer.access_token, "Staff engineers").await;
    let facilitator = app.member(&organizer.access_token, &id, "fay@example.com").await;
    app.set_role(&organizer.access_token, &id, &facilitator.id, "facilitator").await;
    let member = app.member(&organizer.access_token, &id, "max@example.com").await;
    Cohort { id, organizer, facilitator, member }
}

impl Cohort {
    fn path(&self, rest: &str) -> String {
        format!("/api/v1/cohorts/{}/charter{rest}", self.id)
    }
}

async fn propose(app: &TestApp, c: &Cohort, who: &TestUser, mission: &str) -> Value {
    let response = app.post_json_as(&c.path("/versions"), &who.access_token, &charter(mission)).await;
    assert_eq!(response.status(), 201, "propose");
    response.json().await.unwrap()
}

async fn adopt(app: &TestApp, c: &Cohort, version: &Value) -> Value {
    let path = c.path(&format!("/versions/{}/adopt", version["id"].as_str().unwrap()));
    let response = app.post_as(&path, &c.facilitator.access_token).await;
    assert_eq!(response.status(), 200, "adopt");
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_draft_is_proposed_discussed_endorsed_and_adopted() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let empty: Value = app.get_as(&c.path(""), &c.member.access_token).await.json().await.unwrap();
    assert!(empty["version"].is_null());
    assert_eq!(empty["owes_acceptance"], false);

    let draft = propose(&app, &c, &c.member, "Grow into staff engineers").await;
    assert_eq!((draft["state"].as_str(), draft["number"].as_i64()), (Some("draft"), None));
    let version = c.path(&format!("/versions/{}", draft["id"].as_str().unwrap()));

    let edited = app.patch_as(&version, &c.member.access_token, &json!({"weekly_minutes": 120})).await;
    assert_eq!(edited.json::<Value>().await.unwrap()["weekly_minutes"], 120);
    let not_author = app.patch_as(&version, &c.organizer.access_token, &json!({"weekly_minutes": 10})).await;
    assert_problem(not_author, 403, "not_author").await;

    let comment = app
        .post_json_as(&format!("{version}/comments"), &c.organizer.access_token, &json!({"body": "Love *this*"}))
        .await;
    assert_eq!(comment.status(), 201);
    assert_eq!(comment.json::<Value>().await.unwrap()["body_html"], "<p>Love <em>this</em></p>\n");
    for _ in 0..2 {
        app.post_as(&format!("{version}/endorsements"), &c.organizer.access_token).await;
    }
    let seen: Value = app.get_as(&version, &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!((seen["endorsement_count"].as_i64(), seen["endorsed_by_me"].as_bool()), (Some(1), Some(true)));
    assert_eq!(seen["comment_count"], 1);

    assert_problem(app.post_as(&format!("{version}/adopt"), &c.member.access_token).await, 403, "forbidden").await;
    let adopted = adopt(&app, &c, &draft).await;
    assert_eq!((adopted["state"].as_str(), adopted["number"].as_i64()), (Some("adopted"), Some(1)));
    assert_problem(
        app.patch_as(&version, &c.member.access_token, &json!({"weekly_minutes": 5})).await,
        409,
        "version_not_draft",
    )
    .await;
    assert_problem(
        app.post_as(&format!("{version}/adopt"), &c.facilitator.access_token).await,
        409,
        "version_not_draft",
    )
    .await;
    let late = app.post_json_as(&format!("{version}/comments"), &c.member.access_token, &json!({"body": "late"})).await;
    assert_problem(late, 409, "version_not_draft").await;

    let comments: Value =
        app.get_as(&format!("{version}/comments"), &c.member.access_token).await.json().await.unwrap();
    assert_eq!(comments["items"][0]["author_name"], "Test Person");
}

#[tokio::test]
async fn every_member_accepts_and_a_new_adoption_asks_again() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let first = adopt(&app, &c, &propose(&app, &c, &c.organizer, "First").await).await;
    let first_id = first["id"].as_str().unwrap();

    let mine: Value = app.get_as(&c.path(""), &c.member.access_token).await.json().await.unwrap();
    assert_eq!((mine["owes_acceptance"].as_bool(), mine["version"]["number"].as_i64()), (Some(true), Some(1)));
    let accepted =
        app.post_json_as(&c.path("/acceptances"), &c.member.access_token, &json!({"version_id": first_id})).await;
    assert_eq!(accepted.status(), 201);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["owes_acceptance"], false);
    assert!(accepted["my_acceptance"]["accepted_at"].is_string());
    let again =
        app.post_json_as(&c.path("/acceptances"), &c.member.access_token, &json!({"version_id": first_id})).await;
    assert_eq!(again.status(), 200);

    let report: Value = app.get_as(&c.path("/acceptances"), &c.facilitator.access_token).await.json().await.unwrap();
    assert_eq!((report["accepted_count"].as_i64(), report["pending_count"].as_i64()), (Some(1), Some(2)));
    assert_eq!(report["accepted"][0]["user_id"], c.member.id.as_str());
    assert_problem(app.get_as(&c.path("/acceptances"), &c.member.access_token).await, 403, "forbidden").await;

    let second = adopt(&app, &c, &propose(&app, &c, &c.facilitator, "Second").await).await;
    assert_eq!(second["number"], 2);
    let old: Value =
        app.get_as(&c.path(&format!("/versions/{first_id}")), &c.member.access_token).await.json().await.unwrap();
    assert_eq!(old["state"], "superseded");
    let mine: Value = app.get_as(&c.path(""), &c.member.access_token).await.json().await.unwrap();
    assert_eq!(mine["owes_acceptance"], true, "a new adoption asks everyone again");
    let stale =
        app.post_json_as(&c.path("/acceptances"), &c.member.access_token, &json!({"version_id": first_id})).await;
    assert_problem(stale, 409, "not_current_version").await;
    let report: Value = app.get_as(&c.path("/acceptances"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!((report["accepted_count"].as_i64(), report["pending_count"].as_i64()), (Some(0), Some(3)));
}

#[tokio::test]
async fn racing_adoptions_let_exactly_one_win() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let (a, b) = (propose(&app, &c, &c.member, "A").await, propose(&app, &c, &c.organizer, "B").await);
    let path = |v: &Value| c.path(&format!("/versions/{}/adopt", v["id"].as_str().unwrap()));
    let (pa, pb) = (path(&a), path(&b));
    let (ra, rb) =
        tokio::join!(app.post_as(&pa, &c.facilitator.access_token), app.post_as(&pb, &c.organizer.access_token));
    let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);

    let c_draft = propose(&app, &c, &c.member, "C").await;
    let pc = path(&c_draft);
    let (r1, r2) =
        tokio::join!(app.post_as(&pc, &c.facilitator.access_token), app.post_as(&pc, &c.organizer.access_token));
    let mut statuses = [r1.status().as_u16(), r2.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let adopted: Value =
        app.get_as(&c.path("/versions?state=adopted"), &c.member.access_token).await.json().await.unwrap();
    assert_eq!(adopted["items"].as_array().unwrap().len(), 1, "one current version");
    assert_eq!(adopted["items"][0]["number"], 2);
}

#[tokio::test]
async fn an_outdated_draft_is_adopted_only_after_its_author_edits_it() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let old_draft = propose(&app, &c, &c.member, "Written before").await;
    adopt(&app, &c, &propose(&app, &c, &c.organizer, "Adopted meanwhile").await).await;
    let adopt_old = c.path(&format!("/versions/{}/adopt", old_draft["id"].as_str().unwrap()));
    assert_problem(app.post_as(&adopt_old, &c.facilitator.access_token).await, 409, "draft_outdated").await;
    let edit = c.path(&format!("/versions/{}", old_draft["id"].as_str().unwrap()));
    app.patch_as(&edit, &c.member.access_token, &json!({"mission": "Written before, now up to date"})).await;
    assert_eq!(app.post_as(&adopt_old, &c.facilitator.access_token).await.status(), 200);
}

#[tokio::test]
async fn versions_are_compared_field_by_field() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let v1 = adopt(&app, &c, &propose(&app, &c, &c.organizer, "Grow as staff engineers together").await).await;
    let mut body = charter("Grow as principal engineers together");
    body["goals"] = json!(["Mentor someone", "Write a strategy"]);
    let response = app.post_json_as(&c.path("/versions"), &c.member.access_token, &body).await;
    let v2: Value = response.json().await.unwrap();
    let path = c.path(&format!("/diff?from={}&to={}", v1["id"].as_str().unwrap(), v2["id"].as_str().unwrap()));
    let diff: Value = app.get_as(&path, &c.member.access_token).await.json().await.unwrap();
    let fields = diff["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 9);
    assert_eq!(fields[0]["field"], "mission");
    assert_eq!(
        fields[0]["words"],
        json!([
            {"op": "equal", "text": "Grow as "},
            {"op": "delete", "text": "staff"},
            {"op": "insert", "text": "principal"},
            {"op": "equal", "text": " engineers together"}
        ])
    );
    assert_eq!(
        (fields[1]["added"].clone(), fields[1]["removed"].clone()),
        (json!(["Write a strategy"]), json!(["Lead a design review"]))
    );
    assert!(fields[2..].iter().all(|f| f["changed"] == false));
    let unknown = c.path(&format!("/diff?from={}&to={}", v1["id"].as_str().unwrap(), uuid::Uuid::new_v4()));
    assert_problem(app.get_as(&unknown, &c.member.access_token).await, 404, "not_found").await;
}

#[tokio::test]
async fn reviews_fall_due_on_the_cadence_and_are_announced_once() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    adopt(&app, &c, &propose(&app, &c, &c.organizer, "Mission").await).await;
    let fresh: Value = app.get_as(&c.path(""), &c.member.access_token).await.json().await.unwrap();
    assert_eq!(fresh["review_due"], false);
    let due_on = fresh["review"]["next_review_on"].as_str().unwrap().to_string();

    let sweep = |app: &TestApp| {
        let (db, now) = (app.state.db.clone(), app.clock_now());
        async move { db.write(move |conn| roundtable::charter::notices::record_due_reviews(conn, now)).await.unwrap() }
    };
    assert_eq!(sweep(&app).await, 0);
    app.clock.advance(chrono::Duration::weeks(4) + chrono::Duration::days(1));
    let token = app.sign_in("fay@example.com").await;
    let due: Value = app.get_as(&c.path(""), &token).await.json().await.unwrap();
    assert_eq!(due["review_due"], true);
    assert_eq!(sweep(&app).await, 1);
    assert_eq!(sweep(&app).await, 0, "announced once");
    let announced: i64 =
        events::table.filter(events::kind.eq("charter.review_due")).count().get_result(&mut app.db()).unwrap();
    assert_eq!(announced, 1);

    let reviewed = app.post_json_as(&c.path("/reviews"), &token, &json!({"note": "Still right."})).await;
    assert_eq!(reviewed.status(), 201);
    let reviewed: Value = reviewed.json().await.unwrap();
    assert_eq!(reviewed["review_due"], false);
    assert!(reviewed["review"]["next_review_on"].as_str().unwrap() > due_on.as_str());
    let member_token = app.sign_in("max@example.com").await;
    assert_problem(app.post_json_as(&c.path("/reviews"), &member_token, &json!({})).await, 403, "forbidden").await;
}

#[tokio::test]
async fn markdown_is_kept_as_written_and_served_sanitised() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let mut body = charter("Mission");
    body["norms"] = json!("Be kind <script>alert('x')</script> [me](javascript:alert(1)) <img src=x onerror=alert(1)>");
    let version: Value =
        app.post_json_as(&c.path("/versions"), &c.member.access_token, &body).await.json().await.unwrap();
    assert_eq!(version["norms"], body["norms"]);
    let html = version["norms_html"].as_str().unwrap();
    assert!(html.starts_with("<p>Be kind"));
    for bad in ["<script", "javascript:", "onerror"] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
}

#[tokio::test]
async fn charter_fields_are_validated_together() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let body = json!({
        "goals": (0..21).map(|i| format!("goal {i}")).collect::<Vec<_>>(),
        "learning_formats": ["workshop", "juggling"],
        "review_cadence": {"every": 0, "unit": "weeks"}
    });
    let problem = assert_problem(
        app.post_json_as(&c.path("/versions"), &c.member.access_token, &body).await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["mission", "weekly_minutes", "goals", "learning_formats[1]", "review_cadence.every"]);
    let bad_unit = json!({"review_cadence": {"every": 2, "unit": "fortnights"}});
    let version = propose(&app, &c, &c.member, "M").await;
    let path = c.path(&format!("/versions/{}", version["id"].as_str().unwrap()));
    let problem =
        assert_problem(app.patch_as(&path, &c.member.access_token, &bad_unit).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "review_cadence.unit");
}

#[tokio::test]
async fn charter_scopes_limit_tokens() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    let reader = app.personal_token(&c.member.access_token, &["charter:read"]).await;
    assert_eq!(app.get_as(&c.path(""), &reader).await.status(), 200);
    assert_problem(app.post_json_as(&c.path("/versions"), &reader, &charter("M")).await, 403, "insufficient_scope")
        .await;
    let cohorts_only = app.personal_token(&c.member.access_token, &["cohorts:read"]).await;
    assert_problem(app.get_as(&c.path(""), &cohorts_only).await, 403, "insufficient_scope").await;
}

#[tokio::test]
async fn versions_name_who_wrote_endorsed_and_adopted_them() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    for (who, name) in [(&c.organizer, "Ada"), (&c.facilitator, "Fay"), (&c.member, "Max")] {
        assert_eq!(app.patch_as("/api/v1/me", &who.access_token, &json!({"display_name": name})).await.status(), 200);
    }
    let draft = propose(&app, &c, &c.member, "Learn together").await;
    assert_eq!(draft["author"], json!({"id": c.member.id, "display_name": "Max"}));
    let endorse = c.path(&format!("/versions/{}/endorsements", draft["id"].as_str().unwrap()));
    for who in [&c.organizer, &c.facilitator] {
        assert!(app.post_as(&endorse, &who.access_token).await.status().is_success());
    }
    let adopted = adopt(&app, &c, &draft).await;
    assert_eq!(adopted["adopted_by"], json!({"id": c.facilitator.id, "display_name": "Fay"}));
    assert_eq!(adopted["endorsement_count"], 2);
    assert_eq!(
        adopted["endorsed_by"],
        json!([{"id": c.organizer.id, "display_name": "Ada"}, {"id": c.facilitator.id, "display_name": "Fay"}])
    );
    let list: Value = app.get_as(&c.path("/versions"), &c.member.access_token).await.json().await.unwrap();
    assert_eq!(list["items"][0]["endorsed_by"].as_array().unwrap().len(), 2);
    let report: Value = app.get_as(&c.path("/acceptances"), &c.facilitator.access_token).await.json().await.unwrap();
    let pending = report["pending"].as_array().unwrap();
    assert!(pending.iter().any(|p| p["user"] == json!({"id": c.member.id, "display_name": "Max"})), "{report}");
}

#[tokio::test]
async fn sweeps_running_at_once_announce_a_due_review_once_without_failing() {
    let app = spawn_app().await;
    let c = cohort(&app).await;
    adopt(&app, &c, &propose(&app, &c, &c.organizer, "Mission").await).await;
    app.clock.advance(chrono::Duration::weeks(4) + chrono::Duration::days(1));
    // As two replicas would when a lease ran out mid-sweep: each on its own connection.
    let sweeps = (0..4).map(|_| {
        let (db, now) = (app.state.db.clone(), app.clock_now());
        tokio::spawn(
            async move { db.write(move |conn| roundtable::charter::notices::record_due_reviews(conn, now)).await },
        )
    });
    let mut recorded = 0;
    for sweep in futures_util::future::join_all(sweeps).await {
        recorded += sweep.unwrap().expect("no sweep fails on the notice's key");
    }
    assert_eq!(recorded, 1);
    let announced: i64 =
        events::table.filter(events::kind.eq("charter.review_due")).count().get_result(&mut app.db()).unwrap();
    assert_eq!(announced, 1);
}
