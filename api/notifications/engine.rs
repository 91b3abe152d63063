//! The reminder engine: it writes notification rows well before they fall due, and turns each
//! into a mail when it does. Three steps, each safe to run at once on several replicas:
//!
//! 1. **Plan ahead** (`plan_sessions`): the session, duty and skill-share reminders of the next
//!    `HORIZON_DAYS`, from the facts in the database through the pure planner (`plan`). New keys
//!    are stored, stored keys that are no longer planned are withdrawn (a session moved, a member
//!    said no, paused, confirmed their duty, or changed a lead time). Run by the sweep every
//!    `ROUNDTABLE_REMINDER_SWEEP_SECONDS`, and at once for the cohorts an event touched.
//! 2. **Follow the event stream** (`follow_events`): notices about what just happened (a duty
//!    given or taken, a swap or cover asked, an answer, a session moved or cancelled, a charter
//!    adopted, a review due, a skill-share place freed) are written from the events, keyed by the
//!    event, and the cohorts they touch are planned again. The stream cursor only moves forward.
//! 3. **Dispatch** (`dispatch_due`): due rows are claimed in batches (`FOR UPDATE SKIP LOCKED` on
//!    PostgreSQL), checked once more against the database (the session still at that time, the
//!    duty still unconfirmed, the kind still on), and queued as mail in the same transaction, or
//!    skipped with the reason. The mail worker sends the outbox with its own claims, so a
//!    notification becomes at most one mail, and that mail is sent once.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::json;

use super::kinds::{KIND_TABLE, NotificationKind};
use super::plan::{self, Recipient, SessionFacts};
use super::preferences::DigestMode;
use super::store::{self, NewNotification};
use crate::cohorts::model::{MemberState, Role};
use crate::db::schema::{
    assignments, charter_acceptances, charter_versions, cohorts, memberships, notification_preferences as prefs,
    notification_settings as settings, session_rsvps, sessions, skill_shares, swap_requests, users,
};
use crate::db::{AnyConnection, CohortId, SessionId, UserId};
use crate::error::ApiResult;
use crate::events::{self, Event, EventPayload as P, kind as ev};
use crate::sessions::model::SessionStatus;

/// Reminders are planned this far ahead: the longest lead time (two weeks) and a day.
pub const HORIZON_DAYS: i64 = 15;

/// The kinds the session planner owns (it withdraws what it no longer plans of these).
pub const PLANNED_KINDS: [NotificationKind; 3] =
    [NotificationKind::SessionSoon, NotificationKind::DutySoon, NotificationKind::SkillshareSoon];

/// Notices about duties further ahead than this are not mailed one by one (a re-plan may
/// reshuffle weeks of the rota); the duty's own reminder and the inbox tell about them.
pub const DUTY_NOTICE_DAYS: i64 = 14;

/// A charter still not accepted this long after its adoption gets one gentle repeat.
pub const CHARTER_REPEAT_DAYS: i64 = 7;

/// The stream cursor of this consumer in `stream_cursors`.
const CURSOR: &str = "notifications";

/// Events read per pass.
const EVENTS_PER_PASS: i64 = 500;

/// What a recipient's settings say, for the planner and for one-off notices.
pub(crate) struct RecipientFacts {
    pub recipient: Recipient,
    pub digest: DigestMode,
    /// Kinds turned off.
    pub off: HashSet<NotificationKind>,
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M").ok()
}

/// The settings of `users` (defaults for those who set nothing), in three queries.
pub(crate) fn recipients(conn: &mut AnyConnection, users_of: &[UserId]) -> ApiResult<HashMap<UserId, RecipientFacts>> {
    let mut out = HashMap::new();
    for chunk in users_of.chunks(500) {
        let zones: Vec<(UserId, String)> =
            users::table.filter(users::id.eq_any(chunk)).select((users::id, users::time_zone)).load(conn)?;
        let chosen: Vec<(UserId, NotificationKind, bool, Option<String>)> = prefs::table
            .filter(prefs::user_id.eq_any(chunk))
            .select((prefs::user_id, prefs::kind, prefs::email, prefs::lead_minutes))
            .load(conn)?;
        let quiet: Vec<(UserId, DigestMode, Option<String>, Option<String>)> = settings::table
            .filter(settings::user_id.eq_any(chunk))
            .select((settings::user_id, settings::digest, settings::quiet_start, settings::quiet_end))
            .load(conn)?;
        type Choice<'a> = (NotificationKind, bool, Option<&'a str>);
        let mut chosen_by: HashMap<&UserId, Vec<Choice<'_>>> = HashMap::new();
        for (user, kind, email, lead) in &chosen {
            chosen_by.entry(user).or_default().push((*kind, *email, lead.as_deref()));
        }
        let quiet_by: HashMap<&UserId, (DigestMode, Option<&str>, Option<&str>)> =
            quiet.iter().map(|(u, d, s, e)| (u, (*d, s.as_deref(), e.as_deref()))).collect();
        for (user, zone) in &zones {
            let mine = chosen_by.get(user).map(Vec::as_slice).unwrap_or_default();
            let mut leads = HashMap::new();
            let mut off = HashSet::new();
            for info in KIND_TABLE {
                let choice = mine.iter().find(|c| c.0 == info.kind);
                let email = info.required || choice.map_or(info.email, |c| c.1);
                if !email {
                    off.insert(info.kind);
                    continue;
                }
                if let Some(default) = info.lead_minutes {
                    let lead = choice
                        .and_then(|c| c.2)
                        .map(|t| t.split(',').filter_map(|m| m.parse().ok()).collect())
                        .unwrap_or_else(|| default.to_vec());
                    leads.insert(info.kind, lead);
                }
            }
            let (digest, start, end) = quiet_by.get(user).copied().unwrap_or((DigestMode::Off, None, None));
            let quiet_hours = start.and_then(parse_time).zip(end.and_then(parse_time));
            let recipient = Recipient {
                time_zone: zone.parse::<Tz>().unwrap_or(Tz::UTC),
                active: true,
                quiet_hours,
                leads,
                muted: off.iter().copied().collect(),
            };
            out.insert(user.clone(), RecipientFacts { recipient, digest, off });
        }
    }
    Ok(out)
}

