//! How a time reads in mail and on the pages its links open: in the recipient's time zone, in the
//! clock and date order of their locale (the account's BCP 47 `locale`).
//!
//! Rules:
//! - The zone is the account's `time_zone`; its name follows the time in full forms, so nobody
//!   reads it as their phone's local time.
//! - The regions that write a 12-hour clock use it (`en-US`, `en-CA`, `en-AU`, `en-NZ`, `en-IN`,
//!   `en-PH`, and any language in those regions); everyone else reads 24 hours.
//! - The US, Canada and the Philippines put the month first (`Tue, Mar 3`); others the day
//!   (`Tue 3 Mar`).
//! - A locale without a region (`en`, the default) reads 24 hours, day first.
//! - Words stay English: Roundtable has no translations yet, so day and month names are English
//!   whatever the language.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

const TWELVE_HOURS: [&str; 6] = ["US", "CA", "AU", "NZ", "IN", "PH"];
const MONTH_FIRST: [&str; 3] = ["US", "CA", "PH"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub zone: Tz,
    twelve_hours: bool,
    month_first: bool,
}

impl Shown {
    /// In `zone`, with the conventions of `locale` (a BCP 47 tag; an unreadable one reads as `en`).
    pub fn new(zone: Tz, locale: &str) -> Self {
        let region =
            language_tags::LanguageTag::parse(locale).ok().and_then(|tag| tag.region().map(|r| r.to_ascii_uppercase()));
        let is = |list: &[&str]| region.as_deref().is_some_and(|r| list.contains(&r));
        Self { zone, twelve_hours: is(&TWELVE_HOURS), month_first: is(&MONTH_FIRST) }
    }

    /// From the stored strings; an unknown zone reads as UTC.
    pub fn parse(zone: &str, locale: &str) -> Self {
        Self::new(zone.parse().unwrap_or(Tz::UTC), locale)
    }

    pub fn name(&self) -> &'static str {
        self.zone.name()
    }

    fn clock(&self) -> &'static str {
        if self.twelve_hours { "%-I:%M %p" } else { "%H:%M" }
    }

    fn format(&self, at: DateTime<Utc>, date: &str) -> String {
        at.with_timezone(&self.zone).format(date).to_string()
    }

    /// `Tue 10 Mar 2026, 18:00 (Europe/Berlin)`, `Tue, Mar 10 2026, 6:00 PM (America/New_York)`.
    pub fn when(&self, at: DateTime<Utc>) -> String {
        let date = if self.month_first { "%a, %b %-d %Y" } else { "%a %-d %b %Y" };
        format!("{}, {} ({})", self.format(at, date), self.format(at, self.clock()), self.name())
    }

    /// `Tuesday 10 March 2026, 18:00 (Europe/Berlin)`: for a page with room.
    pub fn long(&self, at: DateTime<Utc>) -> String {
        let date = if self.month_first { "%A, %B %-d %Y" } else { "%A %-d %B %Y" };
        format!("{}, {} ({})", self.format(at, date), self.format(at, self.clock()), self.name())
    }

    /// `Tue 10 Mar, 18:00`: for subjects.
    pub fn short(&self, at: DateTime<Utc>) -> String {
        format!("{}, {}", self.day(at), self.format(at, self.clock()))
    }

    /// `Tue 10 Mar`, `Tue, Mar 10`.
    pub fn day(&self, at: DateTime<Utc>) -> String {
        self.format(at, if self.month_first { "%a, %b %-d" } else { "%a %-d %b" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 17, 0, 0).unwrap()
    }

    #[test]
    fn day_first_and_24_hours_unless_the_region_writes_otherwise() {
        let berlin = Shown::parse("Europe/Berlin", "de-DE");
        assert_eq!(berlin.when(at()), "Tue 10 Mar 2026, 18:00 (Europe/Berlin)");
        assert_eq!(berlin.short(at()), "Tue 10 Mar, 18:00");
        assert_eq!(berlin.long(at()), "Tuesday 10 March 2026, 18:00 (Europe/Berlin)");
        assert_eq!(Shown::parse("Europe/London", "en").short(at()), "Tue 10 Mar, 17:00");
        assert_eq!(Shown::parse("Europe/London", "en-GB").short(at()), "Tue 10 Mar, 17:00");
    }

    #[test]
    fn the_us_reads_month_first_on_a_12_hour_clock() {
        let ny = Shown::parse("America/New_York", "en-US");
        assert_eq!(ny.when(at()), "Tue, Mar 10 2026, 1:00 PM (America/New_York)");
        assert_eq!(ny.short(at()), "Tue, Mar 10, 1:00 PM");
        assert_eq!(ny.day(at()), "Tue, Mar 10");
        assert_eq!(Shown::parse("America/Los_Angeles", "es-US").short(at()), "Tue, Mar 10, 10:00 AM");
    }

    #[test]
    fn australia_reads_day_first_on_a_12_hour_clock() {
        assert_eq!(Shown::parse("Australia/Sydney", "en-AU").short(at()), "Wed 11 Mar, 4:00 AM");
    }

    #[test]
    fn unreadable_settings_fall_back_to_utc_and_24_hours() {
        assert_eq!(Shown::parse("Mars/Olympus", "not a tag!").when(at()), "Tue 10 Mar 2026, 17:00 (UTC)");
    }
}
