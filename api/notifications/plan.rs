//! The reminder planner for sessions and duties (pure): from the facts (sessions with who comes
//! and who is on duty, each recipient's preferences, quiet hours and zone) and `now`, the
//! reminders that should exist, each with a unique key. The engine stores them by key (so
//! planning again writes nothing new), withdraws stored ones that are no longer planned and not
//! yet sent, and sends what falls due.
//!
//! The rules:
//! - `session_soon` goes to each active member who has not answered "no", at each of their lead
//!   times before the start; `duty_soon` goes to whoever holds a duty in the session and has not
//!   confirmed it, at each of their `duty_soon` lead times; `skillshare_soon` to whoever presents
//!   an approved skill share in it (its subject is the slot). A kind turned off plans nothing.
//! - Nothing is planned for a cancelled session, for a session that has started, or to a member
//!   who is paused or has left.
//! - Lead times count back from the start in real time (UTC), so a weekly session at 18:00 local
//!   gets its "1 h before" at 17:00 local on either side of a DST change, once per session.
//! - Quiet hours are read in the recipient's own zone. A reminder that falls inside them is held
//!   to their end; when their end is not before the session starts (too late), it goes at their
//!   beginning instead, before the recipient's night. One whose time has already passed when it
//!   is planned is not planned (the one planned earlier, if any, stands; the engine keeps it).
//! - The key is `kind:subject:recipient:lead:start`. A moved session has a new start, so new keys:
//!   the old reminders are no longer planned and the engine withdraws them (or, if they went
//!   out, sends a "moved" notice; `session_changed`).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use chrono_tz::Tz;

use super::kinds::NotificationKind;
use super::preferences::DigestMode;
use crate::db::{SessionId, UserId};
use crate::sessions::recurrence;

/// What the planner needs to know of a recipient.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub time_zone: Tz,
    /// Paused or left members get nothing.
    pub active: bool,
    /// `(start, end)` local; may span midnight.
    pub quiet_hours: Option<(NaiveTime, NaiveTime)>,
    /// Lead times in minutes per kind; a kind that is off is absent.
    pub leads: HashMap<NotificationKind, Vec<u32>>,
    /// Kinds without lead times that are turned off.
    pub muted: Vec<NotificationKind>,
}

/// A session as the planner sees it.
#[derive(Debug, Clone)]
pub struct SessionFacts {
    pub id: SessionId,
    pub starts_at: DateTime<Utc>,
    pub cancelled: bool,
    /// The cohort's members who may come (not those who answered "no").
    pub attendees: Vec<UserId>,
    /// Who holds a duty here, and whether they confirmed it.
    pub duties: Vec<(UserId, bool)>,
    /// Who presents a skill share here (approved), and the slot's id.
    pub presenters: Vec<(UserId, String)>,
}

/// One reminder that should exist.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Planned {
    pub key: String,
    pub kind: NotificationKind,
    pub recipient: UserId,
    /// The session, or for `skillshare_soon` the slot.
    pub subject_id: String,
    pub session_id: SessionId,
    /// When it goes out.
    pub planned_at: DateTime<Utc>,
    /// When the thing it is about happens.
    pub occurs_at: DateTime<Utc>,
}

/// Whether the local time `t` falls inside quiet hours `[start, end)`.
pub fn is_quiet(t: NaiveTime, (start, end): (NaiveTime, NaiveTime)) -> bool {
    if start < end { start <= t && t < end } else { t >= start || t < end }
}

/// When a reminder due at `due` about something at `occurs_at` goes out for this recipient:
/// `due` itself outside quiet hours; else the end of the quiet hours, or their beginning when
/// the end would be too late.
pub fn release_at(due: DateTime<Utc>, occurs_at: DateTime<Utc>, recipient: &Recipient) -> DateTime<Utc> {
    let Some(quiet) = recipient.quiet_hours else { return due };
    let tz = recipient.time_zone;
    let local = due.with_timezone(&tz).naive_local();
    if !is_quiet(local.time(), quiet) {
        return due;
    }
    let (start, end) = quiet;
    // The quiet stretch holding `local`: it began on this local day or the one before.
    let began_on = if local.time() >= start { local.date() } else { local.date() - Duration::days(1) };
    let began = recurrence::instant(began_on.and_time(start), tz);
    let ends_on = if start < end { began_on } else { began_on + Duration::days(1) };
    let ends = recurrence::instant(ends_on.and_time(end), tz);
    // Just before the quiet hours begin: a minute before their start.
    if ends < occurs_at { ends } else { began - Duration::minutes(1) }
}