/// What planning changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PlanReport {
    pub added: usize,
    pub withdrawn: usize,
}

/// Plans the session, duty and skill-share reminders of the next `HORIZON_DAYS` (of `only`
/// these cohorts, or all), stores the new ones and withdraws the planned ones that no longer are.
pub fn plan_sessions(conn: &mut AnyConnection, now: DateTime<Utc>, only: Option<&[CohortId]>) -> ApiResult<PlanReport> {
    let (from, to) = (now, now + Duration::days(HORIZON_DAYS));
    let mut query = sessions::table
        .inner_join(cohorts::table.on(cohorts::id.eq(sessions::cohort_id)))
        .filter(cohorts::archived_at.is_null())
        .filter(sessions::starts_at.gt(from.naive_utc()))
        .filter(sessions::starts_at.le(to.naive_utc()))
        .select((sessions::id, sessions::cohort_id, sessions::starts_at, sessions::status))
        .into_boxed();
    if let Some(only) = only {
        query = query.filter(sessions::cohort_id.eq_any(only));
    }
    let found: Vec<(SessionId, CohortId, chrono::NaiveDateTime, SessionStatus)> = query.load(conn)?;
    let session_ids: Vec<&SessionId> = found.iter().map(|s| &s.0).collect();
    let cohort_ids: BTreeSet<&CohortId> = found.iter().map(|s| &s.1).collect();
    let cohort_ids: Vec<&CohortId> = cohort_ids.into_iter().collect();

    let mut active: HashMap<&CohortId, Vec<UserId>> = HashMap::new();
    let mut said_no: HashSet<(SessionId, UserId)> = HashSet::new();
    let mut duties: HashMap<SessionId, Vec<(UserId, bool)>> = HashMap::new();
    let mut presenters: HashMap<SessionId, Vec<(UserId, String)>> = HashMap::new();
    let members: Vec<(CohortId, UserId)>;
    {
        let mut rows = Vec::new();
        for chunk in cohort_ids.chunks(500) {
            let part: Vec<(CohortId, UserId)> = memberships::table
                .filter(memberships::cohort_id.eq_any(chunk.iter().copied()))
                .filter(memberships::state.eq(MemberState::Active.as_str()))
                .select((memberships::cohort_id, memberships::user_id))
                .load(conn)?;
            rows.extend(part);
        }
        members = rows;
    }
    for (cohort, user) in &members {
        active.entry(cohort).or_default().push(user.clone());
    }
    for chunk in session_ids.chunks(500) {
        let noes: Vec<(SessionId, UserId)> = session_rsvps::table
            .filter(session_rsvps::session_id.eq_any(chunk.iter().copied()))
            .filter(session_rsvps::response.eq("no"))
            .select((session_rsvps::session_id, session_rsvps::user_id))
            .load(conn)?;
        said_no.extend(noes);
        let held: Vec<(SessionId, Option<UserId>, Option<chrono::NaiveDateTime>)> = assignments::table
            .filter(assignments::session_id.eq_any(chunk.iter().copied()))
            .filter(assignments::user_id.is_not_null())
            .select((assignments::session_id, assignments::user_id, assignments::confirmed_at))
            .load(conn)?;
        for (session, user, confirmed) in held {
            if let Some(user) = user {
                duties.entry(session).or_default().push((user, confirmed.is_some()));
            }
        }
        let slots: Vec<(SessionId, UserId, String)> = skill_shares::table
            .filter(skill_shares::session_id.eq_any(chunk.iter().copied()))
            .filter(skill_shares::status.eq("approved"))
            .select((skill_shares::session_id, skill_shares::presenter_id, skill_shares::id))
            .load(conn)?;
        for (session, user, slot) in slots {
            presenters.entry(session).or_default().push((user, slot));
        }
    }

    let facts: Vec<SessionFacts> = found
        .iter()
        .map(|(id, cohort, starts_at, status)| {
            let members = active.get(cohort).map(Vec::as_slice).unwrap_or_default();
            let is_member = |who: &UserId| members.contains(who);
            SessionFacts {
                id: id.clone(),
                starts_at: starts_at.and_utc(),
                cancelled: *status == SessionStatus::Cancelled,
                attendees: members.iter().filter(|u| !said_no.contains(&(id.clone(), (*u).clone()))).cloned().collect(),
                duties: duties.remove(id).unwrap_or_default().into_iter().filter(|(u, _)| is_member(u)).collect(),
                presenters: presenters
                    .remove(id)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(u, _)| is_member(u))
                    .collect(),
            }
        })
        .collect();
    let people: BTreeSet<UserId> = members.iter().map(|(_, u)| u.clone()).collect();
    let people: Vec<UserId> = people.into_iter().collect();
    let settings_of = recipients(conn, &people)?;
    let planner_view: HashMap<UserId, Recipient> =
        settings_of.into_iter().map(|(user, facts)| (user, facts.recipient)).collect();
    let planned = plan::plan(now, &facts, &planner_view);

    let cohort_of: HashMap<&SessionId, &CohortId> = found.iter().map(|s| (&s.0, &s.1)).collect();
    let only_cohorts: Option<Vec<CohortId>> = only.map(<[CohortId]>::to_vec);
    let stored = store::planned_between(conn, &PLANNED_KINDS, from, to, only_cohorts.as_deref())?;
    let (added, withdrawn) = reconcile(conn, &planned, &stored, now, |p| NewNotification {
        key: p.key.clone(),
        kind: p.kind,
        user_id: p.recipient.clone(),
        cohort_id: cohort_of.get(&p.session_id).map(|c| (*c).clone()),
        subject_id: p.subject_id.clone(),
        occurs_at: Some(p.occurs_at),
        planned_at: p.planned_at,
        data: json!({ "session_id": p.session_id }),
    })?;
    Ok(PlanReport { added, withdrawn })
}

