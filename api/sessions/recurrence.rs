//! Recurring sessions (pure). A series is an RFC 5545 RRULE, a first date, a local start time
//! and the cohort's IANA zone. The rule is expanded in wall-clock time (naive local date-times,
//! fed to the rrule crate as if they were UTC), and only then is each local start mapped to an
//! instant with chrono-tz. Expanding in a real zone would inherit the rrule crate's DST bugs
//! (duplicated or missing occurrences, a panic inside a gap); expanding in wall-clock time keeps a
//! Tuesday 18:00 session at 18:00 through both clock changes.
//!
//! Mapping a local time to an instant follows RFC 5545 §3.3.5: a time that does not exist (the
//! spring-forward gap) is read with the offset in force before the gap, which moves it forward by
//! the gap's length; a time that exists twice (the autumn fall-back) takes the first.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, Unvalidated};

/// A checked recurrence rule.
#[derive(Debug, Clone)]
pub struct Rule(RRule<Unvalidated>);

/// Parses an RRULE (with or without the `RRULE:` prefix). Sessions recur daily at most, once a
/// day, at the series' local start time; `UNTIL` is read as local wall-clock time.
pub fn parse_rule(text: &str) -> Result<Rule, String> {
    let body = text.trim().trim_start_matches("RRULE:").trim();
    if body.is_empty() {
        return Err("is empty".to_string());
    }
    let normalised: Vec<String> = body
        .split(';')
        .map(|part| match part.split_once('=') {
            // The rule runs in wall-clock time, which the rrule crate knows as UTC.
            Some((key, value)) if key.eq_ignore_ascii_case("UNTIL") && !value.ends_with('Z') => {
                let value = if value.len() == 8 { format!("{value}T235959") } else { value.to_string() };
                format!("UNTIL={value}Z")
            }
            _ => part.to_string(),
        })
        .collect();
    let rule: RRule<Unvalidated> = normalised.join(";").parse().map_err(|e| format!("is not an RFC 5545 rule: {e}"))?;
    if matches!(rule.get_freq(), Frequency::Hourly | Frequency::Minutely | Frequency::Secondly) {
        return Err("must repeat daily, weekly, monthly or yearly".to_string());
    }
    if !rule.get_by_hour().is_empty() || !rule.get_by_minute().is_empty() || !rule.get_by_second().is_empty() {
        return Err("must not set BYHOUR, BYMINUTE or BYSECOND: the series' local_time gives the time".to_string());
    }
    if rule.get_interval() == 0 {
        return Err("INTERVAL must be at least 1".to_string());
    }
    if rule.get_count() == Some(0) {
        return Err("COUNT must be at least 1".to_string());
    }
    if let Some(until) = rule.get_until()
        && !YEARS.contains(&until.year())
    {
        return Err(format!("UNTIL must fall in the years {} to {}", YEARS.start(), YEARS.end()));
    }
    Ok(Rule(rule))
}

/// The years any date or time in a request may fall in (one rule for the whole API).
pub use crate::validation::YEARS;

/// Whether a series can follow `rule` from `starts_on` at `local_time`: the rule must fit the
/// first date (UNTIL not before it) and give at least one session. The reason when it cannot.
pub fn check_series(rule: &Rule, starts_on: NaiveDate, local_time: NaiveTime) -> Result<(), String> {
    let first = starts_on.and_time(local_time);
    if let Some(until) = rule.0.get_until()
        && until.naive_utc() < first
    {
        return Err(format!("UNTIL is before the first session ({first})"));
    }
    let end = NaiveDate::from_ymd_opt(*YEARS.end(), 12, 31).and_then(|d| d.and_hms_opt(23, 59, 59)).unwrap_or(first);
    let found = rule.local_starts(first, first, end, 1)?;
    if found.is_empty() {
        return Err("gives no session from the first date on".to_string());
    }
    Ok(())
}

impl Rule {
    pub fn as_text(&self) -> String {
        self.0.to_string()
    }

    /// The rule's COUNT, if it has one.
    pub fn count(&self) -> Option<u32> {
        self.0.get_count()
    }

