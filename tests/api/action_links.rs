//! Links in mail that act (`roundtable::notifications::links`): each link is issued as the
//! reminder engine issues it, its page fetched (twice: a GET never changes anything), its button
//! pressed (the change checked through the JSON API), pressed again (idempotent, or a plain
//! refusal), and tried where it must not work: another member's object, expired, revoked,
//! unknown, a paused member. One-click unsubscribe (RFC 8058) the same way.

use diesel::prelude::*;
use roundtable::db::UserId;
use roundtable::db::schema::{action_links, assignments, events, experiment_check_ins};
use roundtable::notifications::links::{self, LinkAction};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::rota::{Cohort, cohort, plan};

/// A link for `user_id`, issued as the reminder engine issues one.
fn issue(app: &TestApp, user_id: &str, action: LinkAction, object_id: &str) -> String {
    let conn = &mut app.db();
    let url = links::issue(conn, &app.base, &UserId::from_untyped(user_id), action, object_id, app.clock_now())
        .expect("issue a link");
    assert!(url.starts_with(&app.base), "{url}");
    url
}

/// A page as a browser gets it: status and HTML.
async fn page(app: &TestApp, url: &str) -> (u16, String) {
    let response = app.client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8", "{url}");
    assert_eq!(headers["cache-control"], "no-store");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.starts_with("default-src 'none'") && policy.contains("form-action 'self'"), "{policy}");
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"), "{html}");
    assert!(html.contains("<link rel=\"stylesheet\" href=\"/pages.css\">"));
    (status, html)
}

/// Presses the page's button: a form POST, as a browser sends it.
async fn press(app: &TestApp, url: &str, form: &[(&str, &str)]) -> (u16, String) {
    let body = serde_urlencoded::to_string(form).unwrap();
    let response = app
        .client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    (status, response.text().await.unwrap())
}

/// What a GET could have changed: every event, every link's use.
fn fingerprint(app: &TestApp) -> (i64, Vec<Option<chrono::NaiveDateTime>>) {
    let conn = &mut app.db();
    let events: i64 = events::table.count().get_result(conn).unwrap();
    let used = action_links::table.select(action_links::used_at).order(action_links::id).load(conn).unwrap();
    (events, used)
}

/// Fetches the page twice and checks nothing changed; answers its HTML.
async fn look(app: &TestApp, url: &str, status: u16) -> String {
    let before = fingerprint(app);
    let (got, html) = page(app, url).await;
    assert_eq!(got, status, "{html}");
    let (again, second) = page(app, url).await;
    assert_eq!((again, &second), (status, &html));
    assert_eq!(fingerprint(app), before, "a GET changed something");
    html
}

fn has_button(html: &str) -> bool {
    html.contains("<form method=\"post\">")
}

async fn rota_duties(app: &TestApp, c: &Cohort) -> Vec<Value> {
    let page: Value = app.get_as(&c.path("/rota?limit=50"), &c.organizer.access_token).await.json().await.unwrap();
    page["items"].as_array().unwrap().iter().flat_map(|s| s["duties"].as_array().unwrap().clone()).collect()
}

async fn duty(app: &TestApp, c: &Cohort, id: &str) -> Value {
    rota_duties(app, c).await.into_iter().find(|d| d["id"] == id).expect("the duty")
}

