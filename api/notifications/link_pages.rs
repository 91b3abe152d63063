//! The pages behind links in mail (`links`): `GET /a/{secret}` shows what the link will do and
//! one button, `POST /a/{secret}` does it as the link's recipient; `GET|POST /unsubscribe/{secret}`
//! for RFC 8058 one-click unsubscribe; `GET /pages.css`, their one stylesheet; and
//! `DELETE /api/v1/me/action-links`, which revokes every link of the caller.
//!
//! The pages are plain HTML served by the binary: no script, nothing from another origin, one
//! small stylesheet, readable on a 360 px phone, and they work without signing in. A GET reads and
//! never writes. A POST runs the same domain function as the JSON API (`rota::routes::confirm`,
//! `rota::swaps::ask_for|accept_request|decline_request`, `sessions::routes::answer_rsvp`,
//! `experiments::routes::add_check_in`, `charter::acceptance::accept_version`,
//! `preferences::set_email`) with a `Caller` for the recipient that holds only the scopes of the
//! action's area, so `cohorts::access::authorize` decides exactly as it does for the API, and the
//! same events are recorded. Every refusal, including an unknown, expired, revoked or used link,
//! is a page in plain words with the fitting 4xx status, never problem+json.

use super::shown::Shown;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::kinds::NotificationKind;
use super::links::{self, LinkAction, LinkRow, Unusable};
use super::preferences;
use crate::auth::Caller;
use crate::cohorts::access::{self, Action};
use crate::db::schema::{charter_versions, swap_requests};
use crate::db::{AnyConnection, CohortId, SessionId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::experiments::model::NewCheckIn;
use crate::http::json::BodyLimit;
use crate::rota::model::{NewSwapRequest, SwapKind, SwapState};
use crate::sessions::model::{RsvpResponse, SessionStatus};
use crate::state::AppState;

/// The pages, outside `/api/v1`.
pub fn pages(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(stylesheet).service(show).service(act).service(show_unsubscribe).service(unsubscribe);
}

/// `DELETE /me/action-links`, inside `/api/v1`.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(revoke_all);
}

const STYLESHEET: &str = "\
:root{color-scheme:light dark;--fg:#1d232a;--bg:#f7f7f4;--card:#fff;--line:#d5d8dc;--accent:#1f5fa8;--muted:#5b6470}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--bg:#16191d;--card:#1f2328;--line:#3a4048;--accent:#7fb0ff;--muted:#a4acb6}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}
main{max-width:34rem;margin:0 auto;padding:1.25rem 1rem 3rem}
.brand{margin:0 0 1rem;font-weight:600;color:var(--muted);letter-spacing:.02em}
h1{font-size:1.4rem;line-height:1.25;margin:0 0 1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:.75rem;padding:1rem;margin:0 0 1rem}
dl{margin:0;display:grid;grid-template-columns:minmax(6rem,auto) 1fr;gap:.35rem .75rem}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
p{margin:0 0 1rem}.note{color:var(--muted)}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
textarea{width:100%;min-height:4.5rem;padding:.5rem;font:inherit;color:inherit;background:var(--card);border:1px solid var(--line);border-radius:.5rem}
button{display:block;width:100%;margin-top:1rem;padding:.8rem 1rem;font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:.6rem;min-height:3rem;cursor:pointer}
@media (prefers-color-scheme:dark){button{color:#0d1117}}
button:focus-visible,textarea:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
ul{padding-left:1.25rem}
";

const CALENDAR_LINK: &str = "This link adds a session to your calendar: open it to download the calendar file.";

/// Pages load nothing but their own stylesheet and post only to themselves.
const PAGE_POLICY: &str =
    "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The stylesheet of the link pages.
#[utoipa::path(
    tag = "links",
    responses((status = 200, description = "The stylesheet", content_type = "text/css", body = String))
)]
#[get("/pages.css")]
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(STYLESHEET)
}

fn esc(text: &str) -> String {
    html_escape::encode_text(text).to_string()
}

/// One page: a title, facts (label, value), paragraphs, and maybe a form.
struct Page {
    status: StatusCode,
    title: String,
    facts: Vec<(&'static str, String)>,
    paragraphs: Vec<String>,
    form: Form,
}

enum Form {
    None,
    /// One button that POSTs to the page itself.
    Button(&'static str),
    /// The check-in form: done, next, blockers.
    CheckIn,
    /// The unsubscribe button (its body is RFC 8058's).
    Unsubscribe,
}

impl Page {
    fn new(status: StatusCode, title: impl Into<String>) -> Self {
        Self { status, title: title.into(), facts: Vec::new(), paragraphs: Vec::new(), form: Form::None }
    }
    fn fact(mut self, label: &'static str, value: impl Into<String>) -> Self {
        self.facts.push((label, value.into()));
        self
    }
    fn say(mut self, text: impl Into<String>) -> Self {
        self.paragraphs.push(text.into());
        self
    }
    fn form(mut self, form: Form) -> Self {
        self.form = form;
        self
    }

