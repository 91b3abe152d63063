//! When a charter is due for review (pure). The cadence counts from the last adoption or review,
//! in calendar days of the cohort's time zone: "every 4 weeks" after an adoption on Tuesday
//! evening in Berlin means the Tuesday four weeks on, whatever DST did in between.

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::stored_as_text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum ReviewUnit {
    Weeks,
    Months,
}
stored_as_text!(ReviewUnit, { Weeks = "weeks", Months = "months" });

/// How often the charter is reassessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"every": 3, "unit": "months"}))]
pub struct ReviewCadence {
    /// 1 to 52.
    #[schema(minimum = 1, maximum = 52)]
    pub every: u32,
    pub unit: ReviewUnit,
}

/// The local date on which the next review falls due.
pub fn next_review_on(anchor: DateTime<Utc>, tz: Tz, cadence: ReviewCadence) -> NaiveDate {
    let start = anchor.with_timezone(&tz).date_naive();
    let next = match cadence.unit {
        ReviewUnit::Weeks => start.checked_add_days(Days::new(7 * u64::from(cadence.every))),
        // 31 January + 1 month is the last day of February (chrono clamps).
        ReviewUnit::Months => start.checked_add_months(Months::new(cadence.every)),
    };
    next.unwrap_or(NaiveDate::MAX)
}

/// The next review date of a version adopted at `adopted_at` and last reviewed at `last_review`.
pub fn next_review_after(
    adopted_at: DateTime<Utc>,
    last_review: Option<DateTime<Utc>>,
    tz: Tz,
    cadence: ReviewCadence,
) -> NaiveDate {
    let anchor = last_review.map_or(adopted_at, |reviewed| reviewed.max(adopted_at));
    next_review_on(anchor, tz, cadence)
}

/// Due from the first moment of that date in the cohort's zone.
pub fn is_due(next_review_on: NaiveDate, now: DateTime<Utc>, tz: Tz) -> bool {
    now.with_timezone(&tz).date_naive() >= next_review_on
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn weeks_count_local_days_across_the_spring_change() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Adopted Saturday 20 March 2027, 23:30 in Berlin (22:30 UTC); clocks go forward on the 28th.
        let adopted = utc("2027-03-20T22:30:00Z");
        let cadence = ReviewCadence { every: 2, unit: ReviewUnit::Weeks };
        let due_on = next_review_on(adopted, berlin, cadence);
        assert_eq!(due_on, NaiveDate::from_ymd_opt(2027, 4, 3).unwrap());
        // Due from local midnight, which after the change is 22:00 UTC, not 23:00.
        assert!(!is_due(due_on, utc("2027-04-02T21:59:59Z"), berlin));
        assert!(is_due(due_on, utc("2027-04-02T22:00:00Z"), berlin));
    }

    #[test]
    fn the_local_date_decides_not_the_utc_one() {
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        // 20:00 UTC on 31 Jan is already 1 Feb in Tokyo.
        let cadence = ReviewCadence { every: 1, unit: ReviewUnit::Months };
        assert_eq!(
            next_review_on(utc("2027-01-31T20:00:00Z"), tokyo, cadence),
            NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()
        );
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            next_review_on(utc("2027-01-31T12:00:00Z"), berlin, cadence),
            NaiveDate::from_ymd_opt(2027, 2, 28).unwrap()
        );
    }

    #[test]
    fn autumn_change_in_new_york() {
        let new_york: Tz = "America/New_York".parse().unwrap();
        // Reviewed Sunday 31 Oct 2027 at 23:00 EDT; clocks go back on 7 Nov.
        let reviewed = new_york.with_ymd_and_hms(2027, 10, 31, 23, 0, 0).unwrap().with_timezone(&Utc);
        let due_on = next_review_on(reviewed, new_york, ReviewCadence { every: 1, unit: ReviewUnit::Weeks });
        assert_eq!(due_on, NaiveDate::from_ymd_opt(2027, 11, 7).unwrap());
        assert!(is_due(due_on, utc("2027-11-07T05:00:00Z"), new_york), "midnight EST is 05:00 UTC");
        assert!(!is_due(due_on, utc("2027-11-07T03:59:59Z"), new_york));
    }

    proptest! {
        #[test]
        fn reviews_fall_due_after_the_cadence_and_not_before(
            secs in 1_700_000_000i64..2_200_000_000i64,
            every in 1u32..=52,
            weeks in any::<bool>(),
            zone in 0usize..chrono_tz::TZ_VARIANTS.len(),
        ) {
            let tz = chrono_tz::TZ_VARIANTS[zone];
            let anchor = DateTime::from_timestamp(secs, 0).unwrap();
            let unit = if weeks { ReviewUnit::Weeks } else { ReviewUnit::Months };
            let due_on = next_review_on(anchor, tz, ReviewCadence { every, unit });
            let anchor_day = anchor.with_timezone(&tz).date_naive();
            prop_assert!(due_on > anchor_day);
            prop_assert!(!is_due(due_on, anchor, tz));
            let min_days = if weeks { 7 * i64::from(every) } else { 28 * i64::from(every) };
            prop_assert!((due_on - anchor_day).num_days() >= min_days);
        }
    }
}