/// A planned duty held by a member (not the organizer), with its holder.
fn members_duty(c: &Cohort, planned: &Value) -> (Value, String) {
    let duty = planned["duties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["user_id"].is_string() && d["user_id"] != c.organizer.id.as_str())
        .expect("a member on duty")
        .clone();
    let holder = duty["user_id"].as_str().unwrap().to_string();
    (duty, holder)
}

#[tokio::test]
async fn the_stylesheet_is_served_by_the_binary() {
    let app = spawn_app().await;
    let response = app.get("/pages.css").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/css; charset=utf-8");
    let css = response.text().await.unwrap();
    assert!(css.contains("button") && !css.contains("http"));
}

#[tokio::test]
async fn a_confirm_link_shows_the_duty_confirms_it_once_and_only_for_its_holder() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    let planned = plan(&app, &c, 2).await;
    let (held, holder) = members_duty(&c, &planned);
    let id = held["id"].as_str().unwrap();
    let url = issue(&app, &holder, LinkAction::ConfirmDuty, id);
    assert!(url.contains("/a/rt_act_"), "{url}");

    let html = look(&app, &url, 200).await;
    let role = held["role"].as_str().unwrap();
    assert!(html.contains("Confirm your duty") && html.contains(role) && html.contains("Rota"), "{html}");
    // The session at 18:00 in the recipient's own zone, named.
    assert!(html.contains("18:00 (Europe/Berlin)"), "{html}");
    assert!(has_button(&html));
    assert_eq!(duty(&app, &c, id).await["confirmed"], false);

    let (status, done) = press(&app, &url, &[]).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Duty confirmed"), "{done}");
    assert_eq!(duty(&app, &c, id).await["confirmed"], true);
    let (status, again) = press(&app, &url, &[]).await;
    assert_eq!(status, 200);
    assert!(again.contains("already confirmed"), "{again}");
    assert!(look(&app, &url, 200).await.contains("already confirmed"));

    // Bound to its object and recipient: another member's link to this duty cannot confirm it.
    let other = planned["duties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["user_id"].is_string() && d["user_id"] != holder.as_str() && d["confirmed"] == false)
        .expect("someone else on duty")
        .clone();
    let other_id = other["id"].as_str().unwrap();
    let wrong = issue(&app, other["user_id"].as_str().unwrap(), LinkAction::ConfirmDuty, id);
    assert!(!has_button(&look(&app, &wrong, 200).await));
    let (status, refused) = press(&app, &wrong, &[]).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused.contains("Only the member on duty confirms it."), "{refused}");
    // Their own duty is untouched too: a link acts on its one object.
    assert_eq!(duty(&app, &c, other_id).await["confirmed"], false);
}

#[tokio::test]
async fn a_cant_make_it_link_asks_the_cohort_for_cover_once() {
    let app = spawn_app().await;
    let c = cohort(&app, 3).await;
    let planned = plan(&app, &c, 1).await;
    let (held, holder) = members_duty(&c, &planned);
    let id = held["id"].as_str().unwrap();
    let url = issue(&app, &holder, LinkAction::CantMake, id);
    let html = look(&app, &url, 200).await;
    assert!(html.contains("Ask for cover") && html.contains(held["role"].as_str().unwrap()), "{html}");

    let (status, done) = press(&app, &url, &[]).await;
    assert_eq!(status, 201, "{done}");
    let asks: Value =
        app.get_as(&c.path("/swap-requests?state=open"), &c.organizer.access_token).await.json().await.unwrap();
    let asks = asks["items"].as_array().unwrap();
    assert_eq!(asks.len(), 1);
    assert_eq!(
        (&asks[0]["kind"], &asks[0]["assignment_id"], &asks[0]["requester_id"], &asks[0]["peer_id"]),
        (&json!("cover"), &json!(id), &json!(holder), &Value::Null)
    );
    let (status, again) = press(&app, &url, &[]).await;
    assert_eq!(status, 200, "{again}");
    assert!(again.contains("already asked for cover"), "{again}");
    let asks: Value = app.get_as(&c.path("/swap-requests"), &c.organizer.access_token).await.json().await.unwrap();
    assert_eq!(asks["items"].as_array().unwrap().len(), 1, "asked once");
}

async fn first_session(app: &TestApp, c: &Cohort) -> String {
    let sessions: Value =
        app.get_as(&c.path("/sessions?limit=1"), &c.organizer.access_token).await.json().await.unwrap();
    sessions["items"][0]["id"].as_str().unwrap().to_string()
}

async fn my_rsvp(app: &TestApp, token: &str, session_id: &str) -> Value {
    let session: Value = app.get_as(&format!("/api/v1/sessions/{session_id}"), token).await.json().await.unwrap();
    session["my_rsvp"]["response"].clone()
}