/// The experiment kinds the experiment planner owns.
pub const EXPERIMENT_KINDS: [NotificationKind; 2] = [NotificationKind::CheckinDue, NotificationKind::ExperimentDue];

/// Plans `checkin_due` and `experiment_due` for the open experiments (`only` these, or all) of
/// active owners, stores the new ones and withdraws the planned ones no longer planned.
pub fn plan_experiments(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    only: Option<&[String]>,
) -> ApiResult<PlanReport> {
    use crate::db::schema::{experiment_check_ins as checkins, experiments as e, notifications as n};
    let mut query = e::table
        .inner_join(cohorts::table.on(cohorts::id.eq(e::cohort_id)))
        .inner_join(
            memberships::table.on(memberships::cohort_id.eq(e::cohort_id).and(memberships::user_id.eq(e::owner_id))),
        )
        .filter(cohorts::archived_at.is_null())
        .filter(memberships::state.eq(MemberState::Active.as_str()))
        .filter(e::state.eq_any(["committed", "in_progress"]))
        .left_join(sessions::table.on(sessions::id.nullable().eq(e::due_session_id)))
        .select((
            e::id,
            e::owner_id,
            e::cohort_id,
            cohorts::time_zone,
            e::created_at,
            e::due_on,
            sessions::starts_at.nullable(),
        ))
        .into_boxed();
    if let Some(only) = only {
        query = query.filter(e::id.eq_any(only));
    }
    type Row = (String, UserId, CohortId, String, chrono::NaiveDateTime, Option<String>, Option<chrono::NaiveDateTime>);
    let rows: Vec<Row> = query.load(conn)?;
    let mut latest: HashMap<String, chrono::NaiveDateTime> = HashMap::new();
    let ids: Vec<&String> = rows.iter().map(|r| &r.0).collect();
    for chunk in ids.chunks(500) {
        let found: Vec<(String, Option<chrono::NaiveDateTime>)> = checkins::table
            .filter(checkins::experiment_id.eq_any(chunk.iter().copied()))
            .group_by(checkins::experiment_id)
            .select((checkins::experiment_id, diesel::dsl::max(checkins::created_at)))
            .load(conn)?;
        latest.extend(found.into_iter().filter_map(|(id, at)| at.map(|at| (id, at))));
    }
    let cohort_of: HashMap<&String, &CohortId> = rows.iter().map(|r| (&r.0, &r.2)).collect();
    let facts: Vec<plan::ExperimentFacts> = rows
        .iter()
        .map(|(id, owner, _, zone, created_at, due_on, due_session)| {
            let zone = zone.parse::<Tz>().unwrap_or(Tz::UTC);
            let due_date_at = due_on
                .as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .and_then(|d| d.and_hms_opt(9, 0, 0))
                .map(|local| crate::sessions::recurrence::instant(local, zone));
            plan::ExperimentFacts {
                id: id.clone(),
                owner: owner.clone(),
                open: true,
                last_activity: latest.get(id).copied().unwrap_or(*created_at).and_utc(),
                due_at: due_session.map(|t| t.and_utc()).or(due_date_at),
            }
        })
        .collect();
    let owners: BTreeSet<UserId> = rows.iter().map(|r| r.1.clone()).collect();
    let owners: Vec<UserId> = owners.into_iter().collect();
    let settings_of = recipients(conn, &owners)?;
    let view: HashMap<UserId, Recipient> =
        settings_of.iter().map(|(user, facts)| (user.clone(), facts.recipient.clone())).collect();
    let planned = plan::plan_experiments(now, &facts, &view);

    let mut stored_query = n::table
        .filter(n::status.eq(store::PLANNED))
        .filter(n::kind.eq_any(EXPERIMENT_KINDS.iter().map(|k| k.as_str())))
        .select((n::id, n::key))
        .into_boxed();
    if let Some(only) = only {
        stored_query = stored_query.filter(n::subject_id.eq_any(only));
    }
    let stored: Vec<store::Stored> = stored_query.load(conn)?;
    let (added, withdrawn) = reconcile(conn, &planned, &stored, now, |p| NewNotification {
        key: p.key.clone(),
        kind: p.kind,
        user_id: p.recipient.clone(),
        cohort_id: cohort_of.get(&p.subject_id).map(|c| (*c).clone()),
        subject_id: p.subject_id.clone(),
        occurs_at: Some(p.occurs_at),
        planned_at: settings_of.get(&p.recipient).map_or(p.planned_at, |f| gathered_at(p.kind, p.planned_at, f)),
        data: json!({}),
    })?;
    Ok(PlanReport { added, withdrawn })
}