    /// The same rule with another COUNT (for the part of a series that remains after a split).
    pub fn with_count(&self, count: u32) -> Rule {
        Rule(self.0.clone().count(count))
    }

    /// Local start times from `first` on that fall in `[from, to]`, at most `max`.
    pub fn local_starts(
        &self,
        first: NaiveDateTime,
        from: NaiveDateTime,
        to: NaiveDateTime,
        max: u16,
    ) -> Result<Vec<NaiveDateTime>, String> {
        let wall = |t: NaiveDateTime| rrule::Tz::UTC.from_utc_datetime(&t);
        let set = self.0.clone().build(wall(first)).map_err(|e| format!("does not fit the first date: {e}"))?;
        let result = set.after(wall(from)).before(wall(to)).all(max);
        Ok(result.dates.into_iter().map(|d| d.naive_utc()).collect())
    }
}

/// The instant of a local date-time in `tz`, by the gap and overlap rules above.
pub fn instant(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Two days earlier is safely before the transition and after the one before it.
            let before_gap = tz.offset_from_utc_datetime(&(local - Duration::days(2))).fix();
            (local - Duration::seconds(i64::from(before_gap.local_minus_utc()))).and_utc()
        }
    }
}

/// One planned occurrence: its key (the local start the rule gives, which never changes) and
/// its instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub local: NaiveDateTime,
    pub starts_at: DateTime<Utc>,
}