    fn html(&self) -> String {
        let mut body = String::new();
        if !self.facts.is_empty() {
            body.push_str("<div class=\"card\"><dl>");
            for (label, value) in &self.facts {
                body.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(label), esc(value)));
            }
            body.push_str("</dl></div>");
        }
        for paragraph in &self.paragraphs {
            body.push_str(&format!("<p>{}</p>", esc(paragraph)));
        }
        match self.form {
            Form::None => {}
            Form::Button(label) => {
                body.push_str(&format!("<form method=\"post\"><button type=\"submit\">{}</button></form>", esc(label)))
            }
            Form::CheckIn => body.push_str(
                "<form method=\"post\">\
<label for=\"done\">What did you do?</label><textarea id=\"done\" name=\"done\" maxlength=\"1000\"></textarea>\
<label for=\"next\">What is next?</label><textarea id=\"next\" name=\"next\" maxlength=\"1000\"></textarea>\
<label for=\"blockers\">What is in your way?</label><textarea id=\"blockers\" name=\"blockers\" maxlength=\"1000\"></textarea>\
<button type=\"submit\">Post my check-in</button></form>",
            ),
            Form::Unsubscribe => body.push_str(
                "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
<button type=\"submit\">Unsubscribe</button></form>",
            ),
        }
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"robots\" content=\"noindex, nofollow\"><title>{title} · Roundtable</title>\
<link rel=\"stylesheet\" href=\"/pages.css\"></head>\
<body><main><p class=\"brand\">Roundtable</p><h1>{title}</h1>{body}</main></body></html>\n",
            title = esc(&self.title),
        )
    }

    fn respond(self) -> HttpResponse {
        HttpResponse::build(self.status)
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_POLICY))
            .body(self.html())
    }
}

/// The page for a link that does not work.
fn unusable_page(why: Unusable) -> Page {
    match why {
        Unusable::Unknown => Page::new(StatusCode::NOT_FOUND, "This link does not work")
            .say("We do not know this link. Check that the whole address from the mail was opened."),
        Unusable::Expired => Page::new(StatusCode::GONE, "This link has expired")
            .say("Links in mail work for a limited time. Open the app, or wait for the next mail."),
        Unusable::Revoked => Page::new(StatusCode::GONE, "This link was revoked")
            .say("You turned off the links in your mails, so this one no longer works. Open the app instead."),
        Unusable::Used => Page::new(StatusCode::GONE, "This link was already used")
            .say("It did what it was for, once. Open the app to do it again."),
    }
}

/// The page for a refusal of the domain (or of `cohorts::access`), in plain words.
fn refusal_page(err: &ApiError) -> Page {
    let status = actix_web::ResponseError::status_code(err);
    match err {
        ApiError::NotFound => Page::new(status, "This is no longer there")
            .say("What this link was about no longer exists, or you are no longer a member of its cohort."),
        ApiError::Forbidden { detail, .. } => Page::new(status, "This link cannot do that").say(detail.clone()),
        ApiError::Conflict { detail, .. } | ApiError::Gone { detail, .. } => {
            Page::new(status, "Nothing was changed").say(detail.clone())
        }
        ApiError::Validation(errors) => {
            let mut page = Page::new(status, "Nothing was changed");
            for error in errors {
                let field = match error.field.as_str() {
                    "body" => "Your check-in".to_string(),
                    other => format!("“{other}”"),
                };
                page = page.say(format!("{field} {}.", error.message));
            }
            page.say("Go back and try again.")
        }
        ApiError::TooManyRequests { .. } | ApiError::ServiceUnavailable { .. } => {
            Page::new(status, "Please try again").say("The server is busy; nothing was changed. Try again in a moment.")
        }
        ApiError::Internal(cause) => {
            tracing::error!(error = ?cause, "unexpected error behind a link in mail");
            Page::new(status, "Something went wrong").say("Nothing was changed. Please try again later.")
        }
        other => Page::new(status, "Nothing was changed").say(other.to_string()),
    }
}

fn page_of(result: ApiResult<Result<Page, Unusable>>) -> HttpResponse {
    match result {
        Ok(Ok(page)) => page,
        Ok(Err(why)) => unusable_page(why),
        Err(err) => refusal_page(&err),
    }
    .respond()
}

/// A time as the recipient reads it: in their own zone, which the page names.
fn when(at: NaiveDateTime, tz: Shown) -> String {
    tz.long(at.and_utc())
}