/// Brings the stored planned rows in line with what the planner planned: stores the planned keys
/// that are new (as `row` makes them) and withdraws the stored ones no longer planned, only those
/// not due yet (at `now` the planner leaves out what is already due; a stored row due now stays
/// and is checked again when it is sent). Returns (added, withdrawn).
fn reconcile(
    conn: &mut AnyConnection,
    planned: &[plan::Planned],
    stored: &[store::Stored],
    now: DateTime<Utc>,
    row: impl Fn(&plan::Planned) -> NewNotification,
) -> ApiResult<(usize, usize)> {
    let wanted: HashSet<&str> = planned.iter().map(|p| p.key.as_str()).collect();
    let stored_keys: HashSet<&str> = stored.iter().map(|s| s.key.as_str()).collect();
    let stale: Vec<String> = stored.iter().filter(|s| !wanted.contains(s.key.as_str())).map(|s| s.id.clone()).collect();
    let fresh: Vec<NewNotification> =
        planned.iter().filter(|p| !stored_keys.contains(p.key.as_str())).map(row).collect();
    let withdrawn = withdraw_not_due(conn, &stale, now)?;
    let added = store::insert_new(conn, &fresh, now)?;
    Ok((added, withdrawn))
}

/// Withdraws those of `ids` that are not due yet (a due one is checked when it is sent).
fn withdraw_not_due(conn: &mut AnyConnection, ids: &[String], now: DateTime<Utc>) -> ApiResult<usize> {
    use crate::db::schema::notifications as n;
    let mut done = 0;
    for chunk in ids.chunks(500) {
        let not_due: Vec<String> =
            n::table.filter(n::id.eq_any(chunk)).filter(n::planned_at.gt(now.naive_utc())).select(n::id).load(conn)?;
        done += store::withdraw(conn, &not_due, "no longer planned: the session, the duty or a preference changed")?;
    }
    Ok(done)
}

/// Reads the event stream from this consumer's cursor: writes the notices the events call for,
/// plans again the cohorts they touched, and moves the cursor on. Returns how many events it read.
///
/// Every notice's key names its event, so reading an event twice (two replicas at once, a pass
/// that failed after writing) stores nothing new; the cursor only ever moves forward.
pub fn follow_events(conn: &mut AnyConnection, now: DateTime<Utc>) -> ApiResult<usize> {
    let cursor = crate::events::cursor::position(conn, CURSOR)?;
    let batch = events::after(conn, cursor, EVENTS_PER_PASS)?;
    let Some(last) = batch.last().map(|e| e.seq) else { return Ok(0) };
    let mut notices = Vec::new();
    let mut replan: BTreeSet<CohortId> = BTreeSet::new();
    let mut experiments: BTreeSet<String> = BTreeSet::new();
    for event in &batch {
        if event.subject_type == "experiment" {
            experiments.insert(event.subject_id.clone());
        }
        if let Some(payload) = event.typed() {
            notices_for(conn, event, &payload, now, &mut notices, &mut replan)?;
        }
    }
    if !experiments.is_empty() {
        let experiments: Vec<String> = experiments.into_iter().collect();
        plan_experiments(conn, now, Some(&experiments))?;
    }
    let notices = with_settings(conn, notices, now)?;
    store::insert_new(conn, &notices, now)?;
    if !replan.is_empty() {
        let replan: Vec<CohortId> = replan.into_iter().collect();
        plan_sessions(conn, now, Some(&replan))?;
    }
    crate::events::cursor::advance(conn, CURSOR, last)?;
    Ok(batch.len())
}

/// A notice to one person, before their settings place it in time.
struct Notice {
    kind: NotificationKind,
    user_id: UserId,
    cohort_id: Option<CohortId>,
    subject_id: String,
    /// Distinguishes notices of one kind, subject and person (the event's id, or "repeat").
    occurrence: String,
    occurs_at: Option<DateTime<Utc>>,
    /// When it is due before quiet hours and digests (now, or a repeat's later date).
    due: DateTime<Utc>,
    data: serde_json::Value,
}

