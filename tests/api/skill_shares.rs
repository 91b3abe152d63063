//! Skill shares over HTTP: offering (with and without approval), boxes on the agenda, sign-ups
//! with places and a first-come waitlist, a facilitator adding and removing people, slots that
//! follow their sessions (moved, shortened, cancelled, reinstated), lists and the home screen.

use diesel::prelude::*;
use roundtable::db::schema::{events, skill_shares};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};
use crate::sessions::{Cohort, cohort, in_days, one_off};

pub(crate) async fn offer(app: &TestApp, session: &Value, token: &str, body: Value) -> reqwest::Response {
    let path = format!("/api/v1/sessions/{}/skill-shares", session["id"].as_str().unwrap());
    app.post_json_as(&path, token, &body).await
}

pub(crate) async fn offered(app: &TestApp, session: &Value, token: &str, body: Value) -> Value {
    let response = offer(app, session, token, body).await;
    assert_eq!(response.status(), 201, "offer a skill share");
    response.json().await.unwrap()
}

pub(crate) async fn sign_up(app: &TestApp, slot: &Value, token: &str) -> (u16, Value) {
    let path = format!("/api/v1/skill-shares/{}/signups", slot["id"].as_str().unwrap());
    let response = app.post_as(&path, token).await;
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.get_as(path, token).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

fn slot_path(slot: &Value, rest: &str) -> String {
    format!("/api/v1/skill-shares/{}{rest}", slot["id"].as_str().unwrap())
}

async fn tomorrow(app: &TestApp, c: &Cohort, minutes: u32) -> Value {
    one_off(app, c, &format!("{}T18:00", in_days(app, 1)), minutes).await
}

fn titles(session: &Value) -> Vec<String> {
    session["agenda"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_string()).collect()
}

fn event_kinds(app: &TestApp, subject: &str) -> Vec<String> {
    let conn = &mut app.db();
    events::table.filter(events::subject_id.eq(subject)).order(events::id).select(events::kind).load(conn).unwrap()
}

#[tokio::test]
async fn an_offer_goes_on_the_agenda_and_the_other_boxes_make_room() {
    let app = spawn_app().await;
    let c = cohort(&app, "Europe/Berlin").await;
    let session = tomorrow(&app, &c, 90).await;
    let body = json!({"title": "Pairing with a timer", "summary": "Run a pairing round", "minutes": 20, "capacity": 2});
    let slot = offered(&app, &session, &c.member.access_token, body).await;
    assert_eq!(slot["status"], "approved");
    assert_eq!(slot["presenter"], json!({"id": c.member.id, "display_name": "Test Person"}));
    assert_eq!((slot["capacity"].as_i64(), slot["places_left"].as_i64()), (Some(2), Some(2)));
    assert_eq!(slot["agenda"], json!({"position": 1, "minutes": 20}));
    assert_eq!(slot["presenting"], true);
    assert_eq!(slot["session"]["id"], session["id"]);

    let session_path = format!("/api/v1/sessions/{}", session["id"].as_str().unwrap());
    let now = get(&app, &session_path, &c.member.access_token).await;
    assert_eq!(titles(&now), ["Check-in", "Learning activity", "Practice", "Pairing with a timer", "Reflection"]);
    let boxes: Vec<i64> = now["agenda"].as_array().unwrap().iter().map(|i| i["minutes"].as_i64().unwrap()).collect();
    assert!(boxes.iter().sum::<i64>() <= 90, "{boxes:?}");
    assert_eq!(now["agenda"][3]["kind"], "skill_share");
    assert_eq!(now["agenda"][3]["id"], slot["id"]);

    // A second one that leaves the other boxes no room is refused on the agenda, writing nothing.
    let too_long = offer(&app, &session, &c.organizer.access_token, json!({"title": "Long", "minutes": 60})).await;
    let problem = assert_problem(too_long, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "agenda", "{problem}");
    let conn = &mut app.db();
    assert_eq!(skill_shares::table.count().get_result::<i64>(conn).unwrap(), 1);
    assert_eq!(event_kinds(&app, slot["id"].as_str().unwrap()), ["skill_share.offered", "skill_share.approved"]);
}

#[tokio::test]
async fn offers_wait_for_approval_when_the_cohort_asks_for_it() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = tomorrow(&app, &c, 90).await;
    let settings = format!("/api/v1/cohorts/{}/skill-share-settings", c.id);
    assert_eq!(get(&app, &settings, &c.member.access_token).await["approval_required"], false);
    let refused = app.put_as(&settings, &c.member.access_token, &json!({"approval_required": true})).await;
    assert_problem(refused, 403, "forbidden").await;
    let set = app.put_as(&settings, &c.organizer.access_token, &json!({"approval_required": true})).await;
    assert_eq!(set.status(), 200);

    let proposed = offered(&app, &session, &c.member.access_token, json!({"title": "Proposal", "minutes": 15})).await;
    assert_eq!(proposed["status"], "proposed");
    assert_eq!(proposed["agenda"], Value::Null);
    assert_eq!(proposed["signups_open"], false);
    let (status, problem) = sign_up(&app, &proposed, &c.organizer.access_token).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("signups_closed")));
    assert_problem(app.post_as(&slot_path(&proposed, "/approve"), &c.member.access_token).await, 403, "forbidden")
        .await;

    let approved = app.post_as(&slot_path(&proposed, "/approve"), &c.organizer.access_token).await;
    assert_eq!(approved.status(), 200);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approved_by"]["id"], c.organizer.id.as_str());
    assert_eq!(approved["agenda"]["position"], 1);
    // A facilitator's own offer needs nobody's approval.
    let own = offered(&app, &session, &c.organizer.access_token, json!({"title": "Own", "minutes": 10})).await;
    assert_eq!((own["status"].as_str(), own["agenda"]["position"].as_i64()), (Some("approved"), Some(2)));
}