/// The link with this secret, if it works at `now` on this page (`unsubscribe` or not).
fn open(
    conn: &mut AnyConnection,
    secret: &str,
    wants_unsubscribe: bool,
    now: DateTime<Utc>,
) -> ApiResult<Result<(LinkRow, Caller), Unusable>> {
    let Some(link) = links::find(conn, secret)? else { return Ok(Err(Unusable::Unknown)) };
    if (link.action == LinkAction::Unsubscribe) != wants_unsubscribe {
        return Ok(Err(Unusable::Unknown));
    }
    if let Err(why) = links::usable(&link, now) {
        return Ok(Err(why));
    }
    let Some(user) = crate::accounts::store::find(conn, &link.user_id)? else { return Ok(Err(Unusable::Unknown)) };
    let caller = Caller::for_action_link(user, &link.id, link.action.scopes());
    Ok(Ok((link, caller)))
}

/// What a link is about, read as its recipient may see it (`cohorts::access` decides).
fn describe(conn: &mut AnyConnection, caller: &Caller, link: &LinkRow, now: DateTime<Utc>) -> ApiResult<Page> {
    let tz = Shown::new(caller.user.time_zone.tz(), &caller.user.locale);
    let me = caller.user_id().clone();
    let ok = StatusCode::OK;
    let page = match link.action {
        LinkAction::ConfirmDuty | LinkAction::CantMake => {
            let duty = duty_facts(conn, caller, &link.object_id)?;
            let title = if link.action == LinkAction::ConfirmDuty { "Confirm your duty" } else { "Can't make it?" };
            let mut page = duty.facts(Page::new(ok, title), tz);
            if duty.holder.as_ref() != Some(&me) {
                page = page.say("This duty is no longer yours, so this link cannot act on it.");
            } else if duty.starts_at <= now.naive_utc() || duty.cancelled {
                page = page.say("This session has started or is cancelled; nothing is left to do.");
            } else if link.action == LinkAction::ConfirmDuty {
                page = if duty.confirmed {
                    page.say("You have already confirmed this duty. Confirming again changes nothing.")
                } else {
                    page.say("Confirming tells the cohort you will do it; the rota keeps it with you.")
                };
                page = page.form(Form::Button("Confirm my duty"));
            } else if crate::rota::store::open_cover_exists(conn, &link.object_id, now)? {
                page = page.say("You already asked for cover; the request is open until someone takes it.");
            } else {
                page = page
                    .say("This asks everyone in the cohort to cover this duty for you. It stays yours until someone takes it.")
                    .form(Form::Button("Ask for cover"));
            }
            page
        }
        LinkAction::RsvpYes | LinkAction::RsvpNo => {
            let yes = link.action == LinkAction::RsvpYes;
            let session = session_facts(conn, caller, &link.object_id)?;
            let mut page = session.facts(Page::new(ok, if yes { "Will you come?" } else { "Can't come?" }), tz);
            if session.starts_at <= now.naive_utc() || session.cancelled {
                page = page.say("This session has started or is cancelled; it takes no answers.");
            } else {
                if session.answer == Some(response(link.action)) {
                    page = page.say("You have already given this answer. Answering again changes nothing.");
                } else if !yes {
                    page = page
                        .say("Saying no counts as an absence: a duty you hold in this session goes to someone else.");
                }
                page = page.form(Form::Button(if yes { "Yes, I will come" } else { "No, I cannot come" }));
            }
            page
        }
        LinkAction::CheckIn => {
            let (access, row) =
                crate::experiments::view::find_visible(conn, caller, &link.object_id, Action::ReadExperiments)?;
            let mut page = Page::new(ok, "Check in on your experiment")
                .fact("Cohort", access.cohort.name.clone())
                .fact("Experiment", row.title.clone())
                .fact("It worked if", row.success_signal.clone());
            if row.owner_id != me {
                page = page.say("This experiment is not yours, so this link cannot check in on it.");
            } else if !crate::experiments::lifecycle::is_open(row.state()) {
                page = page.say("This experiment is done or dropped; it takes no more check-ins.");
            } else {
                page = page.say("Say what you did, what is next or what is in your way; any one is enough.");
                page = page.form(Form::CheckIn);
            }
            page
        }
        LinkAction::AcceptCharter => {
            let cohort_id = charter_cohort(conn, &link.object_id)?;
            let access = access::authorize(conn, caller, &cohort_id, Action::ReadCharter)?;
            let version =
                crate::charter::store::find_version(conn, &cohort_id, &link.object_id)?.ok_or(ApiError::NotFound)?;
            let current = crate::charter::store::current(conn, &cohort_id)?;
            let mut page = Page::new(ok, "Accept the charter")
                .fact("Cohort", access.cohort.name.clone())
                .fact("Version", version.number.map_or_else(|| "draft".to_string(), |n| n.to_string()))
                .fact("Mission", short(&version.mission, 400));
            if current.map(|c| c.id) != Some(version.id.clone()) {
                page = page.say("A newer version has been adopted since, so this one can no longer be accepted.");
            } else if let Some(at) = crate::charter::store::acceptance(conn, &version.id, &me)? {
                page = page.say(format!("You accepted this version on {}.", when(at, tz)));
            } else {
                page = page
                    .say("Accepting says you have read this version of the charter and will keep to it.")
                    .form(Form::Button("Accept the charter"));
            }
            page
        }
        LinkAction::TakeCover | LinkAction::AcceptSwap | LinkAction::DeclineSwap => {
            let swap = swap_facts(conn, caller, &link.object_id, now)?;
            let title = match link.action {
                LinkAction::TakeCover => "Take this duty?",
                LinkAction::AcceptSwap => "Swap duties?",
                _ => "Decline this request?",
            };
            let mut page = swap.facts(Page::new(ok, title), tz);
            if swap.state != SwapState::Open {
                page = page.say(format!("This request was {}; nothing is left to answer.", swap.state_words()));
            } else if !swap.asked_of(&me) {
                page = page.say("This request is not asked of you.");
            } else if link.action == LinkAction::DeclineSwap && swap.peer.is_none() {
                page = page.say("A request to anyone is not declined; it stays open until someone takes it.");
            } else {
                let (text, button) = match link.action {
                    LinkAction::TakeCover => ("The duty becomes yours, and it is confirmed.", "Take the duty"),
                    LinkAction::AcceptSwap => {
                        ("You take their duty and they take yours, both confirmed.", "Accept the swap")
                    }
                    _ => ("The duty stays where it is.", "Decline"),
                };
                page = page.say(text).form(Form::Button(button));
            }
            page
        }
        // Its GET downloads the calendar file (`show_now`); this page is never shown.
        LinkAction::AddToCalendar => Page::new(ok, "Add to your calendar").say(CALENDAR_LINK),
        LinkAction::Unsubscribe => {
            let kind = NotificationKind::parse(&link.object_id).ok_or(ApiError::NotFound)?;
            let info = kind.info();
            let mut page = Page::new(ok, "Unsubscribe")
                .fact("Account", caller.user.display_name.clone())
                .fact("Mail about", info.what);
            if info.required {
                page = page.say("This is account mail. It answers something you asked for or protects your account, so it cannot be turned off.");
            } else if !preferences::email_on(conn, &me, kind)? {
                page =
                    page.say("Mail of this kind is already off. Turn it back on in the app's notification settings.");
            } else {
                page = page
                    .say("You will no longer get mail of this kind. Other mail stays as it is.")
                    .form(Form::Unsubscribe);
            }
            page
        }
    };
    Ok(page)
}