/// When a notice goes for a member who gathers such notices into a digest: at their next digest
/// (moved past quiet hours if those cover 08:00); otherwise at `at`.
fn gathered_at(kind: NotificationKind, at: DateTime<Utc>, facts: &RecipientFacts) -> DateTime<Utc> {
    if !kind.info().digestible {
        return at;
    }
    match plan::next_digest(at, facts.digest, facts.recipient.time_zone) {
        Some(digest) => plan::release_at(digest, digest + Duration::days(1), &facts.recipient),
        None => at,
    }
}

/// Places each notice in its recipient's time (quiet hours, digest); drops kinds turned off.
fn with_settings(
    conn: &mut AnyConnection,
    notices: Vec<Notice>,
    _now: DateTime<Utc>,
) -> ApiResult<Vec<NewNotification>> {
    let people: BTreeSet<UserId> = notices.iter().map(|n| n.user_id.clone()).collect();
    let people: Vec<UserId> = people.into_iter().collect();
    let settings_of = recipients(conn, &people)?;
    Ok(notices
        .into_iter()
        .filter_map(|notice| {
            let facts = settings_of.get(&notice.user_id)?;
            if facts.off.contains(&notice.kind) {
                return None;
            }
            // Held past quiet hours; a notice about something soon goes before them instead.
            let horizon = notice.occurs_at.unwrap_or(notice.due + Duration::days(7));
            let planned_at = gathered_at(notice.kind, plan::release_at(notice.due, horizon, &facts.recipient), facts);
            Some(NewNotification {
                key: format!("{}:{}:{}:{}", notice.kind.as_str(), notice.subject_id, notice.user_id, notice.occurrence),
                kind: notice.kind,
                user_id: notice.user_id,
                cohort_id: notice.cohort_id,
                subject_id: notice.subject_id,
                occurs_at: notice.occurs_at,
                planned_at,
                data: notice.data,
            })
        })
        .collect())
}

fn active_members(conn: &mut AnyConnection, cohort_id: &CohortId) -> ApiResult<Vec<(UserId, Role)>> {
    Ok(memberships::table
        .filter(memberships::cohort_id.eq(cohort_id))
        .filter(memberships::state.eq(MemberState::Active.as_str()))
        .select((memberships::user_id, memberships::role))
        .load(conn)?)
}