#[tokio::test]
async fn places_fill_then_a_waitlist_forms_and_leaving_promotes_the_first() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = tomorrow(&app, &c, 90).await;
    let slot =
        offered(&app, &session, &c.member.access_token, json!({"title": "Demo", "minutes": 20, "capacity": 2})).await;
    let people: Vec<TestUser> = app.members_in_bulk(&c.id, 5).await;

    let (status, first) = sign_up(&app, &slot, &people[0].access_token).await;
    assert_eq!((status, first["status"].as_str(), first["position"].as_i64()), (201, Some("attending"), None));
    assert_eq!(first["user"]["id"], people[0].id.as_str());
    assert_eq!(sign_up(&app, &slot, &people[1].access_token).await.0, 201);
    let (status, third) = sign_up(&app, &slot, &people[2].access_token).await;
    assert_eq!((status, third["status"].as_str(), third["position"].as_i64()), (201, Some("waitlisted"), Some(1)));
    assert_eq!(third["skill_share"]["places_left"], 0);
    let (_, fourth) = sign_up(&app, &slot, &people[3].access_token).await;
    assert_eq!(fourth["position"], 2);
    // Signing up again answers the place held; nobody holds two.
    let (status, again) = sign_up(&app, &slot, &people[0].access_token).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("attending")));
    let (status, problem) = sign_up(&app, &slot, &c.member.access_token).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("presenter_cannot_sign_up")));

    let mine = get(&app, &slot_path(&slot, ""), &people[3].access_token).await;
    assert_eq!((mine["my_status"].as_str(), mine["my_position"].as_i64()), (Some("waitlisted"), Some(2)));
    let list = get(&app, &slot_path(&slot, "/signups"), &people[3].access_token).await;
    let ids = |key: &str| -> Vec<String> {
        list[key].as_array().unwrap().iter().map(|s| s["user"]["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids("attending"), [people[0].id.clone(), people[1].id.clone()]);
    assert_eq!(ids("waitlist"), [people[2].id.clone(), people[3].id.clone()]);
    assert_eq!(list["waitlist"][1]["position"], 2);

    // The first attendee leaves: the first on the waitlist, and only them, moves up.
    let left = app.delete_as(&slot_path(&slot, "/signups/me"), &people[0].access_token).await;
    assert_eq!(left.status(), 204);
    let promoted = get(&app, &slot_path(&slot, ""), &people[2].access_token).await;
    assert_eq!((promoted["my_status"].as_str(), promoted["my_position"].as_i64()), (Some("attending"), None));
    let next = get(&app, &slot_path(&slot, ""), &people[3].access_token).await;
    assert_eq!(next["my_position"], 1);
    let kinds = event_kinds(&app, slot["id"].as_str().unwrap());
    assert_eq!(kinds.iter().filter(|k| *k == "skill_share.promoted").count(), 1, "{kinds:?}");
    assert!(kinds.contains(&"skill_share.left".to_string()));
    // Leaving twice changes nothing.
    assert_eq!(app.delete_as(&slot_path(&slot, "/signups/me"), &people[0].access_token).await.status(), 204);

    // A facilitator adds someone past capacity: they attend at once, and nobody else moves up.
    let add = app
        .post_json_as(&slot_path(&slot, "/signups"), &c.organizer.access_token, &json!({"user_id": people[4].id}))
        .await;
    assert_eq!(add.status(), 201);
    let added: Value = add.json().await.unwrap();
    assert_eq!(added["status"], "attending");
    assert_eq!(
        (added["skill_share"]["attending_count"].as_i64(), added["skill_share"]["places_left"].as_i64()),
        (Some(3), Some(0))
    );
    let by_member = app
        .post_json_as(&slot_path(&slot, "/signups"), &people[1].access_token, &json!({"user_id": people[0].id}))
        .await;
    assert_problem(by_member, 403, "forbidden").await;
    let stranger =
        app.post_json_as(&slot_path(&slot, "/signups"), &c.organizer.access_token, &json!({"user_id": "nobody"})).await;
    let problem = assert_problem(stranger, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "user_id");

    // More places promote from the waitlist at once.
    let grown = app.patch_as(&slot_path(&slot, ""), &c.member.access_token, &json!({"capacity": 4})).await;
    assert_eq!(grown.status(), 200);
    let now = get(&app, &slot_path(&slot, ""), &people[3].access_token).await;
    assert_eq!(now["my_status"], "attending");
    assert_eq!((now["attending_count"].as_i64(), now["waitlist_count"].as_i64()), (Some(4), Some(0)));
    // Unlimited, then a facilitator takes someone's place away.
    let unlimited = app.patch_as(&slot_path(&slot, ""), &c.member.access_token, &json!({"capacity": null})).await;
    let unlimited: Value = unlimited.json().await.unwrap();
    assert_eq!((unlimited["capacity"].clone(), unlimited["places_left"].clone()), (Value::Null, Value::Null));
    let removed =
        app.delete_as(&slot_path(&slot, &format!("/signups/{}", people[1].id)), &c.organizer.access_token).await;
    assert_eq!(removed.status(), 204);
    assert_eq!(get(&app, &slot_path(&slot, ""), &people[1].access_token).await["my_status"], Value::Null);
}

#[tokio::test]
async fn sign_ups_close_when_the_session_starts_and_the_past_stays() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = tomorrow(&app, &c, 90).await;
    let slot = offered(&app, &session, &c.member.access_token, json!({"title": "Demo", "minutes": 20})).await;
    assert_eq!(sign_up(&app, &slot, &c.organizer.access_token).await.0, 201);
    app.clock.advance(chrono::Duration::days(2));
    let people = app.members_in_bulk(&c.id, 1).await;
    let (organizer, presenter) = (app.sign_in("ada@example.com").await, app.sign_in("max@example.com").await);
    let (status, problem) = sign_up(&app, &slot, &people[0].access_token).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("signups_closed")));
    let leave = app.delete_as(&slot_path(&slot, "/signups/me"), &organizer).await;
    assert_problem(leave, 409, "session_started").await;
    let change = app.patch_as(&slot_path(&slot, ""), &presenter, &json!({"title": "Later"})).await;
    assert_problem(change, 409, "session_started").await;
    assert_problem(app.delete_as(&slot_path(&slot, ""), &presenter).await, 409, "session_started").await;
    assert_eq!(get(&app, &slot_path(&slot, ""), &presenter).await["signups_open"], false);
}

