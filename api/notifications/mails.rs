//! The notification mails. Each is rendered when it is sent, from what the database says then,
//! after one more check that it is still called for (the session still at that time, the duty
//! still the recipient's and unconfirmed, the charter still not accepted ...): a reminder that
//! no longer applies is skipped with its reason instead of sent.
//!
//! Every mail carries what a member who never opens the app needs: what and when, in the
//! recipient's own time zone, where, their duty, and links that act (`links`: each opens a page
//! with one button that POSTs). Plain text and HTML say the same; everything user-supplied is
//! escaped in the HTML part. `List-Id` names the cohort's list, and `List-Unsubscribe` turns this
//! kind off in one click (RFC 8058). Wording is English for every locale for now.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use html_escape::{encode_double_quoted_attribute as attr, encode_text};

use super::engine::{charter_waits_for, is_active_member};
use super::kinds::NotificationKind as K;
use super::links::{self, LinkAction};
use super::shown::Shown;
use super::store::Due;
use crate::db::schema::{
    assignments, cohorts, duty_roles, session_rsvps, sessions, skill_share_signups, skill_shares, swap_requests, users,
};
use crate::db::{AnyConnection, CohortId, SessionId, UserId};
use crate::error::ApiResult;
use crate::mail::{ListHeaders, OutgoingMail};
use crate::sessions::model::SessionStatus;

/// Why a due notification was not sent.
pub type Skip = &'static str;

/// The recipient as a mail needs them.
struct To {
    id: UserId,
    email: String,
    name: String,
    /// Their zone and their locale's clock (`shown`).
    zone: Shown,
}

/// One link that acts, with its label.
struct Action {
    label: String,
    url: String,
}

/// What one mail says.
struct Body {
    subject: String,
    lines: Vec<String>,
    actions: Vec<Action>,
    /// Where to read more in the app.
    open: Option<String>,
}

/// The session as mails tell it.
struct SessionInfo {
    id: SessionId,
    title: String,
    location: String,
    starts_at: DateTime<Utc>,
    status: SessionStatus,
}

fn session(conn: &mut AnyConnection, id: &str) -> ApiResult<Option<SessionInfo>> {
    let found: Option<(SessionId, String, String, NaiveDateTime, SessionStatus)> = sessions::table
        .find(id)
        .select((sessions::id, sessions::title, sessions::location, sessions::starts_at, sessions::status))
        .first(conn)
        .optional()?;
    Ok(found.map(|(id, title, location, starts_at, status)| SessionInfo {
        id,
        title,
        location,
        starts_at: starts_at.and_utc(),
        status,
    }))
}

/// The recipient's duty in a session: (assignment, role, confirmed).
fn duty_in(
    conn: &mut AnyConnection,
    session_id: &SessionId,
    user: &UserId,
) -> ApiResult<Option<(String, String, bool)>> {
    let found: Option<(String, String, Option<NaiveDateTime>)> = assignments::table
        .inner_join(duty_roles::table.on(duty_roles::id.eq(assignments::role_id)))
        .filter(assignments::session_id.eq(session_id))
        .filter(assignments::user_id.eq(user))
        .select((assignments::id, duty_roles::name, assignments::confirmed_at))
        .first(conn)
        .optional()?;
    Ok(found.map(|(id, role, confirmed)| (id, role, confirmed.is_some())))
}

/// A duty: (session, role, holder, confirmed).
type Duty = (SessionId, String, Option<UserId>, bool);

fn duty(conn: &mut AnyConnection, assignment_id: &str) -> ApiResult<Option<Duty>> {
    let found: Option<(SessionId, String, Option<UserId>, Option<NaiveDateTime>)> = assignments::table
        .inner_join(duty_roles::table.on(duty_roles::id.eq(assignments::role_id)))
        .filter(assignments::id.eq(assignment_id))
        .select((assignments::session_id, duty_roles::name, assignments::user_id, assignments::confirmed_at))
        .first(conn)
        .optional()?;
    Ok(found.map(|(s, role, holder, confirmed)| (s, role, holder, confirmed.is_some())))
}

fn said_no(conn: &mut AnyConnection, session_id: &SessionId, user: &UserId) -> ApiResult<bool> {
    let answer: Option<String> =
        session_rsvps::table.find((session_id, user)).select(session_rsvps::response).first(conn).optional()?;
    Ok(answer.as_deref() == Some("no"))
}