/// The notices one event calls for, and the cohorts whose reminders it changes.
fn notices_for(
    conn: &mut AnyConnection,
    event: &Event,
    payload: &P,
    now: DateTime<Utc>,
    out: &mut Vec<Notice>,
    replan: &mut BTreeSet<CohortId>,
) -> ApiResult<()> {
    let Some(cohort_id) = event.cohort_id.clone() else {
        // Account events: a member's own preferences change their reminders in every cohort.
        if let P::NotificationPreferencesChanged(_) = payload {
            let theirs: Vec<CohortId> = memberships::table
                .filter(memberships::user_id.eq(&UserId::from_untyped(&event.subject_id)))
                .select(memberships::cohort_id)
                .load(conn)?;
            replan.extend(theirs);
        }
        return Ok(());
    };
    let occurrence = event.id.clone();
    let notice = |kind, user_id: UserId, subject_id: &str, occurs_at, data| Notice {
        kind,
        user_id,
        cohort_id: Some(cohort_id.clone()),
        subject_id: subject_id.to_string(),
        occurrence: occurrence.clone(),
        occurs_at,
        due: now,
        data,
    };
    match payload {
        P::SessionMoved(_) | P::SessionCancelled(_) | P::SessionReinstated(_) => {
            replan.insert(cohort_id.clone());
            let session: Option<(chrono::NaiveDateTime, SessionStatus)> = sessions::table
                .find(&event.subject_id)
                .select((sessions::starts_at, sessions::status))
                .first(conn)
                .optional()?;
            let Some((starts_at, status)) = session else { return Ok(()) };
            // Only sessions still ahead (a cancelled one that already passed tells nobody anything).
            let earlier = previous_start(conn, event)?;
            let starts_at = starts_at.and_utc();
            if starts_at <= now && earlier.is_none_or(|t| t <= now) {
                return Ok(());
            }
            let change = match payload {
                P::SessionMoved(_) => "moved",
                P::SessionCancelled(_) => "cancelled",
                _ => "reinstated",
            };
            let data = json!({"change": change, "status": status.as_str(), "previous_starts_at": earlier});
            for (user, _) in active_members(conn, &cohort_id)? {
                if event.actor_id.as_ref() == Some(&user) {
                    continue; // who made the change knows
                }
                out.push(notice(
                    NotificationKind::SessionChanged,
                    user,
                    &event.subject_id,
                    Some(starts_at),
                    data.clone(),
                ));
            }
        }
        P::SeriesChanged(_)
        | P::SessionRsvpChanged(_)
        | P::MemberStateChanged(_)
        | P::MemberJoined(_)
        | P::DutyConfirmed(_)
        | P::SkillShareApproved(_)
        | P::SkillShareMoved(_)
        | P::SkillShareWithdrawn(_)
        | P::SkillShareOfferedBack(_)
        | P::CohortUpdated(_)
        | P::CohortArchived(_) => {
            replan.insert(cohort_id.clone());
        }
        P::DutyAssigned(assigned) => {
            replan.insert(cohort_id.clone());
            let Some((session_id, starts_at)) = duty_session(conn, &event.subject_id)? else { return Ok(()) };
            if starts_at <= now || starts_at > now + Duration::days(DUTY_NOTICE_DAYS) {
                return Ok(());
            }
            let before = previous_holder(conn, event)?;
            let after = assigned.user_id.as_deref().map(UserId::from_untyped);
            if before == after {
                return Ok(());
            }
            let data = |change: &str| json!({"change": change, "session_id": session_id});
            if let Some(new) = after.filter(|u| event.actor_id.as_ref() != Some(u)) {
                out.push(notice(NotificationKind::DutyChanged, new, &event.subject_id, Some(starts_at), data("given")));
            }
            if let Some(old) = before.filter(|u| event.actor_id.as_ref() != Some(u)) {
                out.push(notice(NotificationKind::DutyChanged, old, &event.subject_id, Some(starts_at), data("taken")));
            }
        }
        P::SwapAsked(ev::SwapAsked { peer_id }) | P::CoverNeeded(ev::CoverNeeded { peer_id }) => {
            let Some((requester, assignment_id)) = swap_parties(conn, &event.subject_id)? else { return Ok(()) };
            let starts_at = duty_session(conn, &assignment_id)?.map(|(_, t)| t);
            let cover = matches!(payload, P::CoverNeeded(_));
            match peer_id {
                Some(peer) => {
                    let data = json!({"cover": cover});
                    out.push(notice(
                        NotificationKind::SwapAsked,
                        UserId::from_untyped(peer),
                        &event.subject_id,
                        starts_at,
                        data,
                    ));
                }
                None if cover => {
                    let busy = session_busy(conn, &assignment_id)?;
                    for (user, _) in active_members(conn, &cohort_id)? {
                        if user != requester && !busy.contains(&user) {
                            out.push(notice(
                                NotificationKind::CoverNeeded,
                                user,
                                &event.subject_id,
                                starts_at,
                                json!({}),
                            ));
                        }
                    }
                }
                None => {}
            }
        }
        P::SwapAccepted(_) | P::SwapDeclined(_) => {
            replan.insert(cohort_id.clone());
            let Some((requester, assignment_id)) = swap_parties(conn, &event.subject_id)? else { return Ok(()) };
            if event.actor_id.as_ref() == Some(&requester) {
                return Ok(());
            }
            let starts_at = duty_session(conn, &assignment_id)?.map(|(_, t)| t);
            let answer = if matches!(payload, P::SwapAccepted(_)) { "accepted" } else { "declined" };
            let data = json!({"answer": answer, "by": event.actor_id});
            out.push(notice(NotificationKind::SwapAnswered, requester, &event.subject_id, starts_at, data));
        }
        P::CharterAdopted(adopted) => {
            let accepted: Vec<UserId> = charter_acceptances::table
                .filter(charter_acceptances::version_id.eq(&event.subject_id))
                .select(charter_acceptances::user_id)
                .load(conn)?;
            for (user, _) in active_members(conn, &cohort_id)? {
                if accepted.contains(&user) {
                    continue;
                }
                let data = json!({"number": adopted.number});
                out.push(notice(
                    NotificationKind::CharterToAccept,
                    user.clone(),
                    &event.subject_id,
                    None,
                    data.clone(),
                ));
                out.push(Notice {
                    occurrence: "repeat".into(),
                    due: now + Duration::days(CHARTER_REPEAT_DAYS),
                    data: json!({"number": adopted.number, "repeat": true}),
                    ..notice(NotificationKind::CharterToAccept, user, &event.subject_id, None, data)
                });
            }
        }
        P::CharterReviewDue(due) => {
            for (user, role) in active_members(conn, &cohort_id)? {
                if role != Role::Member {
                    let data = json!({"due_on": due.due_on});
                    out.push(Notice {
                        occurrence: due.due_on.clone(),
                        ..notice(NotificationKind::CharterReviewDue, user, &event.subject_id, None, data)
                    });
                }
            }
        }
        P::SkillSharePromoted(promoted) => {
            let starts_at: Option<chrono::NaiveDateTime> = skill_shares::table
                .inner_join(sessions::table.on(sessions::id.eq(skill_shares::session_id)))
                .filter(skill_shares::id.eq(&event.subject_id))
                .select(sessions::starts_at)
                .first(conn)
                .optional()?;
            let user = UserId::from_untyped(&promoted.user_id);
            let data = json!({});
            out.push(notice(
                NotificationKind::SkillsharePromoted,
                user,
                &event.subject_id,
                starts_at.map(|t| t.and_utc()),
                data,
            ));
        }
        _ => {}
    }
    Ok(())
}

/// The session of an assignment and its start.
fn duty_session(conn: &mut AnyConnection, assignment_id: &str) -> ApiResult<Option<(SessionId, DateTime<Utc>)>> {
    let found: Option<(SessionId, chrono::NaiveDateTime)> = assignments::table
        .inner_join(sessions::table.on(sessions::id.eq(assignments::session_id)))
        .filter(assignments::id.eq(assignment_id))
        .select((sessions::id, sessions::starts_at))
        .first(conn)
        .optional()?;
    Ok(found.map(|(id, t)| (id, t.and_utc())))
}