#[tokio::test]
async fn rsvp_links_answer_yes_or_no_and_keep_the_note() {
    let app = spawn_app().await;
    let c = cohort(&app, 1).await;
    let member = &c.members[0];
    let session = first_session(&app, &c).await;
    let yes = issue(&app, &member.id, LinkAction::RsvpYes, &session);
    let no = issue(&app, &member.id, LinkAction::RsvpNo, &session);
    let html = look(&app, &yes, 200).await;
    assert!(html.contains("Will you come?") && html.contains("none yet") && html.contains("18:00"), "{html}");
    assert_eq!(my_rsvp(&app, &member.access_token, &session).await, Value::Null);

    let (status, done) = press(&app, &yes, &[]).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("You are coming"), "{done}");
    assert_eq!(my_rsvp(&app, &member.access_token, &session).await, "yes");
    let (status, again) = press(&app, &yes, &[]).await;
    assert_eq!(status, 200);
    assert!(again.contains("already your answer"), "{again}");

    // A note given in the app stays when the answer changes by mail.
    let path = format!("/api/v1/sessions/{session}/rsvp");
    let noted = app.put_as(&path, &member.access_token, &json!({"response": "maybe", "note": "train"})).await;
    assert_eq!(noted.status(), 200);
    assert!(look(&app, &no, 200).await.contains("counts as an absence"));
    let (status, done) = press(&app, &no, &[]).await;
    assert_eq!(status, 200, "{done}");
    let view: Value =
        app.get_as(&format!("/api/v1/sessions/{session}"), &member.access_token).await.json().await.unwrap();
    assert_eq!((&view["my_rsvp"]["response"], &view["my_rsvp"]["note"]), (&json!("no"), &json!("train")));
}