/// The occurrences of a series whose local start falls in `[from, to]`.
pub fn occurrences(
    rule: &Rule,
    starts_on: NaiveDate,
    local_time: NaiveTime,
    tz: Tz,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<Occurrence>, String> {
    let first = starts_on.and_time(local_time);
    let locals = rule.local_starts(first, from.max(first), to, u16::MAX)?;
    Ok(locals.into_iter().map(|local| Occurrence { local, starts_at: instant(local, tz) }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }
    fn tz(name: &str) -> Tz {
        name.parse().unwrap()
    }
    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_weekly_evening_session_stays_at_18_00_across_both_changes() {
        let berlin = tz("Europe/Berlin");
        let rule = parse_rule("FREQ=WEEKLY;BYDAY=TU").unwrap();
        let start = NaiveDate::from_ymd_opt(2027, 3, 16).unwrap();
        let list = occurrences(
            &rule,
            start,
            NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            berlin,
            at("2027-01-01 00:00"),
            at("2027-12-31 23:59"),
        )
        .unwrap();
        assert_eq!(list.len(), 42);
        assert_eq!(list[0].starts_at, utc("2027-03-16T17:00:00Z"), "CET");
        assert_eq!(list[2].starts_at, utc("2027-03-30T16:00:00Z"), "CEST after 28 March");
        let november = list.iter().find(|o| o.local.date() == NaiveDate::from_ymd_opt(2027, 11, 2).unwrap()).unwrap();
        assert_eq!(november.starts_at, utc("2027-11-02T17:00:00Z"), "CET again after 31 October");
        assert!(
            list.iter()
                .all(|o| o.starts_at.with_timezone(&berlin).time() == NaiveTime::from_hms_opt(18, 0, 0).unwrap())
        );
    }

    #[test]
    fn times_in_the_gap_move_forward_and_doubled_times_take_the_first() {
        let berlin = tz("Europe/Berlin");
        assert_eq!(
            instant(at("2027-03-28 02:30"), berlin),
            utc("2027-03-28T01:30:00Z"),
            "02:30 does not exist: 03:30 CEST"
        );
        assert_eq!(
            instant(at("2027-10-31 02:30"), berlin),
            utc("2027-10-31T00:30:00Z"),
            "02:30 CEST, the first of two"
        );
        let lord_howe = tz("Australia/Lord_Howe");
        // Lord Howe Island moves its clocks by 30 minutes: 02:00 becomes 02:30 on 3 Oct 2027.
        let shifted = instant(at("2027-10-03 02:15"), lord_howe);
        assert_eq!(shifted.with_timezone(&lord_howe).time(), NaiveTime::from_hms_opt(2, 45, 0).unwrap());
    }

    #[test]
    fn monthly_on_the_second_thursday_with_count_and_until() {
        let rule = parse_rule("RRULE:FREQ=MONTHLY;BYDAY=2TH;COUNT=3").unwrap();
        let list = occurrences(
            &rule,
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            tz("UTC"),
            at("2027-01-01 00:00"),
            at("2028-01-01 00:00"),
        )
        .unwrap();
        let days: Vec<String> = list.iter().map(|o| o.local.date().to_string()).collect();
        assert_eq!(days, ["2027-01-14", "2027-02-11", "2027-03-11"]);
        let until = parse_rule("FREQ=WEEKLY;INTERVAL=2;UNTIL=20270301").unwrap();
        let list = occurrences(
            &until,
            NaiveDate::from_ymd_opt(2027, 1, 4).unwrap(),
            NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            tz("UTC"),
            at("2027-01-01 00:00"),
            at("2028-01-01 00:00"),
        )
        .unwrap();
        assert_eq!(list.len(), 5, "4 Jan to 1 Mar every other week");
    }

    #[test]
    fn rules_that_sessions_cannot_follow_are_refused() {
        assert!(parse_rule("").is_err());
        assert!(parse_rule("FREQ=HOURLY").is_err());
        assert!(parse_rule("FREQ=WEEKLY;BYHOUR=9").is_err());
        assert!(parse_rule("FREQ=SOMETIMES").is_err());
        assert!(parse_rule("FREQ=WEEKLY;BYDAY=MO,WE").is_ok());
        assert!(parse_rule("FREQ=WEEKLY;INTERVAL=0").is_err());
        assert!(parse_rule("FREQ=DAILY;UNTIL=00010101").is_err(), "UNTIL before 1900");
    }

    #[test]
    fn a_series_needs_a_rule_that_gives_it_a_session() {
        let (day, six) = (NaiveDate::from_ymd_opt(2027, 1, 4).unwrap(), NaiveTime::from_hms_opt(18, 0, 0).unwrap());
        let check = |rule: &str| check_series(&parse_rule(rule).unwrap(), day, six);
        assert!(check("FREQ=WEEKLY").is_ok());
        assert!(check("FREQ=DAILY;UNTIL=20270104").is_ok(), "UNTIL on the first day, read to its end");
        assert!(check("FREQ=DAILY;UNTIL=20270103").unwrap_err().contains("before"));
        assert!(check("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30").is_err());
        let rule = parse_rule("FREQ=WEEKLY;COUNT=6").unwrap();
        assert_eq!(rule.count(), Some(6));
        assert_eq!(parse_rule(&rule.with_count(4).as_text()).unwrap().count(), Some(4));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Over many zones and years: one occurrence per rule date, strictly increasing instants,
        /// each on the right local day, at the local time unless that time fell in a gap (then
        /// later the same day by at most the gap).
        #[test]
        fn weekly_sessions_keep_their_local_time_in_every_zone(
            zone in 0usize..chrono_tz::TZ_VARIANTS.len(),
            year in 1990i32..2060,
            hour in 0u32..24,
            minute in prop::sample::select(vec![0u32, 15, 30, 45]),
        ) {
            let tz = chrono_tz::TZ_VARIANTS[zone];
            let rule = parse_rule("FREQ=WEEKLY").unwrap();
            let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap();
            let end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap().and_hms_opt(23, 59, 0).unwrap();
            let list = occurrences(&rule, start, time, tz, start.and_hms_opt(0, 0, 0).unwrap(), end).unwrap();
            prop_assert!(list.len() == 52 || list.len() == 53);
            for pair in list.windows(2) {
                prop_assert!(pair[0].starts_at < pair[1].starts_at);
            }
            for o in &list {
                prop_assert_eq!(o.local.time(), time);
                let shown = o.starts_at.with_timezone(&tz).naive_local();
                let drift = shown - o.local;
                // Zero, or forward across a gap (historic gaps reach a whole day, e.g. Samoa 2011).
                prop_assert!(drift >= Duration::zero() && drift <= Duration::hours(24), "{} -> {}", o.local, shown);
                if drift > Duration::zero() {
                    prop_assert!(matches!(tz.from_local_datetime(&o.local), LocalResult::None));
                }
            }
        }
    }
}