/// Who asked, and for which duty.
fn swap_parties(conn: &mut AnyConnection, swap_id: &str) -> ApiResult<Option<(UserId, String)>> {
    Ok(swap_requests::table
        .find(swap_id)
        .select((swap_requests::requester_id, swap_requests::assignment_id))
        .first(conn)
        .optional()?)
}

/// Who cannot cover a duty: those on duty in its session already, and those who said no.
fn session_busy(conn: &mut AnyConnection, assignment_id: &str) -> ApiResult<Vec<UserId>> {
    let Some((session_id, _)) = duty_session(conn, assignment_id)? else { return Ok(Vec::new()) };
    let mut busy: Vec<UserId> = assignments::table
        .filter(assignments::session_id.eq(&session_id))
        .filter(assignments::user_id.is_not_null())
        .select(assignments::user_id.assume_not_null())
        .load(conn)?;
    let noes: Vec<UserId> = session_rsvps::table
        .filter(session_rsvps::session_id.eq(&session_id))
        .filter(session_rsvps::response.eq("no"))
        .select(session_rsvps::user_id)
        .load(conn)?;
    busy.extend(noes);
    Ok(busy)
}

/// Who held the duty before this event: the holder named by its previous `duty.assigned`.
fn previous_holder(conn: &mut AnyConnection, event: &Event) -> ApiResult<Option<UserId>> {
    use crate::db::schema::events as e;
    let before: Option<String> = e::table
        .filter(e::subject_type.eq("assignment"))
        .filter(e::subject_id.eq(&event.subject_id))
        .filter(e::kind.eq("duty.assigned"))
        .filter(e::seq.lt(event.seq))
        .order(e::seq.desc())
        .select(e::payload)
        .first(conn)
        .optional()?;
    Ok(before
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
        .and_then(|p| p.get("user_id").and_then(|u| u.as_str()).map(UserId::from_untyped)))
}

/// The start a moved session had before this event, as the notices about it recorded it: the
/// earliest `occurs_at` of its planned or sent "soon" reminders at another time.
fn previous_start(conn: &mut AnyConnection, event: &Event) -> ApiResult<Option<DateTime<Utc>>> {
    use crate::db::schema::notifications as n;
    let current: Option<chrono::NaiveDateTime> =
        sessions::table.find(&event.subject_id).select(sessions::starts_at).first(conn).optional()?;
    let earlier: Option<chrono::NaiveDateTime> = n::table
        .filter(n::subject_id.eq(&event.subject_id))
        .filter(n::kind.eq(NotificationKind::SessionSoon.as_str()))
        .filter(n::occurs_at.is_not_null())
        .filter(n::occurs_at.ne(current.unwrap_or_default()))
        .order(n::created_at.desc())
        .select(n::occurs_at.assume_not_null())
        .first(conn)
        .optional()?;
    Ok(earlier.map(|t| t.and_utc()))
}

/// What one dispatch pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dispatched {
    pub queued: usize,
    pub skipped: usize,
}