fn name_of(conn: &mut AnyConnection, user: &str) -> ApiResult<String> {
    Ok(users::table
        .find(user)
        .select(users::display_name)
        .first(conn)
        .optional()?
        .unwrap_or_else(|| "Someone".to_string()))
}

fn recipient(conn: &mut AnyConnection, user_id: &UserId) -> ApiResult<Option<To>> {
    let found: Option<(UserId, String, String, String, String)> = users::table
        .find(user_id)
        .select((users::id, users::email, users::display_name, users::time_zone, users::locale))
        .first(conn)
        .optional()?;
    Ok(found.map(|(id, email, name, zone, locale)| To { id, email, name, zone: Shown::parse(&zone, &locale) }))
}

/// What one notification says, before it becomes a mail of its own or a part of a digest.
struct Part {
    cohort_id: CohortId,
    cohort_name: String,
    body: Body,
}

/// Renders the mail of a due notification, or says why it is no longer called for.
pub fn render(
    conn: &mut AnyConnection,
    due: &Due,
    base_url: &str,
    now: DateTime<Utc>,
) -> ApiResult<Result<OutgoingMail, Skip>> {
    let Some(to) = recipient(conn, &due.user_id)? else { return Ok(Err("the account is gone")) };
    let part = match part(conn, &to, due, base_url, now)? {
        Ok(part) => part,
        Err(skip) => return Ok(Err(skip)),
    };
    let unsubscribe = links::issue(conn, base_url, &to.id, LinkAction::Unsubscribe, due.kind.as_str(), now)?;
    let mut mail = compose(due.kind, &to, &part.cohort_id, &part.cohort_name, base_url, part.body, unsubscribe);
    // A reminder of something that has begun is no use: not sent after it starts.
    if matches!(due.kind, K::SessionSoon | K::DutySoon | K::SkillshareSoon | K::ExperimentDue) {
        mail.expires_at = due.occurs_at.map(|t| t.and_utc());
    }
    Ok(Ok(mail))
}

