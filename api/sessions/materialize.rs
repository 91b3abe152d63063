//! Turning series into stored sessions, up to a horizon, and splitting a series when its
//! schedule changes. Stored sessions are what everything else hangs on (duties, sign-ups,
//! experiments due), so both operations keep existing rows: a row the rule gives again is left
//! as it is, and a row that was moved or cancelled is never touched.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use super::agenda::{self, AgendaItem};
use super::model::{LOCAL_KEY_FORMAT, SeriesRow, SessionRow, SessionStatus};
use super::recurrence::{self, Occurrence};
use super::store;
use crate::db::{AnyConnection, CohortId, Db, SessionId};
use crate::error::{ApiError, ApiResult};

/// How far ahead sessions are stored; a daily job moves the horizon on.
pub const HORIZON_WEEKS: i64 = 26;

pub fn key(local: NaiveDateTime) -> String {
    local.format(LOCAL_KEY_FORMAT).to_string()
}

fn parse_key(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, LOCAL_KEY_FORMAT).ok()
}

/// The local date-time up to which sessions are stored, seen from `now`.
pub fn horizon(now: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    (now + Duration::weeks(HORIZON_WEEKS)).with_timezone(&tz).naive_local()
}

/// A cohort's agenda template, or the default one.
pub fn template(stored: Option<&str>) -> Vec<AgendaItem> {
    stored.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_else(agenda::default_template)
}

struct Plan {
    rule: recurrence::Rule,
    starts_on: NaiveDate,
    local_time: NaiveTime,
}

fn plan(series: &SeriesRow) -> ApiResult<Plan> {
    let broken = |what: &str| ApiError::Internal(anyhow::anyhow!("series {} has a bad {what}", series.id));
    Ok(Plan {
        rule: recurrence::parse_rule(&series.rrule).map_err(|_| broken("rule"))?,
        starts_on: series.starts_on.parse().map_err(|_| broken("start date"))?,
        local_time: NaiveTime::parse_from_str(&series.local_time, "%H:%M").map_err(|_| broken("time"))?,
    })
}

fn occurrences_between(
    series: &SeriesRow,
    tz: Tz,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> ApiResult<Vec<Occurrence>> {
    let plan = plan(series)?;
    let end = match series.ends_before.as_deref().and_then(parse_key) {
        Some(limit) => to.min(limit - Duration::seconds(1)),
        None => to,
    };
    if end < from {
        return Ok(Vec::new());
    }
    recurrence::occurrences(&plan.rule, plan.starts_on, plan.local_time, tz, from, end)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("series {}: {e}", series.id)))
}

/// A new stored session for an occurrence.
pub fn session_for(
    series: &SeriesRow,
    occurrence: Occurrence,
    template: &[AgendaItem],
    now: DateTime<Utc>,
) -> SessionRow {
    let duration = Duration::minutes(i64::from(series.duration_minutes));
    SessionRow {
        id: SessionId::new(),
        cohort_id: series.cohort_id.clone(),
        series_id: Some(series.id.clone()),
        occurrence_key: Some(key(occurrence.local)),
        title: series.title.clone(),
        location: series.location.clone(),
        starts_at: occurrence.starts_at.naive_utc(),
        ends_at: (occurrence.starts_at + duration).naive_utc(),
        status: SessionStatus::Scheduled,
        cancel_reason: None,
        agenda: serde_json::to_string(&agenda::fit(template, series.duration_minutes as u32)).unwrap_or_default(),
        notes: String::new(),
        notes_published_at: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    }
}

/// Stores the series' upcoming occurrences up to `until` that are not stored yet; returns how many.
pub fn materialize(
    conn: &mut AnyConnection,
    series: &SeriesRow,
    tz: Tz,
    template: &[AgendaItem],
    until: NaiveDateTime,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    // Never into the past: a series that starts on an earlier date begins now.
    let stored_until = parse_key(&series.materialized_until).unwrap_or(NaiveDateTime::MIN);
    let from = stored_until.max(now.with_timezone(&tz).naive_local());
    if until <= from {
        return Ok(0);
    }
    let wanted = occurrences_between(series, tz, from, until)?;
    let existing: HashSet<String> =
        store::keys_between(conn, &series.id, &key(from), &key(until))?.into_iter().collect();
    let mut added = 0;
    for occurrence in wanted {
        if !existing.contains(&key(occurrence.local)) {
            store::insert_session(conn, &session_for(series, occurrence, template, now))?;
            added += 1;
        }
    }
    store::set_materialized(conn, &series.id, &key(until))?;
    Ok(added)
}