fn response(action: LinkAction) -> RsvpResponse {
    if action == LinkAction::RsvpYes { RsvpResponse::Yes } else { RsvpResponse::No }
}

fn short(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A duty with its session and cohort.
struct DutyFacts {
    cohort: String,
    session: String,
    starts_at: NaiveDateTime,
    cancelled: bool,
    role: String,
    holder: Option<UserId>,
    holder_name: Option<String>,
    confirmed: bool,
}

impl DutyFacts {
    fn facts(&self, page: Page, tz: Shown) -> Page {
        let page = page
            .fact("Cohort", self.cohort.clone())
            .fact("Session", self.session.clone())
            .fact("When", when(self.starts_at, tz))
            .fact("Duty", self.role.clone());
        match &self.holder_name {
            Some(name) => page.fact("Held by", name.clone()),
            None => page,
        }
    }
}

fn session_title(title: &str) -> String {
    if title.trim().is_empty() { "(untitled)".to_string() } else { title.to_string() }
}

fn duty_facts(conn: &mut AnyConnection, caller: &Caller, assignment_id: &str) -> ApiResult<DutyFacts> {
    let row = crate::rota::store::find_assignment(conn, assignment_id)?.ok_or(ApiError::NotFound)?;
    let access = access::authorize(conn, caller, &row.cohort_id, Action::ReadRota)?;
    let session = crate::sessions::store::find_session(conn, &row.session_id)?.ok_or(ApiError::NotFound)?;
    let duty = crate::rota::engine::duties(conn, std::slice::from_ref(&row.id))?.pop().ok_or(ApiError::NotFound)?;
    Ok(DutyFacts {
        cohort: access.cohort.name.clone(),
        session: session_title(&session.title),
        starts_at: session.starts_at,
        cancelled: session.status() == SessionStatus::Cancelled,
        role: duty.role,
        holder: duty.user_id,
        holder_name: duty.user.map(|p| p.display_name),
        confirmed: duty.confirmed,
    })
}

/// A session with its cohort and the recipient's answer.
struct SessionFacts {
    cohort: String,
    session: String,
    starts_at: NaiveDateTime,
    cancelled: bool,
    answer: Option<RsvpResponse>,
    note: String,
}

impl SessionFacts {
    fn facts(&self, page: Page, tz: Shown) -> Page {
        let answer = match self.answer {
            Some(r) => r.as_str().to_string(),
            None => "none yet".to_string(),
        };
        page.fact("Cohort", self.cohort.clone())
            .fact("Session", self.session.clone())
            .fact("When", when(self.starts_at, tz))
            .fact("Your answer", answer)
    }
}

fn session_facts(conn: &mut AnyConnection, caller: &Caller, session_id: &str) -> ApiResult<SessionFacts> {
    let id = SessionId::from_untyped(session_id);
    let session = crate::sessions::store::find_session(conn, &id)?.ok_or(ApiError::NotFound)?;
    let access = access::authorize(conn, caller, &session.cohort_id, Action::ReadSessions)?;
    let mine = crate::sessions::store::my_rsvps(conn, std::slice::from_ref(&id), caller.user_id())?.remove(&id);
    Ok(SessionFacts {
        cohort: access.cohort.name.clone(),
        session: session_title(&session.title),
        starts_at: session.starts_at,
        cancelled: session.status() == SessionStatus::Cancelled,
        answer: mine.as_ref().map(|m| m.response),
        note: mine.map(|m| m.note).unwrap_or_default(),
    })
}

/// A swap or cover request with the duties in it.
struct SwapFacts {
    cohort: String,
    kind: SwapKind,
    state: SwapState,
    requester: UserId,
    requester_name: String,
    peer: Option<UserId>,
    decided_by: Option<UserId>,
    duty: DutyFacts,
    theirs: Option<DutyFacts>,
}

impl SwapFacts {
    fn asked_of(&self, me: &UserId) -> bool {
        match &self.peer {
            Some(peer) => peer == me,
            None => self.requester != *me,
        }
    }

    fn state_words(&self) -> &'static str {
        match self.state {
            SwapState::Open => "open",
            SwapState::Accepted => "accepted",
            SwapState::Declined => "declined",
            SwapState::Withdrawn => "withdrawn by whoever asked",
            SwapState::Expired => "not answered in time and has expired",
        }
    }

    fn facts(&self, page: Page, tz: Shown) -> Page {
        let asked = if self.kind == SwapKind::Swap { "Asks to swap" } else { "Asks for cover" };
        let mut page = page
            .fact("Cohort", self.cohort.clone())
            .fact(asked, self.requester_name.clone())
            .fact("Their duty", self.duty.role.clone())
            .fact("Session", self.duty.session.clone())
            .fact("When", when(self.duty.starts_at, tz));
        if let Some(theirs) = &self.theirs {
            page = page
                .fact("Your duty", theirs.role.clone())
                .fact("Your session", theirs.session.clone())
                .fact("Your session is", when(theirs.starts_at, tz));
        }
        page
    }
}