fn part(
    conn: &mut AnyConnection,
    to: &To,
    due: &Due,
    base_url: &str,
    now: DateTime<Utc>,
) -> ApiResult<Result<Part, Skip>> {
    let Some(cohort_id) = due.cohort_id.clone() else { return Ok(Err("not about a cohort")) };
    if !is_active_member(conn, &cohort_id, &to.id)? {
        return Ok(Err("no longer an active member of the cohort"));
    }
    let cohort_name: String = cohorts::table.find(&cohort_id).select(cohorts::name).first(conn)?;
    let data: serde_json::Value = serde_json::from_str(&due.data).unwrap_or_default();
    let link = |conn: &mut AnyConnection, action: LinkAction, object: &str, label: String| -> ApiResult<Action> {
        Ok(Action { label, url: links::issue(conn, base_url, &to.id, action, object, now)? })
    };
    let app = |path: String| format!("{base_url}/app/{path}");
    let occurs_at = due.occurs_at.map(|t| t.and_utc());

    let body = match due.kind {
        K::SessionSoon | K::DutySoon => {
            let Some(s) = session(conn, &due.subject_id)? else { return Ok(Err("the session is gone")) };
            if s.status == SessionStatus::Cancelled {
                return Ok(Err("the session was cancelled"));
            }
            if Some(s.starts_at) != occurs_at {
                return Ok(Err("the session moved"));
            }
            if s.starts_at <= now {
                return Ok(Err("the session has started"));
            }
            let my_duty = duty_in(conn, &s.id, &to.id)?;
            if due.kind == K::SessionSoon && said_no(conn, &s.id, &to.id)? {
                return Ok(Err("the member said they will not come"));
            }
            if due.kind == K::DutySoon && my_duty.as_ref().is_none_or(|(_, _, confirmed)| *confirmed) {
                return Ok(Err("the duty is confirmed or no longer theirs"));
            }
            let mut lines = vec![format!("{} of {cohort_name}: {}.", s.title, to.zone.when(s.starts_at))];
            if !s.location.is_empty() {
                lines.push(format!("Where: {}", s.location));
            }
            let mut actions = Vec::new();
            if let Some((assignment, role, confirmed)) = &my_duty {
                lines.push(format!(
                    "You are {role} in this session{}.",
                    if *confirmed { " (confirmed)" } else { "; please confirm you can do it" }
                ));
                if !confirmed {
                    actions.push(link(conn, LinkAction::ConfirmDuty, assignment, format!("Confirm I'll be {role}"))?);
                }
                actions.push(link(conn, LinkAction::CantMake, assignment, "I can't make it: ask for cover".into())?);
            }
            if due.kind == K::SessionSoon {
                actions.push(link(conn, LinkAction::RsvpYes, s.id.as_str(), "I'll be there".into())?);
                actions.push(link(conn, LinkAction::RsvpNo, s.id.as_str(), "I can't come".into())?);
            }
            actions.push(link(conn, LinkAction::AddToCalendar, s.id.as_str(), "Add it to my calendar".into())?);
            let subject = match (due.kind, &my_duty) {
                (K::DutySoon, Some((_, role, _))) => {
                    format!("You are {role}: {} on {}", s.title, to.zone.short(s.starts_at))
                }
                _ => format!("Reminder: {} on {}", s.title, to.zone.short(s.starts_at)),
            };
            Body { subject, lines, actions, open: Some(app(format!("sessions/{}", s.id))) }
        }
        K::SkillshareSoon => {
            let slot: Option<(String, UserId, String, SessionId)> = skill_shares::table
                .find(&due.subject_id)
                .select((
                    skill_shares::title,
                    skill_shares::presenter_id,
                    skill_shares::status,
                    skill_shares::session_id,
                ))
                .first(conn)
                .optional()?;
            let Some((title, presenter, status, session_id)) = slot else { return Ok(Err("the skill share is gone")) };
            if presenter != to.id || status != "approved" {
                return Ok(Err("the skill share is no longer on the agenda"));
            }
            let Some(s) = session(conn, session_id.as_str())? else { return Ok(Err("the session is gone")) };
            if Some(s.starts_at) != occurs_at || s.status == SessionStatus::Cancelled {
                return Ok(Err("the session moved or was cancelled"));
            }
            let attending: i64 = skill_share_signups::table
                .filter(skill_share_signups::skill_share_id.eq(&due.subject_id))
                .filter(skill_share_signups::status.eq("attending"))
                .count()
                .get_result(conn)?;
            Body {
                subject: format!("Your skill share \"{title}\" is on {}", to.zone.short(s.starts_at)),
                lines: vec![
                    format!("You present \"{title}\" in {} of {cohort_name}: {}.", s.title, to.zone.when(s.starts_at)),
                    format!("{attending} signed up so far."),
                ],
                actions: Vec::new(),
                open: Some(app(format!("sessions/{}", s.id))),
            }
        }
        K::DutyChanged => {
            let Some((session_id, role, holder, confirmed)) = duty(conn, &due.subject_id)? else {
                return Ok(Err("the duty is gone"));
            };
            let Some(s) = session(conn, session_id.as_str())? else { return Ok(Err("the session is gone")) };
            if s.starts_at <= now || s.status == SessionStatus::Cancelled {
                return Ok(Err("the session has started or was cancelled"));
            }
            let given = data["change"] == "given";
            let holds = holder.as_ref() == Some(&to.id);
            if given != holds {
                return Ok(Err("the duty changed again"));
            }
            let mut actions = Vec::new();
            let (subject, line) = if given {
                if !confirmed {
                    actions.push(link(
                        conn,
                        LinkAction::ConfirmDuty,
                        &due.subject_id,
                        format!("Confirm I'll be {role}"),
                    )?);
                }
                actions.push(link(
                    conn,
                    LinkAction::CantMake,
                    &due.subject_id,
                    "I can't make it: ask for cover".into(),
                )?);
                (
                    format!("You are {role} on {}", to.zone.short(s.starts_at)),
                    format!("You are now {role} in {} of {cohort_name}: {}.", s.title, to.zone.when(s.starts_at)),
                )
            } else {
                (
                    format!("You are no longer {role} on {}", to.zone.short(s.starts_at)),
                    format!(
                        "You are no longer {role} in {} of {cohort_name} ({}).",
                        s.title,
                        to.zone.when(s.starts_at)
                    ),
                )
            };
            Body { subject, lines: vec![line], actions, open: Some(app(format!("sessions/{}", s.id))) }
        }
        K::SwapAsked | K::CoverNeeded => {
            let ask: Option<(String, String, String, Option<UserId>, String, NaiveDateTime)> = swap_requests::table
                .find(&due.subject_id)
                .select((
                    swap_requests::kind,
                    swap_requests::state,
                    swap_requests::requester_id,
                    swap_requests::peer_id,
                    swap_requests::assignment_id,
                    swap_requests::expires_at,
                ))
                .first(conn)
                .optional()?;
            let Some((ask_kind, state, requester, peer, assignment_id, expires_at)) = ask else {
                return Ok(Err("the request is gone"));
            };
            if state != "open" || expires_at.and_utc() <= now {
                return Ok(Err("the request was answered, withdrawn or expired"));
            }
            if due.kind == K::SwapAsked && peer.as_ref() != Some(&to.id) {
                return Ok(Err("the request is no longer for this member"));
            }
            let Some((session_id, role, _, _)) = duty(conn, &assignment_id)? else {
                return Ok(Err("the duty is gone"));
            };
            let Some(s) = session(conn, session_id.as_str())? else { return Ok(Err("the session is gone")) };
            if due.kind == K::CoverNeeded && duty_in(conn, &s.id, &to.id)?.is_some() {
                return Ok(Err("the member is on duty in that session already"));
            }
            let who = name_of(conn, &requester)?;
            let at = to.zone.when(s.starts_at);
            let cover = ask_kind == "cover";
            let (subject, line, actions) = match (due.kind, cover) {
                (K::CoverNeeded, _) => (
                    format!("Cover needed: {role} on {}", to.zone.short(s.starts_at)),
                    format!("{who} can't be {role} in {} of {cohort_name} ({at}). Could you take it?", s.title),
                    vec![link(conn, LinkAction::TakeCover, &due.subject_id, format!("I'll be {role}"))?],
                ),
                (_, true) => (
                    format!("{who} asks you to cover {role} on {}", to.zone.short(s.starts_at)),
                    format!("{who} asks you to be {role} in their place in {} of {cohort_name} ({at}).", s.title),
                    vec![
                        link(conn, LinkAction::TakeCover, &due.subject_id, format!("Yes, I'll be {role}"))?,
                        link(conn, LinkAction::DeclineSwap, &due.subject_id, "No, I can't".into())?,
                    ],
                ),
                _ => (
                    format!("{who} asks to swap duties with you ({role} on {})", to.zone.short(s.starts_at)),
                    format!("{who} asks to swap: they are {role} in {} of {cohort_name} ({at}).", s.title),
                    vec![
                        link(conn, LinkAction::AcceptSwap, &due.subject_id, "Accept the swap".into())?,
                        link(conn, LinkAction::DeclineSwap, &due.subject_id, "Decline".into())?,
                    ],
                ),
            };
            Body { subject, lines: vec![line], actions, open: Some(app(format!("sessions/{}", s.id))) }
        }
        K::SwapAnswered => {
            let assignment_id: Option<String> = swap_requests::table
                .find(&due.subject_id)
                .select(swap_requests::assignment_id)
                .first(conn)
                .optional()?;
            let Some(assignment_id) = assignment_id else { return Ok(Err("the request is gone")) };
            let Some((session_id, role, _, _)) = duty(conn, &assignment_id)? else {
                return Ok(Err("the duty is gone"));
            };
            let Some(s) = session(conn, session_id.as_str())? else { return Ok(Err("the session is gone")) };
            let by = match data["by"].as_str() {
                Some(user) => name_of(conn, user)?,
                None => "Someone".to_string(),
            };
            let answer = data["answer"].as_str().unwrap_or("answered");
            Body {
                subject: format!("{by} {answer} your request ({role} on {})", to.zone.short(s.starts_at)),
                lines: vec![format!(
                    "{by} {answer} your request about {role} in {} of {cohort_name} ({}).",
                    s.title,
                    to.zone.when(s.starts_at)
                )],
                actions: Vec::new(),
                open: Some(app(format!("sessions/{}", s.id))),
            }
        }
        K::SessionChanged => {
            let Some(s) = session(conn, &due.subject_id)? else { return Ok(Err("the session is gone")) };
            let earlier = data["previous_starts_at"].as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok());
            let (subject, mut lines) = match data["change"].as_str() {
                Some("cancelled") => (
                    format!("Cancelled: {} on {}", s.title, to.zone.short(s.starts_at)),
                    vec![format!("{} of {cohort_name} on {} is cancelled.", s.title, to.zone.when(s.starts_at))],
                ),
                Some("reinstated") => (
                    format!("On again: {} on {}", s.title, to.zone.short(s.starts_at)),
                    vec![format!("{} of {cohort_name} takes place after all: {}.", s.title, to.zone.when(s.starts_at))],
                ),
                _ => (
                    format!("Moved: {} is now on {}", s.title, to.zone.short(s.starts_at)),
                    vec![match earlier {
                        Some(t) => format!(
                            "{} of {cohort_name} moved from {} to {}.",
                            s.title,
                            to.zone.when(t),
                            to.zone.when(s.starts_at)
                        ),
                        None => format!("{} of {cohort_name} is now on {}.", s.title, to.zone.when(s.starts_at)),
                    }],
                ),
            };
            let mut actions = Vec::new();
            if s.status != SessionStatus::Cancelled && s.starts_at > now {
                if !s.location.is_empty() {
                    lines.push(format!("Where: {}", s.location));
                }
                actions.push(link(conn, LinkAction::RsvpYes, s.id.as_str(), "I'll be there".into())?);
                actions.push(link(conn, LinkAction::RsvpNo, s.id.as_str(), "I can't come".into())?);
            }
            actions.push(link(conn, LinkAction::AddToCalendar, s.id.as_str(), "Add it to my calendar".into())?);
            Body { subject, lines, actions, open: Some(app(format!("sessions/{}", s.id))) }
        }
        K::CharterToAccept => {
            if !charter_waits_for(conn, &due.subject_id, &to.id)? {
                return Ok(Err("the charter was accepted or is no longer current"));
            }
            let number = data["number"].as_i64().map(|n| format!(" (version {n})")).unwrap_or_default();
            let repeat = data["repeat"].as_bool() == Some(true);
            Body {
                subject: if repeat {
                    format!("A gentle reminder: {cohort_name}'s charter waits for you")
                } else {
                    format!("{cohort_name} adopted its charter{number}: please read and accept it")
                },
                lines: vec![format!(
                    "{cohort_name} adopted its charter{number}. Every member accepts it: read it, then accept it if it works for you."
                )],
                actions: vec![link(conn, LinkAction::AcceptCharter, &due.subject_id, "Accept the charter".into())?],
                open: Some(app(format!("cohorts/{cohort_id}/charter"))),
            }
        }
        K::CharterReviewDue => Body {
            subject: format!("{cohort_name}'s charter is due for review"),
            lines: vec![format!(
                "The charter of {cohort_name} is due for review on {}. Review it with the cohort: keep it, or propose a change.",
                data["due_on"].as_str().unwrap_or("now")
            )],
            actions: Vec::new(),
            open: Some(app(format!("cohorts/{cohort_id}/charter"))),
        },
        K::SkillsharePromoted => {
            let place: Option<(String, String, SessionId)> = skill_share_signups::table
                .inner_join(skill_shares::table.on(skill_shares::id.eq(skill_share_signups::skill_share_id)))
                .filter(skill_share_signups::skill_share_id.eq(&due.subject_id))
                .filter(skill_share_signups::user_id.eq(&to.id))
                .select((skill_share_signups::status, skill_shares::title, skill_shares::session_id))
                .first(conn)
                .optional()?;
            let Some((status, title, session_id)) = place else { return Ok(Err("the place was given up")) };
            if status != "attending" {
                return Ok(Err("the member is not attending"));
            }
            let Some(s) = session(conn, session_id.as_str())? else { return Ok(Err("the session is gone")) };
            Body {
                subject: format!("You have a place in \"{title}\""),
                lines: vec![format!(
                    "A place freed up in the skill share \"{title}\" in {} of {cohort_name} ({}), and it is yours.",
                    s.title,
                    to.zone.when(s.starts_at)
                )],
                actions: Vec::new(),
                open: Some(app(format!("sessions/{}", s.id))),
            }
        }
        K::CheckinDue | K::ExperimentDue => {
            use crate::db::schema::{experiment_check_ins as checkins, experiments as e};
            let found: Option<(String, UserId, String, NaiveDateTime)> = e::table
                .find(&due.subject_id)
                .select((e::title, e::owner_id, e::state, e::created_at))
                .first(conn)
                .optional()?;
            let Some((title, owner, state, created_at)) = found else { return Ok(Err("the experiment is gone")) };
            if owner != to.id || !matches!(state.as_str(), "committed" | "in_progress") {
                return Ok(Err("the experiment is closed"));
            }
            let last: Option<NaiveDateTime> = checkins::table
                .filter(checkins::experiment_id.eq(&due.subject_id))
                .select(diesel::dsl::max(checkins::created_at))
                .first(conn)?;
            let last = last.unwrap_or(created_at).and_utc();
            let open = Some(app(format!("experiments/{}", due.subject_id)));
            if due.kind == K::CheckinDue {
                // The reminder was planned for the stretch that began at `occurs_at - QUIET_DAYS`.
                let stretch = occurs_at.map(|t| t - chrono::Duration::days(super::plan::QUIET_DAYS));
                if stretch.is_some_and(|began| last > began) {
                    return Ok(Err("the member checked in since"));
                }
                let date = to.zone.day(last);
                Body {
                    subject: format!("Check in on \"{title}\"?"),
                    lines: vec![
                        format!("Your experiment \"{title}\" in {cohort_name} has had no check-in since {date}."),
                        "A check-in takes thirty seconds: what you did, what is next, what is in the way.".into(),
                    ],
                    actions: vec![link(conn, LinkAction::CheckIn, &due.subject_id, "Check in now".into())?],
                    open,
                }
            } else {
                let Some(at) = occurs_at else { return Ok(Err("the experiment has no due time")) };
                Body {
                    subject: format!("\"{title}\" is due {}", to.zone.short(at)),
                    lines: vec![
                        format!("Your experiment \"{title}\" in {cohort_name} is due {}.", to.zone.when(at)),
                        "Record how it went: the result, what you learned, and what you will try next.".into(),
                    ],
                    actions: vec![link(conn, LinkAction::CheckIn, &due.subject_id, "Check in now".into())?],
                    open,
                }
            }
        }
        _ => return Ok(Err("this kind is not mailed by the engine")),
    };
    Ok(Ok(Part { cohort_id, cohort_name, body }))
}