/// The session and duty reminders that should exist now, sorted by key.
pub fn plan(now: DateTime<Utc>, sessions: &[SessionFacts], recipients: &HashMap<UserId, Recipient>) -> Vec<Planned> {
    let mut planned = Vec::new();
    for session in sessions.iter().filter(|s| !s.cancelled && s.starts_at > now) {
        let session_id = session.id.as_str();
        let duty_holders = session.duties.iter().filter(|(_, confirmed)| !confirmed).map(|(who, _)| who);
        let wanted = session
            .attendees
            .iter()
            .map(|who| (NotificationKind::SessionSoon, who, session_id))
            .chain(duty_holders.map(|who| (NotificationKind::DutySoon, who, session_id)))
            .chain(session.presenters.iter().map(|(who, slot)| (NotificationKind::SkillshareSoon, who, slot.as_str())));
        for (kind, who, subject) in wanted {
            let Some(recipient) = recipients.get(who).filter(|r| r.active) else { continue };
            for lead in recipient.leads.get(&kind).into_iter().flatten() {
                let due = session.starts_at - Duration::minutes(i64::from(*lead));
                let planned_at = release_at(due, session.starts_at, recipient);
                if planned_at < now || planned_at >= session.starts_at {
                    continue;
                }
                planned.push(Planned {
                    key: format!(
                        "{}:{}:{}:{lead}:{}",
                        kind.as_str(),
                        subject,
                        who,
                        session.starts_at.format("%Y-%m-%dT%H:%MZ")
                    ),
                    kind,
                    recipient: who.clone(),
                    subject_id: subject.to_string(),
                    session_id: session.id.clone(),
                    planned_at,
                    occurs_at: session.starts_at,
                });
            }
        }
    }
    planned.sort();
    planned.dedup_by(|a, b| a.key == b.key);
    planned
}

/// When a member's digest goes out: daily at 08:00 in their zone, weekly on Mondays at 08:00.
pub const DIGEST_HOUR: u32 = 8;

/// The first digest time at or after `after` in `zone` (`None` for mode `off`): the next 08:00
/// local (daily) or the next Monday 08:00 local (weekly), a wall-clock time, so it stays 08:00
/// across DST changes.
pub fn next_digest(after: DateTime<Utc>, mode: DigestMode, zone: Tz) -> Option<DateTime<Utc>> {
    let weekly = match mode {
        DigestMode::Off => return None,
        DigestMode::Daily => false,
        DigestMode::Weekly => true,
    };
    let local = after.with_timezone(&zone).date_naive();
    (0..9)
        .map(|d| local + Duration::days(d))
        .filter(|day| !weekly || day.weekday() == chrono::Weekday::Mon)
        .map(|day| recurrence::instant(day.and_hms_opt(DIGEST_HOUR, 0, 0).expect("a valid time"), zone))
        .find(|at| *at >= after)
}

/// An experiment as the planner sees it.
#[derive(Debug, Clone)]
pub struct ExperimentFacts {
    pub id: String,
    pub owner: UserId,
    /// Under way (committed or in progress) and its owner an active member.
    pub open: bool,
    /// Its latest check-in, or when it was committed.
    pub last_activity: DateTime<Utc>,
    /// When it is due: its due session's start, or its due date at 09:00 in the cohort's zone.
    pub due_at: Option<DateTime<Utc>>,
}

/// An experiment with no check-in for this long is due one.
pub const QUIET_DAYS: i64 = 7;

