//! Isolation, proven on every route. The test reads the route list from the served OpenAPI
//! document and calls every operation as: nobody; a member of another cohort; a member without
//! the needed role; a personal access token without the needed scope. It checks each answer and
//! that nothing in the database changed. A route missing from `TABLE` fails the test, so every
//! new route is covered the day it is added.

use diesel::prelude::*;
use reqwest::Method;
use roundtable::db::schema::*;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};

/// Who may call a route.
#[derive(Clone, Copy, Debug)]
enum Guard {
    /// Anyone: sign-up, sign-in, links from mail, health.
    Public,
    /// The caller's own account. Personal tokens are refused unless `tokens_ok`; ids in the path
    /// belong to the organizer, so another user gets 404.
    Own { tokens_ok: bool },
    /// Concerns no existing cohort (create, list mine, join): a token needs `scope`.
    Scoped { scope: &'static str },
    /// Inside cohort A: members only (404 to others), at least `min_role`, tokens need `scope`.
    Cohort { min_role: &'static str, scope: &'static str },
    /// An object in cohort A that only its owner (the organizer) may change: other members get
    /// 403 `not_owner`.
    Owned { scope: &'static str },
}
use Guard::*;

const READ: &str = "cohorts:read";
const WRITE: &str = "cohorts:write";
const CHARTER_READ: &str = "charter:read";
const CHARTER_WRITE: &str = "charter:write";
const SESSIONS_READ: &str = "sessions:read";
const SESSIONS_WRITE: &str = "sessions:write";
const ROTA_READ: &str = "rota:read";
const ROTA_WRITE: &str = "rota:write";
const EXP_READ: &str = "experiments:read";
const EXP_WRITE: &str = "experiments:write";
const SKILL_READ: &str = "skillshare:read";
const SKILL_WRITE: &str = "skillshare:write";
const NOTIFY_READ: &str = "notifications:read";
const NOTIFY_WRITE: &str = "notifications:write";
const HOOKS_READ: &str = "webhooks:read";
const HOOKS_WRITE: &str = "webhooks:write";
const EVERY_SCOPE: [&str; 16] = [
    READ,
    WRITE,
    CHARTER_READ,
    CHARTER_WRITE,
    SESSIONS_READ,
    SESSIONS_WRITE,
    ROTA_READ,
    ROTA_WRITE,
    EXP_READ,
    EXP_WRITE,
    SKILL_READ,
    SKILL_WRITE,
    NOTIFY_READ,
    NOTIFY_WRITE,
    HOOKS_READ,
    HOOKS_WRITE,
];

/// Every route: method, path, guard, a valid body.
fn table() -> Vec<(&'static str, &'static str, Guard, Option<Value>)> {
    let none = None;
    vec![
        ("get", "/healthz", Public, none.clone()),
        ("get", "/readyz", Public, none.clone()),
        ("get", "/pages.css", Public, none.clone()),
        ("get", "/a/{secret}", Public, none.clone()),
        ("post", "/a/{secret}", Public, none.clone()),
        ("get", "/unsubscribe/{secret}", Public, none.clone()),
        ("post", "/unsubscribe/{secret}", Public, none.clone()),
        ("get", "/", Public, none.clone()),
        ("get", "/app", Public, none.clone()),
        ("get", "/app/", Public, none.clone()),
        ("get", "/app/{path}", Public, none.clone()),
        ("delete", "/api/v1/me/action-links", Own { tokens_ok: false }, none.clone()),
        ("get", "/api/v1/instance", Public, none.clone()),
        ("post", "/api/v1/auth/signup", Public, none.clone()),
        ("post", "/api/v1/auth/login", Public, none.clone()),
        ("post", "/api/v1/auth/refresh", Public, none.clone()),
        ("post", "/api/v1/auth/logout", Public, none.clone()),
        ("post", "/api/v1/auth/magic-links", Public, none.clone()),
        ("post", "/api/v1/auth/magic-links/redeem", Public, none.clone()),
        ("post", "/api/v1/auth/password-resets", Public, none.clone()),
        ("post", "/api/v1/auth/password-resets/redeem", Public, none.clone()),
        ("post", "/api/v1/auth/email-verifications/redeem", Public, none.clone()),
        ("post", "/api/v1/auth/email-verifications", Own { tokens_ok: false }, none.clone()),
        ("get", "/api/v1/me", Own { tokens_ok: true }, none.clone()),
        ("patch", "/api/v1/me", Own { tokens_ok: false }, Some(json!({"display_name": "Changed"}))),
        ("delete", "/api/v1/me", Own { tokens_ok: false }, none.clone()),
        ("get", "/api/v1/me/sign-ins", Own { tokens_ok: false }, none.clone()),
        ("get", "/api/v1/me/notification-preferences", Own { tokens_ok: true }, none.clone()),
        ("get", "/api/v1/me/inbox", Own { tokens_ok: true }, none.clone()),
        ("get", "/api/v1/me/notifications", Scoped { scope: NOTIFY_READ }, none.clone()),
        ("post", "/api/v1/me/notifications/{notification_id}/read", Own { tokens_ok: true }, none.clone()),
        ("put", "/api/v1/me/notification-preferences", Own { tokens_ok: false }, Some(json!({"digest": "weekly"}))),
        (
            "post",
            "/api/v1/me/password",
            Own { tokens_ok: false },
            Some(json!({"current_password": "correct horse battery", "password": "taken over!"})),
        ),
        ("delete", "/api/v1/me/sign-ins/{sign_in_id}", Own { tokens_ok: false }, none.clone()),
        ("get", "/api/v1/me/tokens", Own { tokens_ok: false }, none.clone()),
        ("post", "/api/v1/me/tokens", Own { tokens_ok: false }, Some(json!({"name": "x", "scopes": [READ]}))),
        ("delete", "/api/v1/me/tokens/{token_id}", Own { tokens_ok: false }, none.clone()),
        ("get", "/api/v1/cohorts", Scoped { scope: READ }, none.clone()),
        ("post", "/api/v1/cohorts", Scoped { scope: WRITE }, Some(json!({"name": "New", "time_zone": "UTC"}))),
        ("post", "/api/v1/invitations/accept", Scoped { scope: WRITE }, Some(json!({"token": "rt_inv_unknown"}))),
        ("post", "/api/v1/invite-links/join", Scoped { scope: WRITE }, Some(json!({"code": "rt_join_unknown"}))),
        ("get", "/api/v1/cohorts/{cohort_id}", Cohort { min_role: "member", scope: READ }, none.clone()),
        (
            "patch",
            "/api/v1/cohorts/{cohort_id}",
            Cohort { min_role: "organizer", scope: WRITE },
            Some(json!({"name": "Taken over"})),
        ),
        ("delete", "/api/v1/cohorts/{cohort_id}", Cohort { min_role: "organizer", scope: WRITE }, none.clone()),
        ("get", "/api/v1/cohorts/{cohort_id}/members", Cohort { min_role: "member", scope: READ }, none.clone()),
        (
            "patch",
            "/api/v1/cohorts/{cohort_id}/members/{user_id}",
            Cohort { min_role: "organizer", scope: WRITE },
            Some(json!({"state": "paused"})),
        ),
        (
            "delete",
            "/api/v1/cohorts/{cohort_id}/members/{user_id}",
            Cohort { min_role: "organizer", scope: WRITE },
            none.clone(),
        ),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/invitations",
            Cohort { min_role: "organizer", scope: WRITE },
            Some(json!({"emails": ["new@example.com"]})),
        ),
        ("get", "/api/v1/cohorts/{cohort_id}/invitations", Cohort { min_role: "organizer", scope: READ }, none.clone()),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/invitations/{invitation_id}/resend",
            Cohort { min_role: "organizer", scope: WRITE },
            none.clone(),
        ),
        (
            "delete",
            "/api/v1/cohorts/{cohort_id}/invitations/{invitation_id}",
            Cohort { min_role: "organizer", scope: WRITE },
            none.clone(),
        ),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/invite-links",
            Cohort { min_role: "organizer", scope: WRITE },
            Some(json!({})),
        ),
        (
            "get",
            "/api/v1/cohorts/{cohort_id}/invite-links",
            Cohort { min_role: "organizer", scope: READ },
            none.clone(),
        ),
        (
            "delete",
            "/api/v1/cohorts/{cohort_id}/invite-links/{link_id}",
            Cohort { min_role: "organizer", scope: WRITE },
            none.clone(),
        ),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/webhooks",
            Cohort { min_role: "organizer", scope: HOOKS_WRITE },
            Some(json!({"url": "https://hooks.example.org/in", "events": ["*"]})),
        ),
        (
            "get",
            "/api/v1/cohorts/{cohort_id}/webhooks",
            Cohort { min_role: "organizer", scope: HOOKS_READ },
            none.clone(),
        ),
        ("get", "/api/v1/webhooks/{webhook_id}", Cohort { min_role: "organizer", scope: HOOKS_READ }, none.clone()),
        (
            "patch",
            "/api/v1/webhooks/{webhook_id}",
            Cohort { min_role: "organizer", scope: HOOKS_WRITE },
            Some(json!({"description": "changed", "rotate_secret": true})),
        ),
        ("delete", "/api/v1/webhooks/{webhook_id}", Cohort { min_role: "organizer", scope: HOOKS_WRITE }, none.clone()),
        (
            "get",
            "/api/v1/webhooks/{webhook_id}/deliveries",
            Cohort { min_role: "organizer", scope: HOOKS_READ },
            none.clone(),
        ),
        (
            "post",
            "/api/v1/webhooks/{webhook_id}/ping",
            Cohort { min_role: "organizer", scope: HOOKS_WRITE },
            none.clone(),
        ),
        (
            "post",
            "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
            Cohort { min_role: "organizer", scope: HOOKS_WRITE },
            none.clone(),
        ),
        (
            "get",
            "/api/v1/cohorts/{cohort_id}/charter",
            Cohort { min_role: "member", scope: CHARTER_READ },
            none.clone(),
        ),
        (
            "get",
            "/api/v1/cohorts/{cohort_id}/charter/versions",
            Cohort { min_role: "member", scope: CHARTER_READ },
            none.clone(),
        ),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/charter/versions",
            Cohort { min_role: "member", scope: CHARTER_WRITE },
            Some(json!({"mission": "M", "weekly_minutes": 60, "review_cadence": {"every": 1, "unit": "months"}})),
        ),
        (
            "get",
            "/api/v1/cohorts/{cohort_id}/charter/versions/{version_id}",
            Cohort { min_role: "member", scope: CHARTER_READ },
            none.clone(),
        ),
        (
            "patch",
            "/api/v1/cohorts/{cohort_id}/charter/versions/{version_id}",
            Cohort { min_role: "member", scope: CHARTER_WRITE },
            Some(json!({"mission": "Rewritten"})),
        ),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/charter/versions/{version_id}/adopt",
            Cohort { min_role: "facilitator", scope: CHARTER_WRITE },
            none.clone(),
        ),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/charter/versions/{version_id}/endorsements",
            Cohort { min_role: "member", scope: CHARTER_WRITE },
            none.clone(),
        ),
        (
            "get",
            "/api/v1/cohorts/{cohort_id}/charter/versions/{version_id}/comments",
            Cohort { min_role: "member", scope: CHARTER_READ },
            none.clone(),
        ),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/charter/versions/{version_id}/comments",
            Cohort { min_role: "member", scope: CHARTER_WRITE },
            Some(json!({"body": "Sneaky"})),
        ),
        (
            "get",
            "/api/v1/cohorts/{cohort_id}/charter/diff?from={version_id}&to={version_id}",
            Cohort { min_role: "member", scope: CHARTER_READ },
            none.clone(),
        ),
        (
            "get",
            "/api/v1/cohorts/{cohort_id}/charter/acceptances",
            Cohort { min_role: "facilitator", scope: CHARTER_READ },
            none.clone(),
        ),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/charter/acceptances",
            Cohort { min_role: "member", scope: CHARTER_WRITE },
            Some(json!({"version_id": "{version_id}"})),
        ),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/charter/reviews",
            Cohort { min_role: "facilitator", scope: CHARTER_WRITE },
            Some(json!({})),
        ),
        ("get", "/api/v1/me/sessions", Scoped { scope: SESSIONS_READ }, None),
        ("get", "/api/v1/cohorts/{cohort_id}/series", Cohort { min_role: "member", scope: SESSIONS_READ }, None),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/series",
            Cohort { min_role: "facilitator", scope: SESSIONS_WRITE },
            Some(
                json!({"rrule": "FREQ=WEEKLY", "starts_on": "2030-01-07", "local_time": "18:00", "duration_minutes": 60}),
            ),
        ),
        (
            "get",
            "/api/v1/cohorts/{cohort_id}/series/{series_id}",
            Cohort { min_role: "member", scope: SESSIONS_READ },
            None,
        ),
        (
            "patch",
            "/api/v1/cohorts/{cohort_id}/series/{series_id}",
            Cohort { min_role: "facilitator", scope: SESSIONS_WRITE },
            Some(json!({"from_session_id": "{session_id}", "title": "Renamed"})),
        ),
        ("get", "/api/v1/cohorts/{cohort_id}/sessions", Cohort { min_role: "member", scope: SESSIONS_READ }, None),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/sessions",
            Cohort { min_role: "facilitator", scope: SESSIONS_WRITE },
            Some(json!({"local_start": "2030-02-01T10:00", "duration_minutes": 60})),
        ),
        ("get", "/api/v1/sessions/{session_id}", Cohort { min_role: "member", scope: SESSIONS_READ }, None),
        (
            "patch",
            "/api/v1/sessions/{session_id}",
            Cohort { min_role: "facilitator", scope: SESSIONS_WRITE },
            Some(json!({"title": "Hijacked"})),
        ),
        (
            "put",
            "/api/v1/sessions/{session_id}/rsvp",
            Cohort { min_role: "member", scope: SESSIONS_WRITE },
            Some(json!({"response": "no"})),
        ),
        ("get", "/api/v1/sessions/{session_id}/rsvps", Cohort { min_role: "facilitator", scope: SESSIONS_READ }, None),
        (
            "put",
            "/api/v1/sessions/{session_id}/agenda",
            Cohort { min_role: "facilitator", scope: SESSIONS_WRITE },
            Some(json!({"items": []})),
        ),
        (
            "put",
            "/api/v1/sessions/{unplanned_session_id}/attendance",
            Cohort { min_role: "facilitator", scope: SESSIONS_WRITE },
            Some(json!({"records": [{"user_id": "{user_id}", "status": "absent"}]})),
        ),
        (
            "put",
            "/api/v1/sessions/{unplanned_session_id}/notes",
            Cohort { min_role: "facilitator", scope: SESSIONS_WRITE },
            Some(json!({"notes": "x"})),
        ),
        (
            "get",
            "/api/v1/cohorts/{cohort_id}/agenda-template",
            Cohort { min_role: "member", scope: SESSIONS_READ },
            None,
        ),
        (
            "put",
            "/api/v1/cohorts/{cohort_id}/agenda-template",
            Cohort { min_role: "facilitator", scope: SESSIONS_WRITE },
            Some(json!({"items": []})),
        ),
        ("get", "/api/v1/cohorts/{cohort_id}/roles", Cohort { min_role: "member", scope: ROTA_READ }, None),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/roles",
            Cohort { min_role: "organizer", scope: ROTA_WRITE },
            Some(json!({"name": "Host"})),
        ),
        (
            "patch",
            "/api/v1/cohorts/{cohort_id}/roles/{role_id}",
            Cohort { min_role: "organizer", scope: ROTA_WRITE },
            Some(json!({"name": "Boss"})),
        ),
        ("get", "/api/v1/cohorts/{cohort_id}/absences", Cohort { min_role: "member", scope: ROTA_READ }, None),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/absences",
            Cohort { min_role: "member", scope: ROTA_WRITE },
            Some(json!({"session_id": "{session_id}"})),
        ),
        // The absence belongs to the organizer: another member needs the facilitator's right.
        (
            "delete",
            "/api/v1/cohorts/{cohort_id}/absences/{absence_id}",
            Cohort { min_role: "facilitator", scope: ROTA_WRITE },
            None,
        ),
        ("get", "/api/v1/cohorts/{cohort_id}/rota", Cohort { min_role: "member", scope: ROTA_READ }, None),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/rota/plan",
            Cohort { min_role: "facilitator", scope: ROTA_WRITE },
            Some(json!({})),
        ),
        ("get", "/api/v1/cohorts/{cohort_id}/rota/fairness", Cohort { min_role: "member", scope: ROTA_READ }, None),
        (
            "put",
            "/api/v1/assignments/{assignment_id}",
            Cohort { min_role: "facilitator", scope: ROTA_WRITE },
            Some(json!({"user_id": null})),
        ),
        ("post", "/api/v1/assignments/{assignment_id}/confirm", Cohort { min_role: "member", scope: ROTA_WRITE }, None),
        (
            "post",
            "/api/v1/assignments/{assignment_id}/swap-requests",
            Cohort { min_role: "member", scope: ROTA_WRITE },
            Some(json!({"kind": "cover"})),
        ),
        ("get", "/api/v1/cohorts/{cohort_id}/swap-requests", Cohort { min_role: "member", scope: ROTA_READ }, None),
        (
            "post",
            "/api/v1/swap-requests/{swap_request_id}/accept",
            Cohort { min_role: "member", scope: ROTA_WRITE },
            None,
        ),
        (
            "post",
            "/api/v1/swap-requests/{swap_request_id}/decline",
            Cohort { min_role: "member", scope: ROTA_WRITE },
            None,
        ),
        (
            "post",
            "/api/v1/swap-requests/{swap_request_id}/withdraw",
            Cohort { min_role: "member", scope: ROTA_WRITE },
            None,
        ),
        ("get", "/api/v1/cohorts/{cohort_id}/pairs", Cohort { min_role: "member", scope: ROTA_READ }, None),
        ("post", "/api/v1/cohorts/{cohort_id}/pairs", Cohort { min_role: "facilitator", scope: ROTA_WRITE }, None),
        ("get", "/api/v1/me/experiments", Scoped { scope: EXP_READ }, None),
        ("get", "/api/v1/cohorts/{cohort_id}/experiments", Cohort { min_role: "member", scope: EXP_READ }, None),
        (
            "post",
            "/api/v1/cohorts/{cohort_id}/experiments",
            Cohort { min_role: "member", scope: EXP_WRITE },
            Some(json!({"title": "t", "success_signal": "s"})),
        ),
        (
            "get",
            "/api/v1/cohorts/{cohort_id}/experiments/attention",
            Cohort { min_role: "facilitator", scope: EXP_READ },
            None,
        ),
        ("get", "/api/v1/experiments/{experiment_id}", Cohort { min_role: "member", scope: EXP_READ }, None),
        ("patch", "/api/v1/experiments/{experiment_id}", Owned { scope: EXP_WRITE }, Some(json!({"title": "Taken"}))),
        ("post", "/api/v1/experiments/{experiment_id}/seed-next", Owned { scope: EXP_WRITE }, None),
        ("get", "/api/v1/experiments/{experiment_id}/check-ins", Cohort { min_role: "member", scope: EXP_READ }, None),
        (
            "post",
            "/api/v1/experiments/{experiment_id}/check-ins",
            Owned { scope: EXP_WRITE },
            Some(json!({"done": "x"})),
        ),
        ("get", "/api/v1/experiments/{experiment_id}/metric", Cohort { min_role: "member", scope: EXP_READ }, None),
        ("get", "/api/v1/experiments/{experiment_id}/comments", Cohort { min_role: "member", scope: EXP_READ }, None),
        (
            "post",
            "/api/v1/experiments/{experiment_id}/comments",
            Cohort { min_role: "member", scope: EXP_WRITE },
            Some(json!({"body": "b"})),
        ),
        (
            "get",
            "/api/v1/experiments/{experiment_id}/help-offers",
            Cohort { min_role: "member", scope: EXP_READ },
            None,
        ),
        (
            "post",
            "/api/v1/experiments/{experiment_id}/help-offers",
            Cohort { min_role: "member", scope: EXP_WRITE },
            Some(json!({"message": "m"})),
        ),
        (
            "put",
            "/api/v1/experiments/{experiment_id}/help-offers/{offer_id}",
            Owned { scope: EXP_WRITE },
            Some(json!({"state": "accepted"})),
        ),
        (
            "post",
            "/api/v1/experiments/{experiment_id}/celebrations",
            Cohort { min_role: "member", scope: EXP_WRITE },
            None,
        ),
        ("get", "/api/v1/cohorts/{cohort_id}/pairs/settings", Cohort { min_role: "member", scope: ROTA_READ }, None),
        (
            "put",
            "/api/v1/cohorts/{cohort_id}/pairs/settings",
            Cohort { min_role: "facilitator", scope: ROTA_WRITE },
            Some(json!({"every_sessions": 3})),
        ),
        (
            "post",
            "/api/v1/sessions/{session_id}/skill-shares",
            Cohort { min_role: "member", scope: SKILL_WRITE },
            Some(json!({"title": "Taken", "minutes": 10})),
        ),
        ("get", "/api/v1/sessions/{session_id}/skill-shares", Cohort { min_role: "member", scope: SKILL_READ }, None),
        ("get", "/api/v1/cohorts/{cohort_id}/skill-shares", Cohort { min_role: "member", scope: SKILL_READ }, None),
        (
            "get",
            "/api/v1/cohorts/{cohort_id}/skill-share-settings",
            Cohort { min_role: "member", scope: SKILL_READ },
            None,
        ),
        (
            "put",
            "/api/v1/cohorts/{cohort_id}/skill-share-settings",
            Cohort { min_role: "facilitator", scope: SKILL_WRITE },
            Some(json!({"approval_required": true})),
        ),
        ("get", "/api/v1/skill-shares/{skill_share_id}", Cohort { min_role: "member", scope: SKILL_READ }, None),
        // Its presenter (the organizer) or a facilitator: other members get 403 `forbidden`.
        (
            "patch",
            "/api/v1/skill-shares/{skill_share_id}",
            Cohort { min_role: "facilitator", scope: SKILL_WRITE },
            Some(json!({"title": "Taken"})),
        ),
        (
            "delete",
            "/api/v1/skill-shares/{skill_share_id}",
            Cohort { min_role: "facilitator", scope: SKILL_WRITE },
            None,
        ),
        (
            "post",
            "/api/v1/skill-shares/{proposed_skill_share_id}/approve",
            Cohort { min_role: "facilitator", scope: SKILL_WRITE },
            None,
        ),
        (
            "post",
            "/api/v1/skill-shares/{skill_share_id}/signups",
            Cohort { min_role: "member", scope: SKILL_WRITE },
            None,
        ),
        (
            "get",
            "/api/v1/skill-shares/{skill_share_id}/signups",
            Cohort { min_role: "member", scope: SKILL_READ },
            None,
        ),
        (
            "delete",
            "/api/v1/skill-shares/{skill_share_id}/signups/me",
            Cohort { min_role: "member", scope: SKILL_WRITE },
            None,
        ),
        (
            "delete",
            "/api/v1/skill-shares/{skill_share_id}/signups/{member_id}",
            Cohort { min_role: "facilitator", scope: SKILL_WRITE },
            None,
        ),
        ("get", "/api/v1/me/skill-shares", Scoped { scope: SKILL_READ }, None),
        // Calendar feeds: the feed URL is its own credential (no sign-in); minting one needs a
        // sign-in, as personal tokens do; the cohort feed is for organizers.
        ("get", "/feeds/{token}.ics", Public, None),
        ("post", "/api/v1/me/calendar-feed", Own { tokens_ok: false }, None),
        ("post", "/api/v1/cohorts/{cohort_id}/calendar-feed", Cohort { min_role: "organizer", scope: WRITE }, None),
        (
            "get",
            "/api/v1/sessions/{session_id}/calendar.ics",
            Cohort { min_role: "member", scope: SESSIONS_READ },
            None,
        ),
    ]
}