/// A digest's mail (none when there was nothing to say) and, per held notification, whether it
/// made it in.
pub type Digest = (Option<OutgoingMail>, Vec<Result<(), Skip>>);

/// One mail for a member's digest: the notifications gathered for it (`held`, each checked as
/// if it went alone; those no longer called for are left out and reported skipped), and with
/// `summary` what is coming in the next seven days and what is owed. `None` when nothing is left
/// to say. Returns the mail and, per held notification, whether it made it in.
pub fn render_digest(
    conn: &mut AnyConnection,
    user_id: &UserId,
    held: &[&Due],
    summary: bool,
    base_url: &str,
    now: DateTime<Utc>,
) -> ApiResult<Digest> {
    let Some(to) = recipient(conn, user_id)? else {
        return Ok((None, held.iter().map(|_| Err("the account is gone")).collect()));
    };
    let mut parts = Vec::new();
    let mut outcomes = Vec::new();
    for due in held {
        match part(conn, &to, due, base_url, now)? {
            Ok(part) => {
                parts.push(part);
                outcomes.push(Ok(()));
            }
            Err(skip) => outcomes.push(Err(skip)),
        }
    }
    let coming = if summary { super::digest::summary(conn, &to.id, to.zone, base_url, now)? } else { Vec::new() };
    if parts.is_empty() && coming.is_empty() {
        return Ok((None, outcomes));
    }
    let unsubscribe = links::issue(conn, base_url, &to.id, LinkAction::Unsubscribe, K::Digest.as_str(), now)?;
    let count = parts.len() + coming.len();
    let mut lines = Vec::new();
    let mut actions = Vec::new();
    for part in &parts {
        lines.push(format!("{} ({})", part.body.subject, part.cohort_name));
        lines.extend(part.body.lines.iter().map(|l| format!("  {l}")));
        actions.extend(
            part.body
                .actions
                .iter()
                .map(|a| Action { label: format!("{} ({})", a.label, part.body.subject), url: a.url.clone() }),
        );
    }
    if !coming.is_empty() {
        lines.push("Coming up and owed:".into());
        lines.extend(coming.iter().map(|l| format!("  {l}")));
    }
    let body = Body {
        subject: format!("Your Roundtable digest: {count} {}", if count == 1 { "thing" } else { "things" }),
        lines,
        actions,
        open: Some(format!("{base_url}/app/")),
    };
    let mut mail =
        compose(K::Digest, &to, &CohortId::from_untyped("digest"), "your cohorts", base_url, body, unsubscribe);
    // A digest spans cohorts: its list is the member's own.
    if let Some(list) = mail.list.as_mut() {
        list.list_id = list_id(&CohortId::from_untyped(format!("digest-{}", to.id)), "Roundtable digest", base_url);
    }
    Ok((Some(mail), outcomes))
}