fn swap_facts(conn: &mut AnyConnection, caller: &Caller, swap_id: &str, now: DateTime<Utc>) -> ApiResult<SwapFacts> {
    let swap = crate::rota::store::find_swap(conn, swap_id)?.ok_or(ApiError::NotFound)?;
    let access = access::authorize(conn, caller, &swap.cohort_id, Action::ReadRota)?;
    let (row, _, _, _, _, requester_name, _) = crate::rota::store::swap_view(conn, &swap.cohort_id, swap_id)?;
    let decided_by: Option<UserId> =
        swap_requests::table.find(swap_id).select(swap_requests::decided_by).first(conn)?;
    let duty = duty_facts(conn, caller, &row.assignment_id)?;
    let theirs = match &row.peer_assignment_id {
        Some(id) => Some(duty_facts(conn, caller, id)?),
        None => None,
    };
    Ok(SwapFacts {
        cohort: access.cohort.name.clone(),
        kind: row.kind,
        state: row.state(now),
        requester: row.requester_id.clone(),
        requester_name: requester_name.unwrap_or_else(|| "A former member".to_string()),
        peer: row.peer_id.clone(),
        decided_by,
        duty,
        theirs,
    })
}

fn charter_cohort(conn: &mut AnyConnection, version_id: &str) -> ApiResult<CohortId> {
    charter_versions::table
        .find(version_id)
        .select(charter_versions::cohort_id)
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// What a POST sent: the check-in form's fields, or RFC 8058's `List-Unsubscribe=One-Click`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct LinkForm {
    /// Check-in links: what you did.
    pub done: Option<String>,
    /// Check-in links: what is next.
    pub next: Option<String>,
    /// Check-in links: what is in your way.
    pub blockers: Option<String>,
    /// Unsubscribe links: `One-Click` (RFC 8058); an empty form does the same.
    #[serde(rename = "List-Unsubscribe")]
    pub list_unsubscribe: Option<String>,
}