/// The route of a table entry: without the query some entries carry, and with its parameters
/// unnamed (an entry may fill a parameter with a particular object).
fn route_of(template: &str) -> String {
    let path = template.split('?').next().unwrap_or(template);
    path.split('/').map(|part| if part.starts_with('{') { "{}" } else { part }).collect::<Vec<_>>().join("/")
}

/// Cohort A (organizer, member), cohort B (outsider), and one of everything in A.
struct World {
    app: TestApp,
    organizer: TestUser,
    member: TestUser,
    outsider: TestUser,
    outsider_token: String,
    params: Vec<(&'static str, String)>,
}

async fn world() -> World {
    let app = spawn_app().await;
    let organizer = app.user("organizer@example.com").await;
    let cohort = app.cohort(&organizer.access_token, "A").await;
    let member = app.member(&organizer.access_token, &cohort, "member@example.com").await;
    let outsider = app.user("outsider@example.com").await;
    app.cohort(&outsider.access_token, "B").await;
    let outsider_token = app.personal_token(&outsider.access_token, &EVERY_SCOPE).await;

    let invitations = format!("/api/v1/cohorts/{cohort}/invitations");
    let sent: Value = app
        .post_json_as(&invitations, &organizer.access_token, &json!({"emails": ["guest@example.com"]}))
        .await
        .json()
        .await
        .unwrap();
    let links = format!("/api/v1/cohorts/{cohort}/invite-links");
    let link: Value = app.post_json_as(&links, &organizer.access_token, &json!({})).await.json().await.unwrap();
    app.personal_token(&organizer.access_token, &[READ]).await;
    let tokens: Value = app.get_as("/api/v1/me/tokens", &organizer.access_token).await.json().await.unwrap();
    let sign_ins: Value = app.get_as("/api/v1/me/sign-ins", &organizer.access_token).await.json().await.unwrap();
    let charter = format!("/api/v1/cohorts/{cohort}/charter/versions");
    let version_body = json!({"mission": "M", "weekly_minutes": 60, "review_cadence": {"every": 1, "unit": "months"}});
    let draft: Value = app.post_json_as(&charter, &organizer.access_token, &version_body).await.json().await.unwrap();
    let in_a_week = (app.clock_now() + chrono::Duration::days(7)).date_naive().to_string();
    let series_body =
        json!({"rrule": "FREQ=WEEKLY", "starts_on": in_a_week, "local_time": "18:00", "duration_minutes": 90});
    let series: Value = app
        .post_json_as(&format!("/api/v1/cohorts/{cohort}/series"), &organizer.access_token, &series_body)
        .await
        .json()
        .await
        .unwrap();
    let sessions: Value = app
        .get_as(&format!("/api/v1/cohorts/{cohort}/sessions?limit=1"), &organizer.access_token)
        .await
        .json()
        .await
        .unwrap();
    let roles: Value =
        app.get_as(&format!("/api/v1/cohorts/{cohort}/roles"), &organizer.access_token).await.json().await.unwrap();
    let first_session = sessions["items"][0]["id"].as_str().unwrap().to_string();
    let all: Value = app
        .get_as(&format!("/api/v1/cohorts/{cohort}/sessions?limit=200"), &organizer.access_token)
        .await
        .json()
        .await
        .unwrap();
    let unplanned_session = all["items"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_string();
    let absence: Value = app
        .post_json_as(
            &format!("/api/v1/cohorts/{cohort}/absences"),
            &organizer.access_token,
            &json!({"session_id": first_session}),
        )
        .await
        .json()
        .await
        .unwrap();
    let plan: Value = app
        .post_json_as(&format!("/api/v1/cohorts/{cohort}/rota/plan"), &organizer.access_token, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let duties = plan["duties"].as_array().unwrap();
    // Not in the first session: the organizer, asked to cover, is away from it.
    let members_duty = duties
        .iter()
        .find(|d| d["user_id"] == member.id.as_str() && d["session_id"] != first_session.as_str())
        .expect("member on duty")
        .clone();
    let ask = json!({"kind": "cover", "peer_id": organizer.id});
    let asks = format!("/api/v1/assignments/{}/swap-requests", members_duty["id"].as_str().unwrap());
    let swap: Value = app.post_json_as(&asks, &member.access_token, &ask).await.json().await.unwrap();
    let experiment: Value = app
        .post_json_as(
            &format!("/api/v1/cohorts/{cohort}/experiments"),
            &organizer.access_token,
            &json!({"title": "T", "success_signal": "S"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let experiment_id = experiment["id"].as_str().unwrap().to_string();
    let offer: Value = app
        .post_json_as(
            &format!("/api/v1/experiments/{experiment_id}/help-offers"),
            &member.access_token,
            &json!({"message": "m"}),
        )
        .await
        .json()
        .await
        .unwrap();
    // A skill share the organizer presents (the member holds a place in it), and one proposed
    // by the member while the cohort asked for approval.
    let shares = format!("/api/v1/sessions/{first_session}/skill-shares");
    let share: Value = app
        .post_json_as(&shares, &organizer.access_token, &json!({"title": "Share", "minutes": 10, "capacity": 1}))
        .await
        .json()
        .await
        .unwrap();
    let skill_share_id = share["id"].as_str().unwrap().to_string();
    let signed = app
        .post_json_as(&format!("/api/v1/skill-shares/{skill_share_id}/signups"), &member.access_token, &json!({}))
        .await;
    assert_eq!(signed.status(), 201);
    let settings = format!("/api/v1/cohorts/{cohort}/skill-share-settings");
    app.put_as(&settings, &organizer.access_token, &json!({"approval_required": true})).await;
    let proposed: Value = app
        .post_json_as(&shares, &member.access_token, &json!({"title": "Proposal", "minutes": 10}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(proposed["status"], "proposed");
    // The cover asked of the organizer is a notification of theirs.
    roundtable::jobs::Jobs::new(app.state.clone()).notify().await.unwrap();
    let mine: Value = app.get_as("/api/v1/me/notifications", &organizer.access_token).await.json().await.unwrap();
    let notification_id = mine["items"][0]["id"].as_str().expect("the organizer has a notification").to_string();
    // A webhook of cohort A with one delivered delivery, written straight to the database (its
    // URL would have to resolve to a public address to be registered through the API).
    let (webhook_id, delivery_id) = webhook_of(&app, &cohort);
    let params = vec![
        ("webhook_id", webhook_id),
        ("delivery_id", delivery_id),
        ("notification_id", notification_id),
        ("skill_share_id", skill_share_id),
        ("proposed_skill_share_id", proposed["id"].as_str().unwrap().to_string()),
        ("member_id", member.id.clone()),
        ("cohort_id", cohort),
        ("user_id", organizer.id.clone()),
        ("invitation_id", sent["invited"][0]["id"].as_str().unwrap().to_string()),
        ("link_id", link["id"].as_str().unwrap().to_string()),
        ("token_id", tokens["items"][0]["id"].as_str().unwrap().to_string()),
        ("sign_in_id", sign_ins["items"][0]["id"].as_str().unwrap().to_string()),
        ("version_id", draft["id"].as_str().unwrap().to_string()),
        ("series_id", series["id"].as_str().unwrap().to_string()),
        ("session_id", first_session),
        // Beyond the planned weeks: nobody is on duty there, so only facilitators keep its record.
        ("unplanned_session_id", unplanned_session),
        ("role_id", roles["items"][0]["id"].as_str().unwrap().to_string()),
        ("absence_id", absence["id"].as_str().unwrap().to_string()),
        ("assignment_id", members_duty["id"].as_str().unwrap().to_string()),
        ("swap_request_id", swap["id"].as_str().unwrap().to_string()),
        ("experiment_id", experiment_id),
        ("offer_id", offer["id"].as_str().unwrap().to_string()),
        ("secret", "rt_act_unknown".to_string()),
        ("path", "sessions".to_string()),
        ("token", "rt_feed_unknown".to_string()),
    ];
    World { app, organizer, member, outsider, outsider_token, params }
}

impl World {
    /// Puts the world's ids in for `{name}` placeholders.
    fn substitute(&self, text: &str) -> String {
        self.params.iter().fold(text.to_string(), |text, (name, value)| text.replace(&format!("{{{name}}}"), value))
    }

    fn fill(&self, template: &str) -> String {
        let filled = self.substitute(template);
        assert!(!filled.contains('{'), "no value for a parameter of {template}");
        filled
    }

    /// Everything a denied request could have changed, as one comparable value.
    fn fingerprint(&self) -> String {
        let conn = &mut self.app.db();
        let counts: Vec<i64> = vec![
            users::table.count().get_result(conn).unwrap(),
            auth_sessions::table.filter(auth_sessions::revoked_at.is_null()).count().get_result(conn).unwrap(),
            one_time_tokens::table.count().get_result(conn).unwrap(),
            outbound_mail::table.count().get_result(conn).unwrap(),
            events::table.count().get_result(conn).unwrap(),
            charter_comments::table.count().get_result(conn).unwrap(),
            charter_endorsements::table.count().get_result(conn).unwrap(),
            charter_acceptances::table.count().get_result(conn).unwrap(),
            charter_reviews::table.count().get_result(conn).unwrap(),
            session_series::table.count().get_result(conn).unwrap(),
            session_rsvps::table.count().get_result(conn).unwrap(),
            session_attendance::table.count().get_result(conn).unwrap(),
            session_action_items::table.count().get_result(conn).unwrap(),
            duty_roles::table.count().get_result(conn).unwrap(),
            absences::table.count().get_result(conn).unwrap(),
            coaching_pairs::table.count().get_result(conn).unwrap(),
            experiments::table.count().get_result(conn).unwrap(),
            experiment_check_ins::table.count().get_result(conn).unwrap(),
            experiment_comments::table.count().get_result(conn).unwrap(),
            experiment_help_offers::table
                .filter(experiment_help_offers::state.eq("offered"))
                .count()
                .get_result(conn)
                .unwrap(),
            experiment_celebrations::table.count().get_result(conn).unwrap(),
            skill_share_signups::table.count().get_result(conn).unwrap(),
            notification_preferences::table.count().get_result(conn).unwrap(),
            notification_settings::table.count().get_result(conn).unwrap(),
            webhooks::table.filter(webhooks::enabled.eq(true)).count().get_result(conn).unwrap(),
            webhook_deliveries::table.count().get_result(conn).unwrap(),
            webhook_deliveries::table
                .filter(webhook_deliveries::status.eq("delivered"))
                .count()
                .get_result(conn)
                .unwrap(),
        ];
        let skill_shares: Vec<(String, String, String, String, Option<i32>)> = skill_shares::table
            .select((
                skill_shares::id,
                skill_shares::status,
                skill_shares::session_id,
                skill_shares::title,
                skill_shares::capacity,
            ))
            .order(skill_shares::id)
            .load(conn)
            .unwrap();
        let approval: Vec<bool> =
            cohorts::table.select(cohorts::skill_shares_need_approval).order(cohorts::id).load(conn).unwrap();
        let experiment_rows: Vec<(String, String, String)> = experiments::table
            .select((experiments::id, experiments::title, experiments::state))
            .order(experiments::id)
            .load(conn)
            .unwrap();
        let duties: Vec<(String, Option<String>, bool, Option<chrono::NaiveDateTime>)> = assignments::table
            .select((assignments::id, assignments::user_id, assignments::locked, assignments::confirmed_at))
            .order(assignments::id)
            .load(conn)
            .unwrap();
        let swaps: Vec<(String, String)> = swap_requests::table
            .select((swap_requests::id, swap_requests::state))
            .order(swap_requests::id)
            .load(conn)
            .unwrap();
        let role_names: Vec<(String, String, Option<chrono::NaiveDateTime>)> = duty_roles::table
            .select((duty_roles::id, duty_roles::name, duty_roles::retired_at))
            .order(duty_roles::id)
            .load(conn)
            .unwrap();
        let sessions: Vec<(String, String, String, chrono::NaiveDateTime, String, String)> = sessions::table
            .select((
                sessions::id,
                sessions::title,
                sessions::status,
                sessions::starts_at,
                sessions::agenda,
                sessions::notes,
            ))
            .order(sessions::id)
            .load(conn)
            .unwrap();
        let versions: Vec<(String, String, Option<i32>, String)> = charter_versions::table
            .select((
                charter_versions::id,
                charter_versions::state,
                charter_versions::number,
                charter_versions::mission,
            ))
            .order(charter_versions::id)
            .load(conn)
            .unwrap();
        let users: Vec<(String, String, String)> = users::table
            .select((users::id, users::display_name, users::password_hash))
            .order(users::id)
            .load(conn)
            .unwrap();
        let cohorts: Vec<(String, String, Option<chrono::NaiveDateTime>, Option<i32>)> = cohorts::table
            .select((cohorts::id, cohorts::name, cohorts::archived_at, cohorts::pair_every_sessions))
            .order(cohorts::id)
            .load(conn)
            .unwrap();
        let memberships: Vec<(String, String, String, String)> = memberships::table
            .select((memberships::cohort_id, memberships::user_id, memberships::role, memberships::state))
            .order((memberships::cohort_id, memberships::user_id))
            .load(conn)
            .unwrap();
        let invitations: Vec<(String, String, Option<chrono::NaiveDateTime>)> = invitations::table
            .select((invitations::id, invitations::token_hash, invitations::revoked_at))
            .order(invitations::id)
            .load(conn)
            .unwrap();
        let links: Vec<(String, i32, Option<chrono::NaiveDateTime>)> = invite_links::table
            .select((invite_links::id, invite_links::uses, invite_links::revoked_at))
            .order(invite_links::id)
            .load(conn)
            .unwrap();
        let tokens: Vec<(String, Option<chrono::NaiveDateTime>)> = personal_access_tokens::table
            .select((personal_access_tokens::id, personal_access_tokens::revoked_at))
            .order(personal_access_tokens::id)
            .load(conn)
            .unwrap();
        let hooks: Vec<(String, String, String)> = webhooks::table
            .select((webhooks::id, webhooks::description, webhooks::secret))
            .order(webhooks::id)
            .load(conn)
            .unwrap();
        format!(
            "{hooks:?}{counts:?}{users:?}{cohorts:?}{memberships:?}{invitations:?}{links:?}{tokens:?}{versions:?}{sessions:?}{duties:?}{swaps:?}{role_names:?}{experiment_rows:?}{skill_shares:?}{approval:?}"
        )
    }

    /// Calls the route as `who` and asserts the status, the problem code and that nothing changed.
    async fn denied(&self, call: &Call<'_>, who: &str, token: Option<&str>, status: u16, code: &str) {
        let before = self.fingerprint();
        let response = self.app.send(call.method.clone(), &call.path, token, call.body).await;
        let got = response.status().as_u16();
        let problem: Value = response.json().await.unwrap_or(Value::Null);
        let (method, path) = (&call.method, &call.path);
        assert_eq!((got, problem["code"].as_str().unwrap_or("")), (status, code), "{method} {path} as {who}");
        assert_eq!(self.fingerprint(), before, "{method} {path} as {who} changed something");
    }
}

/// One route with its parameters filled in.
struct Call<'a> {
    method: Method,
    path: String,
    body: Option<&'a Value>,
}

#[tokio::test]
async fn every_route_refuses_strangers_missing_roles_and_missing_scopes() {
    let w = world().await;
    let spec: Value = w.app.get("/api/openapi.json").await.json().await.unwrap();
    let table = table();
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.push((method.clone(), path.clone()));
        }
    }
    for (method, path) in &operations {
        assert!(
            table.iter().any(|(m, p, _, _)| m == method && route_of(p) == route_of(path)),
            "{method} {path} is not in the isolation table: add it with its guard"
        );
    }
    assert_eq!(table.len(), operations.len(), "the table lists routes the server does not have");

    let every_scope = EVERY_SCOPE;
    let all_scopes = w.app.personal_token(&w.organizer.access_token, &every_scope).await;
    let mut lacking_tokens = Vec::new();
    for scope in every_scope {
        let others: Vec<&str> = every_scope.into_iter().filter(|s| *s != scope).collect();
        lacking_tokens.push((scope, w.app.personal_token(&w.organizer.access_token, &others).await));
    }
    let lacking = |scope: &str| lacking_tokens.iter().find(|(s, _)| *s == scope).map(|(_, t)| t.clone()).unwrap();
    let mut checks = 0;
    for (method, template, guard, body) in &table {
        let filled_body = body.as_ref().map(|b| serde_json::from_str::<Value>(&w.substitute(&b.to_string())).unwrap());
        let call = Call {
            method: Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
            path: w.fill(template),
            body: filled_body.as_ref(),
        };
        match *guard {
            Public => continue,
            Own { tokens_ok } => {
                w.denied(&call, "nobody", None, 401, "missing_token").await;
                if !tokens_ok {
                    w.denied(&call, "a personal token", Some(&all_scopes), 403, "sign_in_required").await;
                    checks += 1;
                }
                if template.contains("_id}") {
                    let token = &w.outsider.access_token;
                    w.denied(&call, "another user", Some(token), 404, "not_found").await;
                    checks += 1;
                }
            }
            Scoped { scope } => {
                w.denied(&call, "nobody", None, 401, "missing_token").await;
                w.denied(&call, "a token without the scope", Some(&lacking(scope)), 403, "insufficient_scope").await;
                checks += 1;
            }
            Owned { scope } => {
                w.denied(&call, "nobody", None, 401, "missing_token").await;
                w.denied(&call, "another cohort's member", Some(&w.outsider.access_token), 404, "not_found").await;
                w.denied(&call, "a token without the scope", Some(&lacking(scope)), 403, "insufficient_scope").await;
                w.denied(&call, "a member who is not the owner", Some(&w.member.access_token), 403, "not_owner").await;
                checks += 3;
            }
            Cohort { min_role, scope } => {
                w.denied(&call, "nobody", None, 401, "missing_token").await;
                w.denied(&call, "another cohort's member", Some(&w.outsider.access_token), 404, "not_found").await;
                w.denied(&call, "another cohort's token", Some(&w.outsider_token), 404, "not_found").await;
                w.denied(&call, "a token without the scope", Some(&lacking(scope)), 403, "insufficient_scope").await;
                checks += 3;
                if min_role != "member" {
                    w.denied(&call, "a member without the role", Some(&w.member.access_token), 403, "forbidden").await;
                    checks += 1;
                }
            }
        }
        checks += 1;
    }
    assert!(checks >= 80, "only {checks} checks ran");
}

/// A webhook of `cohort` and one delivered delivery of it, inserted directly.
fn webhook_of(app: &TestApp, cohort: &str) -> (String, String) {
    let conn = &mut app.db();
    let at = app.clock_now().naive_utc();
    let (webhook_id, delivery_id) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::id.eq(&webhook_id),
            webhooks::cohort_id.eq(cohort),
            webhooks::url.eq("https://hooks.example.org/in"),
            webhooks::events.eq("*"),
            webhooks::description.eq(""),
            webhooks::enabled.eq(true),
            webhooks::after_seq.eq(0_i64),
            webhooks::secret.eq("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            webhooks::created_at.eq(at),
            webhooks::updated_at.eq(at),
        ))
        .execute(conn)
        .unwrap();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(&delivery_id),
            webhook_deliveries::webhook_id.eq(&webhook_id),
            webhook_deliveries::event_id.eq("evt"),
            webhook_deliveries::seq.eq(1_i64),
            webhook_deliveries::kind.eq("session.moved"),
            webhook_deliveries::body.eq("{}"),
            webhook_deliveries::status.eq("delivered"),
            webhook_deliveries::attempts.eq(1),
            webhook_deliveries::created_at.eq(at),
        ))
        .execute(conn)
        .unwrap();
    (webhook_id, delivery_id)
}