#[tokio::test]
async fn a_check_in_link_takes_a_short_form_once() {
    let app = spawn_app().await;
    let c = cohort(&app, 1).await;
    let member = &c.members[0];
    let created = app
        .post_json_as(
            &c.path("/experiments"),
            &member.access_token,
            &json!({"title": "Pair daily", "success_signal": "5 days"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let experiment: Value = created.json().await.unwrap();
    let id = experiment["id"].as_str().unwrap();
    let url = issue(&app, &member.id, LinkAction::CheckIn, id);
    let html = look(&app, &url, 200).await;
    assert!(html.contains("Pair daily") && html.contains("5 days"), "{html}");
    for field in ["done", "next", "blockers"] {
        assert!(html.contains(&format!("<label for=\"{field}\">")), "{field} labelled");
        assert!(html.contains(&format!("<textarea id=\"{field}\" name=\"{field}\"")), "{field} a textarea");
    }
    let count = || experiment_check_ins::table.count().get_result::<i64>(&mut app.db()).unwrap();

    // An empty form is refused in words, writes nothing, and leaves the link usable.
    let (status, refused) = press(&app, &url, &[("done", " "), ("next", ""), ("blockers", "")]).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("say something"), "{refused}");
    assert_eq!(count(), 0);

    let (status, done) =
        press(&app, &url, &[("done", "Paired twice"), ("next", "Pair on Friday"), ("blockers", "")]).await;
    assert_eq!(status, 201, "{done}");
    let listed: Value =
        app.get_as(&format!("/api/v1/experiments/{id}/check-ins"), &member.access_token).await.json().await.unwrap();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((&items[0]["done"], &items[0]["next"]), (&json!("Paired twice"), &json!("Pair on Friday")));
    let state: Value =
        app.get_as(&format!("/api/v1/experiments/{id}"), &member.access_token).await.json().await.unwrap();
    assert_eq!(state["state"], "in_progress");

    // Used up: a second post adds nothing.
    let (status, again) = press(&app, &url, &[("done", "Again")]).await;
    assert_eq!(status, 410, "{again}");
    assert!(again.contains("already used"));
    assert_eq!(count(), 1);
    assert!(look(&app, &url, 410).await.contains("already used"));
}

#[tokio::test]
async fn a_charter_link_accepts_the_current_version_only() {
    let app = spawn_app().await;
    let c = cohort(&app, 1).await;
    let member = &c.members[0];
    let charter = c.path("/charter");
    let body =
        json!({"mission": "Learn in the open", "weekly_minutes": 60, "review_cadence": {"every": 1, "unit": "months"}});
    let draft: Value =
        app.post_json_as(&format!("{charter}/versions"), &c.organizer.access_token, &body).await.json().await.unwrap();
    let version = draft["id"].as_str().unwrap();
    let adopt = format!("{charter}/versions/{version}/adopt");
    assert_eq!(app.post_as(&adopt, &c.organizer.access_token).await.status(), 200);
    let url = issue(&app, &member.id, LinkAction::AcceptCharter, version);
    let html = look(&app, &url, 200).await;
    assert!(html.contains("Learn in the open") && has_button(&html), "{html}");
    let owes = |v: Value| v["owes_acceptance"].clone();
    assert_eq!(owes(app.get_as(&charter, &member.access_token).await.json().await.unwrap()), true);

    let (status, done) = press(&app, &url, &[]).await;
    assert_eq!(status, 201, "{done}");
    assert_eq!(owes(app.get_as(&charter, &member.access_token).await.json().await.unwrap()), false);
    let (status, again) = press(&app, &url, &[]).await;
    assert_eq!(status, 200);
    assert!(again.contains("already accepted"), "{again}");

    // Once a newer version is adopted, the old link refuses in words.
    let newer: Value = app
        .post_json_as(
            &format!("{charter}/versions"),
            &c.organizer.access_token,
            &json!({"mission": "Newer", "weekly_minutes": 60, "review_cadence": {"every": 1, "unit": "months"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let adopt = format!("{charter}/versions/{}/adopt", newer["id"].as_str().unwrap());
    assert_eq!(app.post_as(&adopt, &c.organizer.access_token).await.status(), 200);
    let old = issue(&app, &member.id, LinkAction::AcceptCharter, version);
    assert!(look(&app, &old, 200).await.contains("newer version"));
    let (status, refused) = press(&app, &old, &[]).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused.contains("Only the current version can be accepted"), "{refused}");
}

/// Asks for cover (to `peer`, or anyone) of `duty`, as its holder.
async fn ask(app: &TestApp, c: &Cohort, duty: &Value, body: Value) -> String {
    let path = format!("/api/v1/assignments/{}/swap-requests", duty["id"].as_str().unwrap());
    let response = app.post_json_as(&path, c.token_of(duty["user_id"].as_str().unwrap()), &body).await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

/// Someone other than `holder` free in the session of `duty`.
fn free_peer(c: &Cohort, planned: &Value, duty: &Value) -> String {
    let busy: Vec<&str> = planned["duties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["session_id"] == duty["session_id"])
        .filter_map(|d| d["user_id"].as_str())
        .collect();
    c.members
        .iter()
        .map(|m| m.id.clone())
        .chain([c.organizer.id.clone()])
        .find(|u| !busy.contains(&u.as_str()))
        .unwrap()
}

#[tokio::test]
async fn cover_and_swap_links_take_accept_and_decline_only_what_was_asked() {
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    let planned = plan(&app, &c, 1).await;
    let (held, holder) = members_duty(&c, &planned);
    let duty_id = held["id"].as_str().unwrap();
    let peer = free_peer(&c, &planned, &held);
    let request = ask(&app, &c, &held, json!({"kind": "cover", "peer_id": peer})).await;

    // Asked of the peer, not of a third member.
    let third = c.members.iter().map(|m| m.id.clone()).find(|u| *u != holder && *u != peer).unwrap();
    let wrong = issue(&app, &third, LinkAction::TakeCover, &request);
    assert!(look(&app, &wrong, 200).await.contains("not asked of you"));
    let (status, refused) = press(&app, &wrong, &[]).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused.contains("This request was not made of you."));

    let url = issue(&app, &peer, LinkAction::TakeCover, &request);
    let html = look(&app, &url, 200).await;
    assert!(html.contains("Asks for cover") && html.contains("Take the duty"), "{html}");
    let (status, done) = press(&app, &url, &[]).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("The duty is yours"), "{done}");
    let now = duty(&app, &c, duty_id).await;
    assert_eq!((&now["user_id"], &now["confirmed"]), (&json!(peer), &json!(true)));
    let (status, again) = press(&app, &url, &[]).await;
    assert_eq!(status, 200);
    assert!(again.contains("already answered"), "{again}");

    // Declined by link: the request is declined, the duty stays.
    let (other, other_holder) = {
        let d = planned["duties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["user_id"].is_string() && d["user_id"] != peer.as_str() && d["id"] != duty_id)
            .unwrap()
            .clone();
        let h = d["user_id"].as_str().unwrap().to_string();
        (d, h)
    };
    let asked_of = free_peer(&c, &planned, &other);
    let declined = ask(&app, &c, &other, json!({"kind": "cover", "peer_id": asked_of})).await;
    let no = issue(&app, &asked_of, LinkAction::DeclineSwap, &declined);
    assert!(look(&app, &no, 200).await.contains("Decline"));
    let (status, done) = press(&app, &no, &[]).await;
    assert_eq!(status, 200, "{done}");
    let listed: Value = app.get_as(&c.path("/swap-requests"), &c.organizer.access_token).await.json().await.unwrap();
    let state =
        listed["items"].as_array().unwrap().iter().find(|r| r["id"] == declined.as_str()).unwrap()["state"].clone();
    assert_eq!(state, "declined");
    assert_eq!(duty(&app, &c, other["id"].as_str().unwrap()).await["user_id"], json!(other_holder));

    // Withdrawn before the peer pressed: a plain refusal, nothing moves.
    let again_asked = ask(&app, &c, &other, json!({"kind": "cover", "peer_id": asked_of})).await;
    let yes = issue(&app, &asked_of, LinkAction::AcceptSwap, &again_asked);
    let withdraw = format!("/api/v1/swap-requests/{again_asked}/withdraw");
    assert_eq!(app.post_as(&withdraw, c.token_of(&other_holder)).await.status(), 200);
    assert!(look(&app, &yes, 200).await.contains("withdrawn"));
    let (status, refused) = press(&app, &yes, &[]).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused.contains("answered already"), "{refused}");
    assert_eq!(duty(&app, &c, other["id"].as_str().unwrap()).await["user_id"], json!(other_holder));
}

#[tokio::test]
async fn a_paused_member_or_one_who_left_cannot_act_by_link() {
    let app = spawn_app().await;
    let c = cohort(&app, 2).await;
    let planned = plan(&app, &c, 1).await;
    let (held, holder) = members_duty(&c, &planned);
    let url = issue(&app, &holder, LinkAction::ConfirmDuty, held["id"].as_str().unwrap());
    let member = format!("/api/v1/cohorts/{}/members/{holder}", c.id);
    assert_eq!(app.patch_as(&member, &c.organizer.access_token, &json!({"state": "paused"})).await.status(), 200);
    let (status, refused) = press(&app, &url, &[]).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused.contains("Your membership is paused"), "{refused}");
    assert_eq!(app.delete_as(&member, &c.organizer.access_token).await.status(), 204);
    let html = look(&app, &url, 404).await;
    assert!(html.contains("no longer a member"), "{html}");
    let (status, _) = press(&app, &url, &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn unknown_expired_and_revoked_links_say_so_and_change_nothing() {
    let app = spawn_app().await;
    let c = cohort(&app, 2).await;
    let planned = plan(&app, &c, 3).await;
    let (held, holder) = members_duty(&c, &planned);
    let id = held["id"].as_str().unwrap();

    let unknown = app.url("/a/rt_act_nothing-like-this");
    assert!(look(&app, &unknown, 404).await.contains("does not work"));
    assert_eq!(press(&app, &unknown, &[]).await.0, 404);
    let unsubscribe_here =
        issue(&app, &holder, LinkAction::Unsubscribe, "session_soon").replace("/unsubscribe/", "/a/");
    assert_eq!(page(&app, &unsubscribe_here).await.0, 404, "each link on its own page");

    // Revoked by its recipient: every link of theirs, and only theirs.
    let revoked = issue(&app, &holder, LinkAction::ConfirmDuty, id);
    let others = issue(&app, &c.organizer.id, LinkAction::RsvpYes, &first_session(&app, &c).await);
    let token = c.token_of(&holder);
    let personal = app.personal_token(token, &["rota:write"]).await;
    assert_eq!(app.delete_as("/api/v1/me/action-links", &personal).await.status(), 403, "not with a personal token");
    assert_eq!(app.delete_as("/api/v1/me/action-links", token).await.status(), 204);
    assert!(look(&app, &revoked, 410).await.contains("revoked"));
    let (status, html) = press(&app, &revoked, &[]).await;
    assert_eq!(status, 410);
    assert!(html.contains("revoked"));
    assert_eq!(duty(&app, &c, id).await["confirmed"], false);
    assert_eq!(page(&app, &others).await.0, 200);

    // Expired after two weeks.
    let fresh = issue(&app, &holder, LinkAction::ConfirmDuty, id);
    app.clock.advance(chrono::Duration::days(14) + chrono::Duration::seconds(1));
    assert!(look(&app, &fresh, 410).await.contains("expired"));
    assert_eq!(press(&app, &fresh, &[]).await.0, 410);
    let confirmed: Option<chrono::NaiveDateTime> =
        assignments::table.find(id).select(assignments::confirmed_at).first(&mut app.db()).unwrap();
    assert_eq!(confirmed, None);
}

async fn email_of_kind(app: &TestApp, token: &str, kind: &str) -> Value {
    let prefs: Value = app.get_as("/api/v1/me/notification-preferences", token).await.json().await.unwrap();
    prefs["kinds"][kind]["email"].clone()
}

#[tokio::test]
async fn one_click_unsubscribe_turns_one_kind_off() {
    let app = spawn_app().await;
    let user = app.user("reader@example.com").await;
    let url = issue(&app, &user.id, LinkAction::Unsubscribe, "session_soon");
    assert!(url.contains("/unsubscribe/rt_act_"), "{url}");
    let html = look(&app, &url, 200).await;
    assert!(html.contains("A session of yours is coming up") && has_button(&html), "{html}");
    assert_eq!(email_of_kind(&app, &user.access_token, "session_soon").await, true);
    let events_before: i64 = events::table.count().get_result(&mut app.db()).unwrap();

    // As a mail client sends it (RFC 8058): no sign-in, this body.
    let response = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("no longer get mail of this kind"));
    assert_eq!(email_of_kind(&app, &user.access_token, "session_soon").await, false);
    assert_eq!(email_of_kind(&app, &user.access_token, "duty_soon").await, true, "only that kind");
    let recorded: Vec<String> = events::table
        .filter(events::kind.eq("user.notification_preferences_changed"))
        .select(events::payload)
        .load(&mut app.db())
        .unwrap();
    assert_eq!(recorded.len(), 1, "the same event as a PUT");
    assert!(recorded[0].contains("session_soon"));
    assert_eq!(events::table.count().get_result::<i64>(&mut app.db()).unwrap(), events_before + 1);

    // The page's own button (an empty form) on an already-off kind: said, nothing written.
    let (status, again) = press(&app, &url, &[]).await;
    assert_eq!(status, 200);
    assert!(again.contains("already off"), "{again}");
    assert!(look(&app, &url, 200).await.contains("already off"));

    // Account mail cannot be unsubscribed.
    let account = issue(&app, &user.id, LinkAction::Unsubscribe, "sign_in_link");
    let html = look(&app, &account, 200).await;
    assert!(html.contains("cannot be turned off") && !has_button(&html), "{html}");
    let (status, refused) = press(&app, &account, &[("List-Unsubscribe", "One-Click")]).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(email_of_kind(&app, &user.access_token, "sign_in_link").await, true);
}

#[tokio::test]
async fn a_swap_link_exchanges_both_duties() {
    let app = spawn_app().await;
    let c = cohort(&app, 4).await;
    let planned = plan(&app, &c, 2).await;
    let all = planned["duties"].as_array().unwrap().clone();
    let on_duty =
        |user: &Value, session: &Value| all.iter().any(|d| d["user_id"] == *user && d["session_id"] == *session);
    // Two duties in different sessions whose holders are each free in the other's session.
    let (mine, theirs) = all
        .iter()
        .filter(|d| d["user_id"].is_string() && d["user_id"] != c.organizer.id.as_str())
        .flat_map(|a| all.iter().map(move |b| (a, b)))
        .find(|(a, b)| {
            b["user_id"].is_string()
                && a["session_id"] != b["session_id"]
                && a["user_id"] != b["user_id"]
                && !on_duty(&a["user_id"], &b["session_id"])
                && !on_duty(&b["user_id"], &a["session_id"])
        })
        .map(|(a, b)| (a.clone(), b.clone()))
        .expect("two duties to swap");
    let peer = theirs["user_id"].as_str().unwrap().to_string();
    let request = ask(&app, &c, &mine, json!({"kind": "swap", "peer_assignment_id": theirs["id"]})).await;
    let url = issue(&app, &peer, LinkAction::AcceptSwap, &request);
    let html = look(&app, &url, 200).await;
    assert!(html.contains("Asks to swap") && html.contains("Your duty") && html.contains("Accept the swap"), "{html}");
    let (status, done) = press(&app, &url, &[]).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Duties swapped"), "{done}");
    let mine_now = duty(&app, &c, mine["id"].as_str().unwrap()).await;
    let theirs_now = duty(&app, &c, theirs["id"].as_str().unwrap()).await;
    assert_eq!((&mine_now["user_id"], &theirs_now["user_id"]), (&json!(peer), &mine["user_id"]));
    assert_eq!((&mine_now["confirmed"], &theirs_now["confirmed"]), (&json!(true), &json!(true)));
}

#[tokio::test]
async fn a_check_in_link_pressed_twice_at_once_posts_one_check_in() {
    let app = spawn_app().await;
    let c = cohort(&app, 1).await;
    let member = &c.members[0];
    let body = json!({"title": "Ship it", "success_signal": "shipped"});
    let experiment: Value =
        app.post_json_as(&c.path("/experiments"), &member.access_token, &body).await.json().await.unwrap();
    let id = experiment["id"].as_str().unwrap();
    let url = issue(&app, &member.id, LinkAction::CheckIn, id);
    let presses = (0..4).map(|_| press(&app, &url, &[("done", "Shipped")]));
    let mut statuses: Vec<u16> = futures_util::future::join_all(presses).await.into_iter().map(|(s, _)| s).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 410, 410, 410]);
    let count: i64 = experiment_check_ins::table
        .filter(experiment_check_ins::experiment_id.eq(id))
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_post_that_is_no_form_or_too_large_is_a_page_and_changes_nothing() {
    let app = spawn_app().await;
    let c = cohort(&app, 1).await;
    let session = first_session(&app, &c).await;
    let member = &c.members[0];
    let url = issue(&app, &member.id, LinkAction::RsvpYes, &session);
    let before = fingerprint(&app);
    let json = app.client.post(&url).json(&json!({"response": "yes"})).send().await.unwrap();
    assert_eq!(json.status(), 415);
    assert_eq!(json.headers()["content-type"], "text/html; charset=utf-8");
    let big = "done=".to_string() + &"x".repeat(20 * 1024);
    let large = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(large.status(), 413);
    assert!(large.text().await.unwrap().contains("larger than"));
    assert_eq!(fingerprint(&app), before);
    assert_eq!(my_rsvp(&app, &member.access_token, &session).await, Value::Null);
}
