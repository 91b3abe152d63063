//! Sessions, duties, skill-share slots and experiments' due dates -> an iCalendar (RFC 5545)
//! document. Pure: plain values in (`now` among them), text out; written with the `icalendar`
//! crate, which folds lines at 75 octets and escapes text.
//!
//! The rules:
//! - **The calendar**: `VERSION:2.0`, `PRODID`, `CALSCALE:GREGORIAN`, `X-WR-CALNAME`,
//!   `REFRESH-INTERVAL;VALUE=DURATION:PT1H` and `X-PUBLISHED-TTL:PT1H` (calendar apps poll hourly).
//! - **One VEVENT per session**, `UID:session-<id>@<host of the base URL>`: stable for the
//!   session's life, whatever changes. Times in UTC with `Z` (`DTSTART`, `DTEND`), always: a
//!   weekly session keeps its local time across DST because sessions are stored as instants
//!   computed in the cohort's zone, so the feed has nothing to convert.
//! - **SEQUENCE** is the session's revision (`feed_revisions`, kept by database triggers on every
//!   change of time, title, location, status or of a duty in it); **LAST-MODIFIED** the later of
//!   the session's own `updated_at` and that revision's time; **DTSTAMP** equals LAST-MODIFIED:
//!   in a published feed (no `METHOD`) it is when the information was last revised (RFC 5545
//!   3.8.7.2), and it keeps the body, and so the ETag, unchanged while nothing changes.
//! - **SUMMARY** is the title, then ` — you are <duty>` when the reader holds one
//!   (` — you are Timekeeper and Note-taker` for two). **DESCRIPTION**: the cohort, the reader's
//!   duties (or, in a cohort feed, every duty and its holder), the reader's skill-share slots
//!   (presenting, attending, or place N on the waitlist), the reason of a cancellation, and the
//!   session's page in the app (`<base>/app/sessions/<id>`, also the `URL`).
//! - **Cancelled** sessions carry `STATUS:CANCELLED` and stay in the feed for [`CANCELLED_KEPT`]
//!   after they were cancelled, so calendar apps strike them through instead of losing them.
//! - **Window**: sessions starting from [`PAST`] ago to [`AHEAD`] ahead of `now`.
//! - **Experiments' due dates** (the reader's own, not done or dropped): an all-day VEVENT on the
//!   due date, `UID:experiment-<id>@<host>`, `SUMMARY:Due: <title>`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

/// How far back the feed reaches.
pub const PAST: Duration = Duration::days(30);
/// How far ahead the feed reaches.
pub const AHEAD: Duration = Duration::days(180);
/// How long a cancelled session stays in the feed after its cancellation.
pub const CANCELLED_KEPT: Duration = Duration::days(30);

/// Who the calendar is for and where its links point.
#[derive(Debug, Clone)]
pub struct Feed {
    /// `X-WR-CALNAME`.
    pub name: String,
    /// `ROUNDTABLE_BASE_URL`, without a trailing slash.
    pub base_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotPart {
    Presenting,
    Attending,
    /// On the waitlist, at this place (1 is next) when known.
    Waitlisted(Option<i64>),
}

#[derive(Debug, Clone)]
pub struct Slot {
    pub title: String,
    pub part: SlotPart,
}

#[derive(Debug, Clone)]
pub struct SessionEntry {
    pub id: String,
    pub title: String,
    pub location: String,
    pub cohort: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cancelled: bool,
    pub cancel_reason: Option<String>,
    /// When it was cancelled (the latest `session.cancelled` event), if it is.
    pub cancelled_at: Option<DateTime<Utc>>,
    pub sequence: u32,
    pub last_modified: DateTime<Utc>,
    /// The reader's duties in it, by role name.
    pub my_duties: Vec<String>,
    /// A cohort feed: every duty (role name, holder's name or none).
    pub duty_holders: Option<Vec<(String, Option<String>)>>,
    pub my_slots: Vec<Slot>,
}

#[derive(Debug, Clone)]
pub struct DueEntry {
    pub id: String,
    pub title: String,
    pub cohort: String,
    pub due_on: NaiveDate,
    pub sequence: u32,
    pub last_modified: DateTime<Utc>,
}

/// The instants a feed's sessions start within: `[now - PAST, now + AHEAD)`.
pub fn window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (now - PAST, now + AHEAD)
}