/// The body, up to the server's body limit (`--max-body-bytes`; 413 beyond, as for JSON).
async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> Result<Vec<u8>, Page> {
    use futures_util::StreamExt;
    let limit = req.app_data::<web::Data<BodyLimit>>().map_or(65_536, |l| l.0);
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            Page::new(StatusCode::BAD_REQUEST, "Nothing was changed").say("The form could not be read.")
        })?;
        if body.len() + chunk.len() > limit {
            return Err(Page::new(StatusCode::PAYLOAD_TOO_LARGE, "Nothing was changed")
                .say(format!("The form is larger than {limit} bytes.")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The form in a POST body; fields it does not know are ignored (RFC 8058 clients send only theirs).
async fn read_form(req: &HttpRequest, payload: web::Payload) -> Result<LinkForm, Page> {
    let body = read_body(req, payload).await?;
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !body.is_empty() && !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(Page::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Nothing was changed")
            .say("This page takes a form (application/x-www-form-urlencoded)."));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| Page::new(StatusCode::BAD_REQUEST, "Nothing was changed").say("The form could not be read."))?;
    let mut form = LinkForm::default();
    for (name, value) in pairs {
        if value.contains('\0') {
            return Err(Page::new(StatusCode::UNPROCESSABLE_ENTITY, "Nothing was changed")
                .say("The form holds a character that cannot be stored."));
        }
        match name.as_str() {
            "done" => form.done = Some(value),
            "next" => form.next = Some(value),
            "blockers" => form.blockers = Some(value),
            "List-Unsubscribe" => form.list_unsubscribe = Some(value),
            _ => {}
        }
    }
    Ok(form)
}

/// Does what the link is for, as its recipient, and says what happened.
fn perform(
    conn: &mut AnyConnection,
    caller: &Caller,
    link: &LinkRow,
    form: &LinkForm,
    now: DateTime<Utc>,
) -> ApiResult<Page> {
    let tz = Shown::new(caller.user.time_zone.tz(), &caller.user.locale);
    let me = caller.user_id().clone();
    let id = link.object_id.as_str();
    let page = match link.action {
        LinkAction::ConfirmDuty => {
            let before = duty_facts(conn, caller, id)?;
            let duty = crate::rota::routes::confirm(conn, caller, id, now)?;
            let already = before.confirmed && before.holder.as_ref() == Some(&me);
            let page = duty_facts(conn, caller, &duty.id)?.facts(Page::new(StatusCode::OK, "Duty confirmed"), tz);
            if already {
                page.say("You had already confirmed this duty; nothing changed.")
            } else {
                page.say("Thank you: the cohort knows you will do it, and the rota keeps it with you.")
            }
        }
        LinkAction::CantMake => {
            let before = duty_facts(conn, caller, id)?;
            if before.holder.as_ref() == Some(&me) && crate::rota::store::open_cover_exists(conn, id, now)? {
                before
                    .facts(Page::new(StatusCode::OK, "Cover already asked"), tz)
                    .say("You already asked for cover; the request is open until someone takes it.")
            } else {
                let ask = NewSwapRequest { kind: Some(SwapKind::Cover), ..NewSwapRequest::default() };
                crate::rota::swaps::ask_for(conn, caller, id, SwapKind::Cover, &ask, now)?;
                before.facts(Page::new(StatusCode::CREATED, "Cover asked"), tz).say(
                    "Everyone in the cohort who could take it is asked to cover your duty. It stays yours until someone does.",
                )
            }
        }
        LinkAction::RsvpYes | LinkAction::RsvpNo => {
            let answer = response(link.action);
            let before = session_facts(conn, caller, id)?;
            let session_id = SessionId::from_untyped(id);
            crate::sessions::routes::answer_rsvp(conn, caller, &session_id, answer, &before.note, now)?;
            let title = if answer == RsvpResponse::Yes { "You are coming" } else { "You are not coming" };
            let page = session_facts(conn, caller, id)?.facts(Page::new(StatusCode::OK, title), tz);
            if before.answer == Some(answer) {
                page.say("That was already your answer; nothing changed.")
            } else {
                page.say("Your answer is saved. You can change it from the app or another mail.")
            }
        }
        LinkAction::CheckIn => {
            let body = crate::experiments::routes::checked_check_in(NewCheckIn {
                done: form.done.clone().filter(|t| !t.trim().is_empty()),
                next: form.next.clone().filter(|t| !t.trim().is_empty()),
                blockers: form.blockers.clone().filter(|t| !t.trim().is_empty()),
                value: None,
            })?;
            crate::experiments::routes::add_check_in(conn, caller, id, &body, now)?;
            Page::new(StatusCode::CREATED, "Check-in posted")
                .say("Thank you. Your check-in is on your experiment; your buddy and cohort see it as the experiment allows.")
        }
        LinkAction::AcceptCharter => {
            let cohort_id = charter_cohort(conn, id)?;
            let (created, _) = crate::charter::acceptance::accept_version(conn, caller, &cohort_id, id, now)?;
            if created {
                Page::new(StatusCode::CREATED, "Charter accepted").say("Thank you: your acceptance is recorded.")
            } else {
                Page::new(StatusCode::OK, "Charter accepted")
                    .say("You had already accepted this version; nothing changed.")
            }
        }
        LinkAction::TakeCover | LinkAction::AcceptSwap | LinkAction::DeclineSwap => {
            let accept = link.action != LinkAction::DeclineSwap;
            let before = swap_facts(conn, caller, id, now)?;
            let wanted = if accept { SwapState::Accepted } else { SwapState::Declined };
            let title = match link.action {
                LinkAction::TakeCover => "The duty is yours",
                LinkAction::AcceptSwap => "Duties swapped",
                _ => "Request declined",
            };
            if before.state == wanted && before.decided_by.as_ref() == Some(&me) {
                before
                    .facts(Page::new(StatusCode::OK, title), tz)
                    .say("You had already answered this; nothing changed.")
            } else {
                if accept {
                    crate::rota::swaps::accept_request(conn, caller, id, now)?;
                } else {
                    crate::rota::swaps::decline_request(conn, caller, id, now)?;
                }
                let done = if accept {
                    "Done: the duties are moved and confirmed, and the one who asked is told."
                } else {
                    "Done: the duty stays where it was, and the one who asked is told."
                };
                before.facts(Page::new(StatusCode::OK, title), tz).say(done)
            }
        }
        LinkAction::AddToCalendar => Page::new(StatusCode::OK, "Nothing to do").say(CALENDAR_LINK),
        LinkAction::Unsubscribe => {
            let kind = NotificationKind::parse(id).ok_or(ApiError::NotFound)?;
            let info = kind.info();
            let page = Page::new(StatusCode::OK, "Unsubscribed").fact("Mail about", info.what);
            if !info.required && !preferences::email_on(conn, &me, kind)? {
                page.say("Mail of this kind was already off; nothing changed.")
            } else {
                preferences::set_email(conn, &me, kind, false, now)?;
                page.say(
                    "You will no longer get mail of this kind. Turn it back on in the app's notification settings.",
                )
            }
        }
    };
    Ok(page)
}

fn act_now(
    state: &AppState,
    secret: String,
    wants_unsubscribe: bool,
    form: LinkForm,
) -> impl Future<Output = HttpResponse> {
    let now = state.now();
    let db = state.db.clone();
    async move {
        let result = db
            .write(move |conn| {
                let (link, caller) = match open(conn, &secret, wants_unsubscribe, now)? {
                    Ok(found) => found,
                    Err(why) => return Ok(Err(why)),
                };
                // Claimed first: of two posts of a single-use link, one acts. A refusal below
                // rolls the claim back with everything else.
                if !links::mark_used(conn, &link, now)? {
                    return Ok(Err(Unusable::Used));
                }
                perform(conn, &caller, &link, &form, now).map(Ok)
            })
            .await;
        page_of(result)
    }
}

/// What a link's GET answers: a page, or for `AddToCalendar` the session's calendar file.
enum GetAnswer {
    Page(Page),
    Calendar { title: String, body: String },
}

fn show_now(state: &AppState, secret: String, wants_unsubscribe: bool) -> impl Future<Output = HttpResponse> {
    let now = state.now();
    let db = state.db.clone();
    let base_url = state.base_url.clone();
    async move {
        let result = db
            .read(move |conn| {
                let (link, caller) = match open(conn, &secret, wants_unsubscribe, now)? {
                    Ok(found) => found,
                    Err(why) => return Ok(Err(why)),
                };
                if link.action == LinkAction::AddToCalendar {
                    let session_id = SessionId::from_untyped(&link.object_id);
                    let (title, body) = crate::feeds::routes::session_file(conn, &caller, &session_id, &base_url)?;
                    return Ok(Ok(GetAnswer::Calendar { title, body }));
                }
                describe(conn, &caller, &link, now).map(|page| Ok(GetAnswer::Page(page)))
            })
            .await;
        match result {
            Ok(Ok(GetAnswer::Calendar { title, body })) => crate::feeds::routes::session_file_response(&title, body),
            Ok(Ok(GetAnswer::Page(page))) => page.respond(),
            Ok(Err(why)) => unusable_page(why).respond(),
            Err(err) => refusal_page(&err).respond(),
        }
    }
}

/// The page of a link in mail: what it will do, for whom, in which cohort, session and role (times
/// in the recipient's zone), with one button (a small form for check-ins). It changes nothing.
/// An "Add it to my calendar" link answers the session's calendar file instead (`text/calendar`,
/// as `GET /sessions/{id}/calendar.ics` would for its recipient).
/// Unknown link: 404; expired, revoked or used up: 410; no longer a member: 404; each a page.
#[utoipa::path(
    tag = "links",
    params(("secret" = String, Path, description = "The link's secret, as in the mail")),
    responses(
        (status = 200, description = "What the link will do (an \"Add it to my calendar\" link: the session's calendar file)",
            content((String = "text/html"), (String = "text/calendar"))),
        (status = 404, description = "Unknown link, or its object is gone", content_type = "text/html", body = String),
        (status = 410, description = "Expired, revoked or used", content_type = "text/html", body = String),
    )
)]
#[get("/a/{secret}")]
pub async fn show(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    show_now(&state, path.into_inner(), false).await
}