/// The `List-Id` of a cohort's mail: `"Name" <cohort-id.cohorts.host>` (RFC 2919).
pub fn list_id(cohort_id: &CohortId, cohort_name: &str, base_url: &str) -> String {
    let host = base_url.split("://").nth(1).unwrap_or(base_url);
    let host = host.split(['/', ':']).next().filter(|h| !h.is_empty()).unwrap_or("localhost");
    let phrase: String =
        cohort_name.chars().filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ').collect();
    format!("\"{}\" <{cohort_id}.cohorts.{host}>", phrase.trim())
}

fn compose(
    kind: K,
    to: &To,
    cohort_id: &CohortId,
    cohort_name: &str,
    base_url: &str,
    body: Body,
    unsubscribe: String,
) -> OutgoingMail {
    let greeting = format!("Hello {},", to.name);
    let footer = format!(
        "You get this because you are a member of {cohort_name}. Times are in your time zone ({}). Choose what you get: {base_url}/app/me/notifications",
        to.zone.name()
    );
    let mut text = format!("{greeting}\n\n");
    for line in &body.lines {
        text.push_str(line);
        text.push('\n');
    }
    for action in &body.actions {
        text.push_str(&format!("\n{}: {}\n", action.label, action.url));
    }
    if let Some(open) = &body.open {
        text.push_str(&format!("\nOpen in Roundtable: {open}\n"));
    }
    text.push_str(&format!("\n-- \n{footer}\nStop these mails ({}): {unsubscribe}\n", kind.as_str()));

    let mut html =
        String::from("<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5;max-width:36em\">");
    html.push_str(&format!("<p>{}</p>", encode_text(&greeting)));
    for line in &body.lines {
        html.push_str(&format!("<p>{}</p>", encode_text(line)));
    }
    if !body.actions.is_empty() {
        html.push_str("<p>");
        for action in &body.actions {
            html.push_str(&format!(
                "<a href=\"{}\" style=\"display:inline-block;margin:0 .5em .5em 0;padding:.5em 1em;border:1px solid #235;border-radius:4px;color:#235;text-decoration:none\">{}</a> ",
                attr(&action.url),
                encode_text(&action.label)
            ));
        }
        html.push_str("</p>");
    }
    if let Some(open) = &body.open {
        html.push_str(&format!("<p><a href=\"{}\">Open in Roundtable</a></p>", attr(open)));
    }
    html.push_str(&format!(
        "<p style=\"color:#555;font-size:90%\">{}<br><a href=\"{}\">Stop these mails</a></p></body></html>",
        encode_text(&footer),
        attr(&unsubscribe)
    ));
    OutgoingMail {
        kind: kind.as_str(),
        user_id: Some(to.id.clone()),
        to: to.email.clone(),
        subject: body.subject,
        text,
        html,
        list: Some(ListHeaders { list_id: list_id(cohort_id, cohort_name, base_url), unsubscribe_url: unsubscribe }),
        expires_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_id_names_the_cohort_and_the_host() {
        let id = CohortId::from_untyped("c1");
        assert_eq!(
            list_id(&id, "Weekly \"circle\" ü", "https://rt.example.org:8443/x"),
            "\"Weekly circle\" <c1.cohorts.rt.example.org>"
        );
        assert_eq!(list_id(&id, "A", "http://127.0.0.1:8080"), "\"A\" <c1.cohorts.127.0.0.1>");
    }
}