/// Whether the session belongs in a feed read at `now`.
pub fn shown(session: &SessionEntry, now: DateTime<Utc>) -> bool {
    let (from, to) = window(now);
    let in_window = session.starts_at >= from && session.starts_at < to;
    let kept = !session.cancelled || session.cancelled_at.is_none_or(|at| now - at <= CANCELLED_KEPT);
    in_window && kept
}

/// The host part of the base URL, for UIDs (`session-<id>@<host>`).
pub fn host(base_url: &str) -> String {
    let rest = base_url.split_once("://").map_or(base_url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if host.starts_with('[') {
        host.split_once(']').map_or(host, |(h, _)| h).trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or(host)
    };
    if host.is_empty() { "roundtable.invalid".to_string() } else { host.to_string() }
}

pub fn session_uid(id: &str, host: &str) -> String {
    format!("session-{id}@{host}")
}

pub fn experiment_uid(id: &str, host: &str) -> String {
    format!("experiment-{id}@{host}")
}

/// Text as a content value may hold it: line breaks become `\n` (the crate escapes them), other
/// control characters (a stray CR would end the content line) are dropped.
pub fn clean(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n").chars().filter(|c| *c == '\n' || !c.is_control()).collect()
}

/// TEXT escaping (RFC 5545 3.3.11) for the properties the crate does not know as text
/// (`X-WR-CALNAME`).
fn escaped(text: &str) -> String {
    clean(text).replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;").replace('\n', "\\n")
}

/// Content lines folded at 75 octets (RFC 5545 3.1), on character boundaries, never next to a
/// space. The crate folds
/// too, but its last continuation line can be 76 octets (icalendar 0.17.17 `fold_line` stops
/// while 75 bytes remain, then prefixes the space), so its output is unfolded and folded again.
fn refold(text: &str) -> String {
    const LIMIT: usize = 75;
    let unfolded = text.replace("\r\n ", "");
    let mut out = String::with_capacity(unfolded.len() + unfolded.len() / 24);
    for line in unfolded.split("\r\n").filter(|l| !l.is_empty()) {
        let mut rest = line;
        let mut room = LIMIT;
        while rest.len() > room {
            // On a character boundary, and where it can be (within 20 bytes) not next to a
            // space: some readers trim the spaces around a fold, not only the one it added.
            let boundary = |mut at: usize| {
                while !rest.is_char_boundary(at) {
                    at -= 1;
                }
                at
            };
            let spaced = |at: usize| rest[at..].starts_with([' ', '\t']) || rest[..at].ends_with([' ', '\t']);
            let mut cut = boundary(room);
            while cut > room - 20 && spaced(cut) {
                cut = boundary(cut - 1);
            }
            if spaced(cut) {
                cut = boundary(room);
            }
            out.push_str(&rest[..cut]);
            out.push_str("\r\n ");
            rest = &rest[cut..];
            room = LIMIT - 1;
        }
        out.push_str(rest);
        out.push_str("\r\n");
    }
    out
}

/// "Timekeeper", "Timekeeper and Note-taker", "A, B and C".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

pub fn summary(session: &SessionEntry) -> String {
    let title = clean(&session.title);
    if session.my_duties.is_empty() {
        title
    } else {
        clean(&format!("{title} — you are {}", and_list(&session.my_duties)))
    }
}

pub fn description(session: &SessionEntry, base_url: &str) -> String {
    let mut lines = vec![format!("Cohort: {}", session.cohort)];
    if session.cancelled {
        match &session.cancel_reason {
            Some(reason) => lines.push(format!("Cancelled: {reason}")),
            None => lines.push("Cancelled".to_string()),
        }
    }
    match session.my_duties.as_slice() {
        [] => {}
        [one] => lines.push(format!("Your duty: {one}")),
        many => lines.push(format!("Your duties: {}", and_list(many))),
    }
    if let Some(holders) = &session.duty_holders {
        if holders.is_empty() {
            lines.push("Duties: none planned yet".to_string());
        } else {
            lines.push("Duties:".to_string());
            for (role, holder) in holders {
                lines.push(format!("{role}: {}", holder.as_deref().unwrap_or("nobody yet")));
            }
        }
    }
    for slot in &session.my_slots {
        let part = match slot.part {
            SlotPart::Presenting => "you are presenting".to_string(),
            SlotPart::Attending => "you have a place".to_string(),
            SlotPart::Waitlisted(Some(place)) => format!("you are place {place} on the waitlist"),
            SlotPart::Waitlisted(None) => "you are on the waitlist".to_string(),
        };
        lines.push(format!("Skill share: {} ({part})", slot.title));
    }
    lines.push(session_link(session, base_url));
    clean(&lines.join("\n"))
}

fn session_link(session: &SessionEntry, base_url: &str) -> String {
    format!("{base_url}/app/sessions/{}", session.id)
}

fn session_event(session: &SessionEntry, feed: &Feed, host: &str) -> Event {
    let mut event = Event::new();
    event
        .uid(&session_uid(&session.id, host))
        .timestamp(session.last_modified)
        .last_modified(session.last_modified)
        .sequence(session.sequence)
        .starts(session.starts_at)
        .ends(session.ends_at)
        .summary(&summary(session))
        .description(&description(session, &feed.base_url))
        .url(&session_link(session, &feed.base_url))
        .status(if session.cancelled { EventStatus::Cancelled } else { EventStatus::Confirmed });
    if !session.location.trim().is_empty() {
        event.location(&clean(&session.location));
    }
    event.done()
}

fn due_event(due: &DueEntry, feed: &Feed, host: &str) -> Event {
    let mut event = Event::new();
    event
        .uid(&experiment_uid(&due.id, host))
        .timestamp(due.last_modified)
        .last_modified(due.last_modified)
        .sequence(due.sequence)
        .starts(due.due_on)
        .ends(due.due_on + Duration::days(1))
        .summary(&clean(&format!("Due: {}", due.title)))
        .description(&clean(&format!(
            "Your experiment in {} is due.\n{}/app/experiments/{}",
            due.cohort, feed.base_url, due.id
        )))
        .add_property("TRANSP", "TRANSPARENT");
    event.done()
}

/// The calendar document: the sessions `shown` at `now` (in start order), then the due dates.
pub fn calendar(feed: &Feed, sessions: &[SessionEntry], dues: &[DueEntry], now: DateTime<Utc>) -> String {
    let host = host(&feed.base_url);
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//Roundtable//Calendar feed//EN"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("X-WR-CALNAME", escaped(&feed.name)))
        .append_property(Property::new("REFRESH-INTERVAL", "PT1H").add_parameter("VALUE", "DURATION").done())
        .append_property(Property::new("X-PUBLISHED-TTL", "PT1H"));
    let mut shown_sessions: Vec<&SessionEntry> = sessions.iter().filter(|s| shown(s, now)).collect();
    shown_sessions.sort_by(|a, b| (a.starts_at, &a.id).cmp(&(b.starts_at, &b.id)));
    for session in shown_sessions {
        calendar.push(session_event(session, feed, &host));
    }
    let mut dues: Vec<&DueEntry> = dues.iter().collect();
    dues.sort_by(|a, b| (a.due_on, &a.id).cmp(&(b.due_on, &b.id)));
    for due in dues {
        calendar.push(due_event(due, feed, &host));
    }
    refold(&calendar.done().to_string())
}

/// One session as its own calendar (the "add to calendar" download), whatever the window.
pub fn single(feed: &Feed, session: &SessionEntry) -> String {
    let host = host(&feed.base_url);
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//Roundtable//Calendar feed//EN"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .push(session_event(session, feed, &host));
    refold(&calendar.done().to_string())
}

/// A file name for a download: the title without characters file systems or headers refuse.
pub fn file_name(title: &str) -> String {
    let cleaned: String = title
        .chars()
        .map(|c| if c.is_control() || "\"\\/:*?<>|".contains(c) { '_' } else { c })
        .collect::<String>()
        .trim()
        .to_string();
    if cleaned.is_empty() { "session".to_string() } else { cleaned.chars().take(100).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn feed() -> Feed {
        Feed { name: "Roundtable — Ada".into(), base_url: "https://rt.example.org".into() }
    }

    fn session(id: &str, starts_at: DateTime<Utc>) -> SessionEntry {
        SessionEntry {
            id: id.into(),
            title: "Weekly circle".into(),
            location: "Room 4".into(),
            cohort: "Circle".into(),
            starts_at,
            ends_at: starts_at + Duration::minutes(90),
            cancelled: false,
            cancel_reason: None,
            cancelled_at: None,
            sequence: 0,
            last_modified: at(2026, 12, 1, 9, 0),
            my_duties: Vec::new(),
            duty_holders: None,
            my_slots: Vec::new(),
        }
    }

    /// Unfolded content lines (RFC 5545 3.1).
    fn unfolded(text: &str) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for line in text.split("\r\n") {
            if let Some(rest) = line.strip_prefix(' ') {
                lines.last_mut().unwrap().push_str(rest);
            } else if !line.is_empty() {
                lines.push(line.to_string());
            }
        }
        lines
    }

    /// The property lines of each VEVENT.
    fn events(text: &str) -> Vec<Vec<String>> {
        let mut all = Vec::new();
        let mut current: Option<Vec<String>> = None;
        for line in unfolded(text) {
            match line.as_str() {
                "BEGIN:VEVENT" => current = Some(Vec::new()),
                "END:VEVENT" => all.push(current.take().unwrap()),
                _ => {
                    if let Some(event) = current.as_mut() {
                        event.push(line);
                    }
                }
            }
        }
        all
    }

    fn value<'a>(event: &'a [String], name: &str) -> Option<&'a str> {
        event.iter().find_map(|l| {
            let (head, value) = l.split_once(':')?;
            (head == name || head.starts_with(&format!("{name};"))).then_some(value)
        })
    }

    #[test]
    fn the_calendar_carries_its_headers_and_times_in_utc() {
        let now = at(2026, 12, 1, 12, 0);
        let text = calendar(&feed(), &[session("s1", at(2027, 3, 30, 16, 0))], &[], now);
        let lines = unfolded(&text);
        for expected in [
            "VERSION:2.0",
            "CALSCALE:GREGORIAN",
            "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
            "X-PUBLISHED-TTL:PT1H",
            "X-WR-CALNAME:Roundtable — Ada",
        ] {
            assert!(lines.iter().any(|l| l == expected), "missing {expected} in {text}");
        }
        let event = &events(&text)[0];
        assert_eq!(value(event, "UID"), Some("session-s1@rt.example.org"));
        assert_eq!(value(event, "DTSTART"), Some("20270330T160000Z"));
        assert_eq!(value(event, "DTEND"), Some("20270330T173000Z"));
        assert_eq!(value(event, "DTSTAMP"), Some("20261201T090000Z"));
        assert_eq!(value(event, "STATUS"), Some("CONFIRMED"));
        assert_eq!(value(event, "URL"), Some("https://rt.example.org/app/sessions/s1"));
        // The same input gives the same text: `now` only picks what is shown.
        assert_eq!(text, calendar(&feed(), &[session("s1", at(2027, 3, 30, 16, 0))], &[], now + Duration::hours(5)));
    }

    #[test]
    fn duties_and_slots_read_in_summary_and_description() {
        let mut s = session("s1", at(2027, 1, 5, 17, 0));
        s.my_duties = vec!["Timekeeper".into()];
        s.my_slots = vec![
            Slot { title: "Rust tips".into(), part: SlotPart::Presenting },
            Slot { title: "Knots".into(), part: SlotPart::Waitlisted(Some(2)) },
        ];
        assert_eq!(summary(&s), "Weekly circle — you are Timekeeper");
        let text = description(&s, "https://rt.example.org");
        assert!(text.contains("Cohort: Circle"));
        assert!(text.contains("Your duty: Timekeeper"));
        assert!(text.contains("Skill share: Rust tips (you are presenting)"));
        assert!(text.contains("Skill share: Knots (you are place 2 on the waitlist)"));
        assert!(text.ends_with("https://rt.example.org/app/sessions/s1"));
        s.my_duties.push("Note-taker".into());
        assert_eq!(summary(&s), "Weekly circle — you are Timekeeper and Note-taker");
        s.duty_holders = Some(vec![("Timekeeper".into(), Some("Ada".into())), ("Host".into(), None)]);
        let text = description(&s, "https://rt.example.org");
        assert!(text.contains("Timekeeper: Ada") && text.contains("Host: nobody yet"));
    }

    #[test]
    fn the_window_and_cancelled_sessions() {
        let now = at(2026, 12, 1, 12, 0);
        assert!(shown(&session("a", now - Duration::days(30)), now));
        assert!(!shown(&session("b", now - Duration::days(31)), now));
        assert!(shown(&session("c", now + Duration::days(179)), now));
        assert!(!shown(&session("d", now + Duration::days(180)), now));
        let mut cancelled = session("e", now + Duration::days(60));
        cancelled.cancelled = true;
        cancelled.cancelled_at = Some(now - Duration::days(29));
        assert!(shown(&cancelled, now));
        let text = calendar(&feed(), std::slice::from_ref(&cancelled), &[], now);
        assert_eq!(value(&events(&text)[0], "STATUS"), Some("CANCELLED"));
        cancelled.cancelled_at = Some(now - Duration::days(31));
        assert!(!shown(&cancelled, now));
    }

    #[test]
    fn a_due_date_is_an_all_day_event() {
        let due = DueEntry {
            id: "e1".into(),
            title: "Ship it".into(),
            cohort: "Circle".into(),
            due_on: NaiveDate::from_ymd_opt(2026, 12, 21).unwrap(),
            sequence: 2,
            last_modified: at(2026, 12, 1, 9, 0),
        };
        let text = calendar(&feed(), &[], &[due], at(2026, 12, 1, 12, 0));
        let event = &events(&text)[0];
        assert_eq!(value(event, "DTSTART"), Some("20261221"));
        assert!(event.iter().any(|l| l == "DTSTART;VALUE=DATE:20261221"));
        assert_eq!(value(event, "DTEND"), Some("20261222"));
        assert_eq!(value(event, "UID"), Some("experiment-e1@rt.example.org"));
        assert_eq!(value(event, "SEQUENCE"), Some("2"));
        assert_eq!(value(event, "SUMMARY"), Some("Due: Ship it"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_and_unfold_to_the_same_text() {
        for len in [74, 75, 76, 149, 150, 151, 300] {
            for filler in ["é", "abc ", "ab  ", "€€ ", "  "] {
                let line = format!("DESCRIPTION:{}", filler.repeat(len / filler.len()));
                let folded = refold(&format!("{line}\r\n"));
                assert!(folded.split("\r\n").all(|l| l.len() <= 75), "{folded:?}");
                if filler.trim() != "" {
                    let next_to_space = folded.contains("\r\n  ") || folded.contains(" \r\n ");
                    assert!(!next_to_space, "a fold next to a space: {folded:?}");
                }
                assert_eq!(folded.replace("\r\n ", ""), format!("{line}\r\n"));
            }
        }
    }

    #[test]
    fn hosts_and_file_names() {
        assert_eq!(host("https://rt.example.org/"), "rt.example.org");
        assert_eq!(host("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host("http://[::1]:8080/x"), "::1");
        assert_eq!(file_name("Weekly circle"), "Weekly circle");
        assert_eq!(file_name("a/b\"c"), "a_b_c");
        assert_eq!(file_name("  "), "session");
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z ]{0,40}",
            "[a-zA-Zäöüß€—;,:\\\\\r\n ]{0,120}",
            proptest::collection::vec(any::<char>(), 0..90).prop_map(|cs| cs.into_iter().collect()),
        ]
    }

    proptest! {
        #[test]
        fn every_event_is_complete_unique_and_folded(
            items in proptest::collection::vec((any_text(), any_text(), 0i64..400, any::<bool>(), 0u32..50), 0..30),
            duties in proptest::collection::vec(any_text(), 0..3),
        ) {
            let now = at(2026, 12, 1, 12, 0);
            let sessions: Vec<SessionEntry> = items
                .iter()
                .enumerate()
                .map(|(i, (title, location, days, cancelled, seq))| {
                    let mut s = session(&format!("id-{i}"), now - Duration::days(40) + Duration::days(*days));
                    s.title = title.clone();
                    s.location = location.clone();
                    s.cancelled = *cancelled;
                    s.cancelled_at = cancelled.then_some(now - Duration::days(*days % 45));
                    s.sequence = *seq;
                    s.my_duties = duties.clone();
                    s
                })
                .collect();
            let text = calendar(&feed(), &sessions, &[], now);
            for line in text.split("\r\n") {
                prop_assert!(line.len() <= 75, "{} octets: {:?}", line.len(), line);
            }
            let events = events(&text);
            let expected = sessions.iter().filter(|s| shown(s, now)).count();
            prop_assert_eq!(events.len(), expected);
            let mut uids = std::collections::HashSet::new();
            for event in &events {
                for name in ["DTSTAMP", "DTSTART", "DTEND", "UID", "SEQUENCE", "SUMMARY"] {
                    prop_assert!(value(event, name).is_some(), "no {}", name);
                }
                prop_assert!(uids.insert(value(event, "UID").unwrap().to_string()));
            }
        }
    }
}