#[tokio::test]
async fn a_cancelled_session_offers_its_skill_shares_back_and_none_is_lost() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = tomorrow(&app, &c, 90).await;
    let later = one_off(&app, &c, &format!("{}T18:00", in_days(&app, 8)), 90).await;
    let slot = offered(&app, &session, &c.member.access_token, json!({"title": "Demo", "minutes": 20})).await;
    let other = offered(&app, &session, &c.member.access_token, json!({"title": "Other", "minutes": 10})).await;
    assert_eq!(sign_up(&app, &slot, &c.organizer.access_token).await.0, 201);

    let session_path = format!("/api/v1/sessions/{}", session["id"].as_str().unwrap());
    let cancel = json!({"status": "cancelled", "cancel_reason": "Snow"});
    assert_eq!(app.patch_as(&session_path, &c.organizer.access_token, &cancel).await.status(), 200);
    let back = get(&app, &slot_path(&slot, ""), &c.member.access_token).await;
    assert_eq!((back["status"].as_str(), back["signups_open"].as_bool()), (Some("offered_back"), Some(false)));
    assert!(event_kinds(&app, slot["id"].as_str().unwrap()).contains(&"skill_share.offered_back".to_string()));
    let mine = get(&app, "/api/v1/me/skill-shares", &c.member.access_token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2, "still the presenter's, to act on");

    // The presenter moves one to the next session (its sign-ups with it) and withdraws the other.
    let moved = app.patch_as(&slot_path(&slot, ""), &c.member.access_token, &json!({"session_id": later["id"]})).await;
    assert_eq!(moved.status(), 200);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!((moved["status"].as_str(), moved["session_id"].clone()), (Some("approved"), later["id"].clone()));
    assert_eq!(moved["attending_count"], 1);
    assert_eq!(moved["agenda"]["position"], 1);
    let later_now =
        get(&app, &format!("/api/v1/sessions/{}", later["id"].as_str().unwrap()), &c.member.access_token).await;
    assert!(titles(&later_now).contains(&"Demo".to_string()));
    assert!(event_kinds(&app, slot["id"].as_str().unwrap()).contains(&"skill_share.moved".to_string()));
    assert_eq!(app.delete_as(&slot_path(&other, ""), &c.member.access_token).await.status(), 204);
    assert_eq!(get(&app, &slot_path(&other, ""), &c.member.access_token).await["status"], "withdrawn");
    let sign_up_withdrawn = sign_up(&app, &other, &c.organizer.access_token).await;
    assert_eq!(sign_up_withdrawn.0, 409);

    // A session cancelled and reinstated takes its skill shares back onto the agenda.
    let third = offered(&app, &later, &c.organizer.access_token, json!({"title": "Third", "minutes": 10})).await;
    let later_path = format!("/api/v1/sessions/{}", later["id"].as_str().unwrap());
    assert_eq!(app.patch_as(&later_path, &c.organizer.access_token, &cancel).await.status(), 200);
    assert_eq!(get(&app, &slot_path(&third, ""), &c.member.access_token).await["status"], "offered_back");
    let reinstate = json!({"status": "scheduled"});
    assert_eq!(app.patch_as(&later_path, &c.organizer.access_token, &reinstate).await.status(), 200);
    let third_now = get(&app, &slot_path(&third, ""), &c.member.access_token).await;
    assert_eq!((third_now["status"].as_str(), third_now["agenda"]["position"].as_i64()), (Some("approved"), Some(2)));
}