/// Claims up to `limit` due notifications and queues the mail of each that is still called for
/// (skipping the others with the reason), in one transaction.
pub fn dispatch_due(conn: &mut AnyConnection, now: DateTime<Utc>, base_url: &str, limit: i64) -> ApiResult<Dispatched> {
    let due = store::claim_due(conn, now, limit)?;
    let mut report = Dispatched::default();
    if due.is_empty() {
        return Ok(report);
    }
    let people: BTreeSet<UserId> = due.iter().map(|d| d.user_id.clone()).collect();
    let people: Vec<UserId> = people.into_iter().collect();
    let settings_of = recipients(conn, &people)?;
    // Of several reminders of one occurrence due at once (the server was down, or the clock
    // jumped), only the closest goes: "in an hour" makes "tomorrow" moot.
    let mut closest: HashMap<(NotificationKind, &str, &UserId, Option<chrono::NaiveDateTime>), chrono::NaiveDateTime> =
        HashMap::new();
    for row in due.iter().filter(|r| PLANNED_KINDS.contains(&r.kind)) {
        let at =
            closest.entry((row.kind, row.subject_id.as_str(), &row.user_id, row.occurs_at)).or_insert(row.planned_at);
        *at = (*at).max(row.planned_at);
    }
    let superseded: HashSet<String> = due
        .iter()
        .filter(|r| {
            PLANNED_KINDS.contains(&r.kind)
                && closest
                    .get(&(r.kind, r.subject_id.as_str(), &r.user_id, r.occurs_at))
                    .is_some_and(|at| *at > r.planned_at)
        })
        .map(|r| r.id.clone())
        .collect();
    // A member's digest and the notices gathered for it, due together, make one mail.
    let gathers = |row: &store::Due| {
        row.kind == NotificationKind::Digest
            || (row.kind.info().digestible
                && settings_of.get(&row.user_id).is_some_and(|s| s.digest != DigestMode::Off))
    };
    let (digested, due): (Vec<store::Due>, Vec<store::Due>) = due.into_iter().partition(|row| gathers(row));
    let mut by_user: HashMap<&UserId, Vec<&store::Due>> = HashMap::new();
    for row in &digested {
        by_user.entry(&row.user_id).or_default().push(row);
    }
    for (user, rows) in by_user {
        let off = |kind: NotificationKind| settings_of.get(user).is_none_or(|s| s.off.contains(&kind));
        let summary = rows.iter().any(|r| r.kind == NotificationKind::Digest) && !off(NotificationKind::Digest);
        let held: Vec<&store::Due> =
            rows.iter().copied().filter(|r| r.kind != NotificationKind::Digest && !off(r.kind)).collect();
        let (mail, outcomes) = super::mails::render_digest(conn, user, &held, summary, base_url, now)?;
        let mail_id = match &mail {
            Some(mail) => Some(crate::mail::outbox::enqueue(conn, mail, now)?),
            None => None,
        };
        for row in rows.iter().filter(|r| r.kind == NotificationKind::Digest || off(r.kind)) {
            match (&mail_id, row.kind == NotificationKind::Digest && summary) {
                (Some(id), true) => {
                    store::mark_queued(conn, &row.id, id, now)?;
                    report.queued += 1;
                }
                (None, true) => {
                    store::mark_skipped(conn, &row.id, "nothing coming or owed")?;
                    report.skipped += 1;
                }
                _ => {
                    store::mark_skipped(conn, &row.id, "the member turned this kind of mail off")?;
                    report.skipped += 1;
                }
            }
        }
        for (row, outcome) in held.iter().zip(outcomes) {
            match (outcome, &mail_id) {
                (Ok(()), Some(id)) => {
                    store::mark_queued(conn, &row.id, id, now)?;
                    report.queued += 1;
                }
                (Err(reason), _) => {
                    store::mark_skipped(conn, &row.id, reason)?;
                    report.skipped += 1;
                }
                (Ok(()), None) => {
                    store::mark_skipped(conn, &row.id, "the digest had nothing to send")?;
                    report.skipped += 1;
                }
            }
        }
    }
    for row in due {
        let off = settings_of.get(&row.user_id).is_none_or(|s| s.off.contains(&row.kind));
        let outcome = if superseded.contains(&row.id) {
            Err("a closer reminder of the same session went instead")
        } else if off {
            Err("the member turned this kind of mail off")
        } else {
            super::mails::render(conn, &row, base_url, now)?
        };
        match outcome {
            Ok(mail) => {
                let mail_id = crate::mail::outbox::enqueue(conn, &mail, now)?;
                store::mark_queued(conn, &row.id, &mail_id, now)?;
                if PLANNED_KINDS.contains(&row.kind) {
                    withdraw_earlier(conn, &row)?;
                }
                report.queued += 1;
            }
            Err(reason) => {
                store::mark_skipped(conn, &row.id, reason)?;
                report.skipped += 1;
            }
        }
    }
    Ok(report)
}

/// An earlier reminder of the same thing for the same member that is still waiting in the outbox
/// (the mail server was away when it fell due) is withdrawn when a closer one is queued: after an
/// outage the member gets one reminder, the closest, not the day-before and the hour-before
/// together. A mail already being sent is left alone.
fn withdraw_earlier(conn: &mut AnyConnection, row: &store::Due) -> ApiResult<usize> {
    use crate::db::schema::notifications as n;
    let earlier: Vec<Option<String>> = n::table
        .filter(n::user_id.eq(&row.user_id))
        .filter(n::kind.eq(row.kind.as_str()))
        .filter(n::subject_id.eq(&row.subject_id))
        .filter(n::id.ne(&row.id))
        .filter(n::mail_id.is_not_null())
        .select(n::mail_id)
        .load(conn)?;
    let earlier: Vec<String> = earlier.into_iter().flatten().collect();
    crate::mail::outbox::withdraw_pending(
        conn,
        &earlier,
        "withdrawn unsent: a closer reminder of the same thing replaced it",
    )
}

/// Whether `user` is an active member of `cohort` (and the cohort is not archived).
pub(crate) fn is_active_member(conn: &mut AnyConnection, cohort_id: &CohortId, user_id: &UserId) -> ApiResult<bool> {
    let found: Option<String> = memberships::table
        .inner_join(cohorts::table.on(cohorts::id.eq(memberships::cohort_id)))
        .filter(memberships::cohort_id.eq(cohort_id))
        .filter(memberships::user_id.eq(user_id))
        .filter(memberships::state.eq(MemberState::Active.as_str()))
        .filter(cohorts::archived_at.is_null())
        .select(memberships::role)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Whether the charter version is the cohort's adopted one and `user` has not accepted it.
pub(crate) fn charter_waits_for(conn: &mut AnyConnection, version_id: &str, user_id: &UserId) -> ApiResult<bool> {
    let adopted: Option<String> = charter_versions::table
        .find(version_id)
        .filter(charter_versions::state.eq("adopted"))
        .select(charter_versions::id)
        .first(conn)
        .optional()?;
    if adopted.is_none() {
        return Ok(false);
    }
    let accepted: Option<String> = charter_acceptances::table
        .filter(charter_acceptances::version_id.eq(version_id))
        .filter(charter_acceptances::user_id.eq(user_id))
        .select(charter_acceptances::version_id)
        .first(conn)
        .optional()?;
    Ok(accepted.is_none())
}