/// The experiment reminders that should exist now, sorted by key:
/// - `checkin_due` once per quiet stretch: `QUIET_DAYS` after the latest check-in (or the
///   commitment), keyed by that instant, so a new check-in starts a new stretch and the old
///   reminder is no longer planned. One already due when planned still goes (now).
/// - `experiment_due` at each `experiment_due` lead time before the due instant, like the session
///   reminders (not planned once its time has passed).
///
/// Quiet hours apply to both; closed experiments and inactive owners get nothing.
pub fn plan_experiments(
    now: DateTime<Utc>,
    experiments: &[ExperimentFacts],
    recipients: &HashMap<UserId, Recipient>,
) -> Vec<Planned> {
    let mut planned = Vec::new();
    for e in experiments.iter().filter(|e| e.open) {
        let Some(recipient) = recipients.get(&e.owner).filter(|r| r.active) else { continue };
        if !recipient.muted.contains(&NotificationKind::CheckinDue) {
            let due = e.last_activity + Duration::days(QUIET_DAYS);
            let held = release_at(due.max(now), due.max(now) + Duration::days(1), recipient);
            planned.push(Planned {
                key: format!("checkin_due:{}:{}:{}", e.id, e.owner, e.last_activity.format("%Y-%m-%dT%H:%M:%SZ")),
                kind: NotificationKind::CheckinDue,
                recipient: e.owner.clone(),
                subject_id: e.id.clone(),
                session_id: SessionId::from_untyped(""),
                planned_at: held,
                occurs_at: due,
            });
        }
        let Some(due_at) = e.due_at.filter(|t| *t > now) else { continue };
        for lead in recipient.leads.get(&NotificationKind::ExperimentDue).into_iter().flatten() {
            let planned_at = release_at(due_at - Duration::minutes(i64::from(*lead)), due_at, recipient);
            if planned_at < now || planned_at >= due_at {
                continue;
            }
            planned.push(Planned {
                key: format!("experiment_due:{}:{}:{lead}:{}", e.id, e.owner, due_at.format("%Y-%m-%dT%H:%MZ")),
                kind: NotificationKind::ExperimentDue,
                recipient: e.owner.clone(),
                subject_id: e.id.clone(),
                session_id: SessionId::from_untyped(""),
                planned_at,
                occurs_at: due_at,
            });
        }
    }
    planned.sort();
    planned
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use proptest::prelude::*;

    fn berlin() -> Tz {
        "Europe/Berlin".parse().unwrap()
    }

    fn recipient(quiet: Option<(u32, u32)>) -> Recipient {
        Recipient {
            time_zone: berlin(),
            active: true,
            quiet_hours: quiet
                .map(|(s, e)| (NaiveTime::from_hms_opt(s, 0, 0).unwrap(), NaiveTime::from_hms_opt(e, 0, 0).unwrap())),
            leads: HashMap::from([
                (NotificationKind::SessionSoon, vec![1440, 60]),
                (NotificationKind::DutySoon, vec![1440]),
            ]),
            muted: Vec::new(),
        }
    }

    fn local(tz: Tz, y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap().with_timezone(&Utc)
    }

    fn weekly(first: NaiveDate, weeks: usize, hour: u32, people: &[UserId]) -> Vec<SessionFacts> {
        (0..weeks)
            .map(|w| {
                let day = first + Duration::weeks(w as i64);
                SessionFacts {
                    id: SessionId::from_untyped(format!("s{w}")),
                    starts_at: recurrence::instant(day.and_hms_opt(hour, 0, 0).unwrap(), berlin()),
                    cancelled: false,
                    attendees: people.to_vec(),
                    duties: vec![(people[0].clone(), false)],
                    presenters: Vec::new(),
                }
            })
            .collect()
    }

    #[test]
    fn a_weekly_session_across_the_dst_change_is_reminded_once_each_at_the_same_local_time() {
        let ada = UserId::from_untyped("ada");
        let recipients = HashMap::from([(ada.clone(), recipient(None))]);
        // Tuesdays at 18:00 Berlin from 14 October 2025: summer time ends on 26 October.
        let sessions = weekly(NaiveDate::from_ymd_opt(2025, 10, 14).unwrap(), 4, 18, std::slice::from_ref(&ada));
        let now = local(berlin(), 2025, 10, 1, 12);
        let planned = plan(now, &sessions, &recipients);
        let hour_before: Vec<_> =
            planned.iter().filter(|p| p.kind == NotificationKind::SessionSoon && p.key.contains(":60:")).collect();
        assert_eq!(hour_before.len(), 4, "one per session");
        for p in hour_before {
            assert_eq!(p.planned_at.with_timezone(&berlin()).format("%H:%M").to_string(), "17:00");
        }
        assert_eq!(planned.iter().filter(|p| p.kind == NotificationKind::DutySoon).count(), 4);
    }

    #[test]
    fn quiet_hours_hold_a_reminder_to_their_end_or_move_it_before_them() {
        let r = recipient(Some((22, 7)));
        let at = |h| local(berlin(), 2026, 3, 10, h);
        // Due at 23:00 for a session at 12:00 next day: held to 07:00.
        let next_noon = local(berlin(), 2026, 3, 11, 12);
        assert_eq!(release_at(at(23), next_noon, &r), local(berlin(), 2026, 3, 11, 7));
        // Due at 06:00 for a session at 07:00: 07:00 is too late, so it goes at 21:59 the night before.
        let seven = local(berlin(), 2026, 3, 11, 7);
        let due = local(berlin(), 2026, 3, 11, 6);
        assert_eq!(release_at(due, seven, &r), at(22) - Duration::minutes(1));
        // Outside quiet hours nothing moves.
        assert_eq!(release_at(at(12), next_noon, &r), at(12));
    }

    #[test]
    fn nothing_for_cancelled_sessions_paused_members_or_confirmed_duties_and_moves_change_keys() {
        let (ada, max) = (UserId::from_untyped("ada"), UserId::from_untyped("max"));
        let mut paused = recipient(None);
        paused.active = false;
        let recipients = HashMap::from([(ada.clone(), recipient(None)), (max.clone(), paused)]);
        let now = local(berlin(), 2026, 3, 1, 12);
        let mut sessions = weekly(NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(), 2, 18, &[ada.clone(), max.clone()]);
        sessions[0].cancelled = true;
        sessions[1].duties = vec![(ada.clone(), true)];
        let planned = plan(now, &sessions, &recipients);
        assert!(planned.iter().all(|p| p.recipient == ada && p.subject_id == "s1"));
        assert!(planned.iter().all(|p| p.kind == NotificationKind::SessionSoon));
        let mut moved = sessions.clone();
        moved[1].starts_at += Duration::hours(1);
        let after = plan(now, &moved, &recipients);
        assert!(after.iter().all(|p| !planned.iter().any(|q| q.key == p.key)), "a moved session has new keys");
    }

    #[test]
    fn a_quiet_experiment_is_reminded_once_per_stretch_and_a_check_in_starts_a_new_one() {
        let ada = UserId::from_untyped("ada");
        let mut r = recipient(None);
        r.leads.insert(NotificationKind::ExperimentDue, vec![1440]);
        let recipients = HashMap::from([(ada.clone(), r)]);
        let committed = local(berlin(), 2026, 3, 1, 10);
        let facts = |last| ExperimentFacts {
            id: "e1".into(),
            owner: ada.clone(),
            open: true,
            last_activity: last,
            due_at: Some(local(berlin(), 2026, 3, 20, 9)),
        };
        let now = committed + Duration::hours(1);
        let first = plan_experiments(now, &[facts(committed)], &recipients);
        let checkin: Vec<_> = first.iter().filter(|p| p.kind == NotificationKind::CheckinDue).collect();
        assert_eq!(checkin.len(), 1);
        assert_eq!(checkin[0].planned_at, committed + Duration::days(QUIET_DAYS));
        let due: Vec<_> = first.iter().filter(|p| p.kind == NotificationKind::ExperimentDue).collect();
        assert_eq!(due[0].planned_at, local(berlin(), 2026, 3, 19, 9));
        // A check-in two days on: a new stretch, a new key, the old one no longer planned.
        let checked = committed + Duration::days(2);
        let after = plan_experiments(checked, &[facts(checked)], &recipients);
        let next = after.iter().find(|p| p.kind == NotificationKind::CheckinDue).unwrap();
        assert_ne!(next.key, checkin[0].key);
        assert_eq!(next.planned_at, checked + Duration::days(QUIET_DAYS));
        // Already quiet for longer when planned: it goes now, once.
        let late = committed + Duration::days(30);
        let overdue = plan_experiments(late, &[facts(committed)], &recipients);
        assert_eq!(overdue.iter().find(|p| p.kind == NotificationKind::CheckinDue).unwrap().planned_at, late);
        let mut closed = facts(committed);
        closed.open = false;
        assert!(plan_experiments(now, &[closed], &recipients).is_empty());
    }

    #[test]
    fn digests_go_at_eight_local_daily_or_on_mondays_across_dst() {
        let at = |y, m, d, h| local(berlin(), y, m, d, h);
        // Saturday 27 March 2027, 09:00: the next daily digest is Sunday 08:00 (summer time by then).
        assert_eq!(next_digest(at(2027, 3, 27, 9), DigestMode::Daily, berlin()), Some(at(2027, 3, 28, 8)));
        assert_eq!(next_digest(at(2027, 3, 27, 7), DigestMode::Daily, berlin()), Some(at(2027, 3, 27, 8)));
        assert_eq!(next_digest(at(2027, 3, 27, 9), DigestMode::Weekly, berlin()), Some(at(2027, 3, 29, 8)));
        // Monday at 08:00 exactly: that one.
        assert_eq!(next_digest(at(2027, 3, 29, 8), DigestMode::Weekly, berlin()), Some(at(2027, 3, 29, 8)));
        assert_eq!(next_digest(at(2027, 3, 29, 9), DigestMode::Weekly, berlin()), Some(at(2027, 4, 5, 8)));
        assert_eq!(next_digest(at(2027, 3, 29, 9), DigestMode::Off, berlin()), None);
    }

    fn zone() -> impl Strategy<Value = Tz> {
        prop::sample::select(vec!["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"])
            .prop_map(|z| z.parse::<Tz>().unwrap())
    }

    proptest! {
        /// Whatever the sessions, zones, quiet hours and lead times: planning twice gives the same
        /// set, keys are unique, nothing goes out before now or after the session starts, nothing
        /// lands inside quiet hours, and cancelled sessions and inactive members get nothing.
        #[test]
        fn plans_are_stable_unique_on_time_and_quiet(
            start_days in prop::collection::vec((0i64..60, 0u32..24, any::<bool>()), 1..8),
            tz in zone(),
            quiet in prop::option::of((0u32..24, 0u32..24)),
            leads in prop::collection::vec(5u32..3000, 1..3),
            active in any::<bool>(),
            now_hours in 0i64..48,
        ) {
            let quiet = quiet.filter(|(s, e)| s != e);
            let ada = UserId::from_untyped("ada");
            let r = Recipient {
                time_zone: tz,
                active,
                quiet_hours: quiet.map(|(s, e)| (NaiveTime::from_hms_opt(s, 0, 0).unwrap(), NaiveTime::from_hms_opt(e, 0, 0).unwrap())),
                leads: HashMap::from([
                    (NotificationKind::SessionSoon, leads.clone()),
                    (NotificationKind::DutySoon, leads.clone()),
                    (NotificationKind::SkillshareSoon, leads),
                ]),
                muted: Vec::new(),
            };
            let recipients = HashMap::from([(ada.clone(), r.clone())]);
            let base = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
            let sessions: Vec<SessionFacts> = start_days.iter().enumerate().map(|(i, (d, h, cancelled))| SessionFacts {
                id: SessionId::from_untyped(format!("s{i}")),
                starts_at: base + Duration::days(*d) + Duration::hours(i64::from(*h)),
                cancelled: *cancelled,
                attendees: vec![ada.clone()],
                duties: vec![(ada.clone(), false)],
                presenters: vec![(ada.clone(), format!("slot{i}"))],
            }).collect();
            let now = base + Duration::hours(now_hours);
            let first = plan(now, &sessions, &recipients);
            prop_assert_eq!(&first, &plan(now, &sessions, &recipients));
            let mut keys: Vec<&String> = first.iter().map(|p| &p.key).collect();
            keys.dedup();
            prop_assert_eq!(keys.len(), first.len());
            if !active { prop_assert!(first.is_empty()); }
            for p in &first {
                let session = sessions.iter().find(|s| s.id == p.session_id).unwrap();
                prop_assert!(!session.cancelled);
                prop_assert!(p.planned_at >= now && p.planned_at < session.starts_at);
                if let Some(q) = r.quiet_hours {
                    let local = p.planned_at.with_timezone(&tz).time();
                    prop_assert!(!is_quiet(local, q), "{} is inside quiet hours {:?}", local, q);
                }
            }
        }
    }
}