/// Does what the link is for, as its recipient, with the same checks and events as the JSON API,
/// and answers a page saying what was done, or why not (the domain's 4xx, in plain words).
#[utoipa::path(
    tag = "links",
    params(("secret" = String, Path, description = "The link's secret, as in the mail")),
    request_body(content = LinkForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Done (or it was done already)", content_type = "text/html", body = String),
        (status = 201, description = "Done: something was created (cover asked, check-in, acceptance)", content_type = "text/html", body = String),
        (status = 403, description = "The recipient may not do this", content_type = "text/html", body = String),
        (status = 404, description = "Unknown link, or its object is gone", content_type = "text/html", body = String),
        (status = 409, description = "The domain refused (e.g. the swap was withdrawn)", content_type = "text/html", body = String),
        (status = 410, description = "Expired, revoked or used", content_type = "text/html", body = String),
        (status = 422, description = "The check-in form was empty or too long", content_type = "text/html", body = String),
    )
)]
#[post("/a/{secret}")]
pub async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    match read_form(&req, payload).await {
        Ok(form) => act_now(&state, path.into_inner(), false, form).await,
        Err(page) => page.respond(),
    }
}

/// The page of an unsubscribe link (RFC 8058's `List-Unsubscribe` URL): which mail it turns off,
/// with one button. It changes nothing.
#[utoipa::path(
    tag = "links",
    params(("secret" = String, Path, description = "The link's secret, as in the mail")),
    responses(
        (status = 200, description = "What unsubscribing turns off", content_type = "text/html", body = String),
        (status = 404, description = "Unknown link", content_type = "text/html", body = String),
        (status = 410, description = "Expired or revoked", content_type = "text/html", body = String),
    )
)]
#[get("/unsubscribe/{secret}")]
pub async fn show_unsubscribe(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    show_now(&state, path.into_inner(), true).await
}