#[tokio::test]
async fn a_skill_share_follows_its_session_and_facilitators_keep_the_order() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = tomorrow(&app, &c, 90).await;
    let first = offered(&app, &session, &c.member.access_token, json!({"title": "First", "minutes": 20})).await;
    let second = offered(&app, &session, &c.organizer.access_token, json!({"title": "Second", "minutes": 15})).await;
    let session_path = format!("/api/v1/sessions/{}", session["id"].as_str().unwrap());

    // Moved two days on and shortened to an hour: the skill shares keep their boxes.
    let starts_at = (app.clock_now() + chrono::Duration::days(3)).format("%Y-%m-%dT%H:%M:00Z").to_string();
    let change = json!({"starts_at": starts_at, "duration_minutes": 60});
    let moved = app.patch_as(&session_path, &c.organizer.access_token, &change).await;
    assert_eq!(moved.status(), 200);
    let now = get(&app, &slot_path(&first, ""), &c.member.access_token).await;
    assert_eq!(now["session"]["starts_at"].as_str().unwrap()[..16], starts_at[..16]);
    assert_eq!(now["agenda"], json!({"position": 1, "minutes": 20}));
    let second_now = get(&app, &slot_path(&second, ""), &c.member.access_token).await;
    assert_eq!(second_now["agenda"], json!({"position": 2, "minutes": 15}));

    // A facilitator reorders; the presenter may not.
    let refused = app.patch_as(&slot_path(&first, ""), &c.member.access_token, &json!({"position": 2})).await;
    assert_problem(refused, 403, "forbidden").await;
    let reordered = app.patch_as(&slot_path(&second, ""), &c.organizer.access_token, &json!({"position": 1})).await;
    assert_eq!(reordered.status(), 200);
    let list = get(&app, &format!("{session_path}/skill-shares"), &c.member.access_token).await;
    let order: Vec<(String, i64)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["title"].as_str().unwrap().to_string(), s["agenda"]["position"].as_i64().unwrap()))
        .collect();
    assert_eq!(order, [("First".to_string(), 2), ("Second".to_string(), 1)]);

    // The agenda editor keeps every approved skill share's box.
    let session_now = get(&app, &session_path, &c.organizer.access_token).await;
    let without: Vec<Value> =
        session_now["agenda"].as_array().unwrap().iter().filter(|i| i["title"] != "First").cloned().collect();
    let dropped =
        app.put_as(&format!("{session_path}/agenda"), &c.organizer.access_token, &json!({"items": without})).await;
    let problem = assert_problem(dropped, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "items");
    assert_eq!(problem["errors"][0]["code"], "skill_share_missing");
    // Longer boxes must still fit.
    let longer = app.patch_as(&slot_path(&first, ""), &c.member.access_token, &json!({"minutes": 45})).await;
    let problem = assert_problem(longer, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "agenda");
}