/// The rule for what remains of `old` from the occurrence at `from_key` on: the same rule, with
/// its COUNT (if any) less the occurrences before the split, so a split never adds sessions.
pub fn remaining_rule(old: &SeriesRow, from_key: &str) -> ApiResult<String> {
    let plan = plan(old)?;
    let Some(count) = plan.rule.count() else { return Ok(old.rrule.clone()) };
    let from = parse_key(from_key).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("bad key {from_key}")))?;
    let first = plan.starts_on.and_time(plan.local_time);
    let before = if from > first {
        plan.rule
            .local_starts(first, first, from - Duration::seconds(1), u16::MAX)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("series {}: {e}", old.id)))?
            .len()
    } else {
        0
    };
    let left = count.saturating_sub(u32::try_from(before).unwrap_or(u32::MAX)).max(1);
    Ok(plan.rule.with_count(left).as_text())
}

/// Ends `old` before the session at `from_key` and lets `new` take over from there. Each
/// occurrence of the new schedule that falls on the day of one of the old series' sessions is
/// that session (its id, and all that hangs on it, stay): a scheduled one takes the new time and
/// length (its agenda refitted); a moved or cancelled one joins the new series as it is, so a
/// moved session is never doubled and a cancellation never undone. Scheduled sessions on days
/// the new schedule does not use are cancelled, not deleted; moved ones there stay as they are.
pub fn split(
    conn: &mut AnyConnection,
    old: &SeriesRow,
    new: &SeriesRow,
    from_key: &str,
    tz: Tz,
    template: &[AgendaItem],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    store::set_series_end(conn, &old.id, from_key)?;
    store::insert_series(conn, new)?;
    let start = parse_key(from_key).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("bad key {from_key}")))?;
    let until = horizon(now, tz).max(start);
    let mut remaining: Vec<SessionRow> = store::from_key(conn, &old.id, from_key)?;
    let duration = Duration::minutes(i64::from(new.duration_minutes));
    for occurrence in occurrences_between(new, tz, start, until)? {
        let same_day = remaining.iter().position(|s| {
            s.occurrence_key.as_deref().and_then(parse_key).map(|k| k.date()) == Some(occurrence.local.date())
        });
        let Some(index) = same_day else {
            store::insert_session(conn, &session_for(new, occurrence, template, now))?;
            continue;
        };
        let mut session = remaining.swap_remove(index);
        session.series_id = Some(new.id.clone());
        session.occurrence_key = Some(key(occurrence.local));
        session.updated_at = now.naive_utc();
        if session.status() == SessionStatus::Scheduled {
            session.title = new.title.clone();
            session.location = new.location.clone();
            session.starts_at = occurrence.starts_at.naive_utc();
            session.ends_at = (occurrence.starts_at + duration).naive_utc();
            let agenda = agenda::refit(&session.agenda(), session.duration_minutes());
            session.agenda = serde_json::to_string(&agenda).map_err(|e| ApiError::Internal(e.into()))?;
        }
        store::save_session(conn, &session)?;
    }
    for mut session in remaining.into_iter().filter(|s| s.status() == SessionStatus::Scheduled) {
        session.status = SessionStatus::Cancelled;
        session.cancel_reason = Some("The series' schedule changed.".to_string());
        session.updated_at = now.naive_utc();
        store::save_session(conn, &session)?;
    }
    store::set_materialized(conn, &new.id, &key(until))?;
    Ok(())
}

/// Moves every active series' horizon on (the daily job); one transaction per series, so a
/// broken series does not hold the others back.
pub async fn extend_all(db: &Db, now: DateTime<Utc>) -> ApiResult<usize> {
    let all = db.read(store::active_series).await?;
    let mut added = 0;
    for (series, zone, stored_template) in all {
        let tz = zone.tz();
        let template = template(stored_template.as_deref());
        added += db
            .write(move |conn| {
                // Under the cohort's lock, as every sessions write: the series as it is now (a
                // split since the list was read has moved its end).
                crate::cohorts::store::lock_cohort(conn, &series.cohort_id)?;
                let Some(series) = store::find_series(conn, &series.cohort_id, &series.id)? else { return Ok(0) };
                materialize(conn, &series, tz, &template, horizon(now, tz), now)
            })
            .await?;
    }
    Ok(added)
}

/// Where a new series' stored occurrences begin: just before its first day.
pub fn start_mark(starts_on: NaiveDate) -> String {
    key(starts_on.and_hms_opt(0, 0, 0).unwrap_or_default() - Duration::seconds(1))
}

/// After the cohort's time zone changed: upcoming sessions of its series (not moved, not
/// cancelled) keep their local wall-clock time in the new zone; returns how many moved.
pub fn retime(conn: &mut AnyConnection, cohort_id: &CohortId, tz: Tz, now: DateTime<Utc>) -> ApiResult<usize> {
    let mut moved = 0;
    for mut session in store::upcoming_series_sessions(conn, cohort_id, now.naive_utc())? {
        let Some(local) = session.occurrence_key.as_deref().and_then(parse_key) else { continue };
        let length = session.ends_at - session.starts_at;
        let starts_at = recurrence::instant(local, tz).naive_utc();
        if starts_at != session.starts_at {
            session.starts_at = starts_at;
            session.ends_at = starts_at + length;
            session.updated_at = now.naive_utc();
            store::save_session(conn, &session)?;
            moved += 1;
        }
    }
    Ok(moved)
}