/// RFC 8058 one-click unsubscribe: `List-Unsubscribe=One-Click` (or the page's own empty form)
/// turns mail of the link's kind off for its recipient, as `PUT /me/notification-preferences`
/// would (the same upsert and event). No sign-in. Account mail cannot be turned off (422).
#[utoipa::path(
    tag = "links",
    params(("secret" = String, Path, description = "The link's secret, as in the mail")),
    request_body(content = LinkForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Unsubscribed (or it was off already)", content_type = "text/html", body = String),
        (status = 404, description = "Unknown link", content_type = "text/html", body = String),
        (status = 410, description = "Expired or revoked", content_type = "text/html", body = String),
        (status = 422, description = "Account mail, which cannot be turned off", content_type = "text/html", body = String),
    )
)]
#[post("/unsubscribe/{secret}")]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    match read_form(&req, payload).await {
        Ok(form) => act_now(&state, path.into_inner(), true, form).await,
        Err(page) => page.respond(),
    }
}

/// Revoke every link in every mail you were sent (signed in, not with a personal token): their
/// pages say so from then on. Mails sent later carry new links.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    responses((status = 204, description = "Revoked"))
)]
#[delete("/me/action-links")]
pub async fn revoke_all(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_sign_in()?;
    let (user_id, now) = (caller.user.id.clone(), state.now());
    state.db.write(move |conn| links::revoke_all(conn, &user_id, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}