#[tokio::test]
async fn lists_show_places_left_and_the_home_screen_shows_my_part() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = tomorrow(&app, &c, 90).await;
    let slot =
        offered(&app, &session, &c.member.access_token, json!({"title": "Demo", "minutes": 20, "capacity": 1})).await;
    let people = app.members_in_bulk(&c.id, 1).await;
    assert_eq!(sign_up(&app, &slot, &c.organizer.access_token).await.0, 201);
    assert_eq!(sign_up(&app, &slot, &people[0].access_token).await.1["position"], 1);

    let upcoming = get(&app, &format!("/api/v1/cohorts/{}/skill-shares", c.id), &people[0].access_token).await;
    let item = &upcoming["items"][0];
    assert_eq!((item["places_left"].as_i64(), item["my_status"].as_str()), (Some(0), Some("waitlisted")));
    assert_eq!(item["presenter"]["id"], c.member.id.as_str());

    let home = get(&app, "/api/v1/me/sessions", &people[0].access_token).await;
    let mine = &home["items"][0]["my_skill_shares"];
    assert_eq!(*mine, json!([{"id": slot["id"], "title": "Demo", "my_status": "waitlisted", "my_position": 1}]));
    let home = get(&app, "/api/v1/me/sessions", &c.member.access_token).await;
    assert_eq!(home["items"][0]["my_skill_shares"][0]["my_status"], "presenting");
    let home = get(&app, "/api/v1/me/sessions", &c.organizer.access_token).await;
    assert_eq!(home["items"][0]["my_skill_shares"][0]["my_status"], "attending");

    let mine = get(&app, "/api/v1/me/skill-shares", &c.organizer.access_token).await;
    assert_eq!(mine["items"][0]["my_status"], "attending");
    let none = get(&app, "/api/v1/me/skill-shares?limit=1", &people[0].access_token).await;
    assert_eq!(none["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_presenter_who_will_not_be_there_is_flagged() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = tomorrow(&app, &c, 90).await;
    let slot = offered(&app, &session, &c.member.access_token, json!({"title": "Demo", "minutes": 20})).await;
    assert_eq!(slot["presenter_flag"], Value::Null);
    let rsvp = format!("/api/v1/sessions/{}/rsvp", session["id"].as_str().unwrap());
    assert_eq!(app.put_as(&rsvp, &c.member.access_token, &json!({"response": "no"})).await.status(), 200);
    assert_eq!(get(&app, &slot_path(&slot, ""), &c.organizer.access_token).await["presenter_flag"], "rsvp_no");
    assert_eq!(app.put_as(&rsvp, &c.member.access_token, &json!({"response": "yes"})).await.status(), 200);
    let absence = json!({"session_id": session["id"]});
    let absent =
        app.post_json_as(&format!("/api/v1/cohorts/{}/absences", c.id), &c.member.access_token, &absence).await;
    assert_eq!(absent.status(), 201);
    assert_eq!(get(&app, &slot_path(&slot, ""), &c.organizer.access_token).await["presenter_flag"], "absent");
}

#[tokio::test]
async fn bad_offers_are_refused_by_field_and_write_nothing() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = tomorrow(&app, &c, 90).await;
    let cases = [
        (json!({"minutes": 20}), "title"),
        (json!({"title": "T"}), "minutes"),
        (json!({"title": "T", "minutes": 2}), "minutes"),
        (json!({"title": "T", "minutes": 20, "capacity": 0}), "capacity"),
        (json!({"title": "T", "minutes": 20, "places": 3}), "places"),
        (json!({"title": "T", "minutes": 20, "experiment_id": "someone-elses"}), "experiment_id"),
    ];
    for (body, field) in cases {
        let problem =
            assert_problem(offer(&app, &session, &c.member.access_token, body.clone()).await, 422, "validation_failed")
                .await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    // Another member's experiment is not the presenter's to show.
    let theirs: Value = app
        .post_json_as(
            &format!("/api/v1/cohorts/{}/experiments", c.id),
            &c.organizer.access_token,
            &json!({"title": "Mine", "success_signal": "S"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let body = json!({"title": "T", "minutes": 20, "experiment_id": theirs["id"]});
    let problem =
        assert_problem(offer(&app, &session, &c.member.access_token, body).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "experiment_id");
    let body = json!({"title": "T", "minutes": 20, "experiment_id": theirs["id"]});
    let own = offered(&app, &session, &c.organizer.access_token, body).await;
    assert_eq!(own["experiment_title"], "Mine");
    let conn = &mut app.db();
    assert_eq!(skill_shares::table.count().get_result::<i64>(conn).unwrap(), 1);
}

#[tokio::test]
async fn people_who_leave_give_up_their_places_and_their_skill_shares() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = tomorrow(&app, &c, 90).await;
    let slot =
        offered(&app, &session, &c.member.access_token, json!({"title": "Demo", "minutes": 20, "capacity": 1})).await;
    let other =
        offered(&app, &session, &c.organizer.access_token, json!({"title": "Other", "minutes": 10, "capacity": 1}))
            .await;
    let people = app.members_in_bulk(&c.id, 4).await;
    assert_eq!(sign_up(&app, &slot, &people[0].access_token).await.1["status"], "attending");
    assert_eq!(sign_up(&app, &slot, &people[1].access_token).await.1["position"], 1);

    // Pausing gives up the place; the first waiting moves up.
    let pause = app
        .patch_as(
            &format!("/api/v1/cohorts/{}/members/{}", c.id, people[0].id),
            &people[0].access_token,
            &json!({"state": "paused"}),
        )
        .await;
    assert_eq!(pause.status(), 200);
    assert_eq!(get(&app, &slot_path(&slot, ""), &people[1].access_token).await["my_status"], "attending");
    assert_eq!(get(&app, &slot_path(&slot, ""), &people[0].access_token).await["my_status"], Value::Null);

    // Deleting one's account does too, in every cohort.
    assert_eq!(sign_up(&app, &other, &people[2].access_token).await.1["status"], "attending");
    assert_eq!(sign_up(&app, &other, &people[3].access_token).await.1["position"], 1);
    assert_eq!(app.delete_as("/api/v1/me", &people[2].access_token).await.status(), 204);
    assert_eq!(get(&app, &slot_path(&other, ""), &people[3].access_token).await["my_status"], "attending");

    // A presenter who leaves the cohort withdraws what they were to present; it leaves the agenda.
    let leave = app
        .patch_as(
            &format!("/api/v1/cohorts/{}/members/{}", c.id, c.member.id),
            &c.member.access_token,
            &json!({"state": "left"}),
        )
        .await;
    assert_eq!(leave.status(), 200);
    assert_eq!(get(&app, &slot_path(&slot, ""), &c.organizer.access_token).await["status"], "withdrawn");
    let session_now =
        get(&app, &format!("/api/v1/sessions/{}", session["id"].as_str().unwrap()), &c.organizer.access_token).await;
    assert!(!titles(&session_now).contains(&"Demo".to_string()));
    assert!(titles(&session_now).contains(&"Other".to_string()));
}
