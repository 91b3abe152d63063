//! The digest: one mail a member chose instead of one mail per notice (`digest: daily|weekly`),
//! and the weekly summary of what is coming and what is owed (kind `digest`, Mondays at 08:00
//! in the member's zone). `plan_weekly` writes each member's next summary ahead (one per member
//! and Monday, by key); the dispatcher folds the summary and every gathered notice due at the
//! same time into one mail (`mails::render_digest`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::json;

use super::inbox::{self, Reach};
use super::kinds::NotificationKind;
use super::plan::next_digest;
use super::preferences::DigestMode;
use super::shown::Shown;
use super::store::{self, NewNotification};
use crate::cohorts::model::MemberState;
use crate::db::schema::{
    assignments, cohorts, duty_roles, memberships, notification_preferences as prefs, sessions, users,
};
use crate::db::{AnyConnection, UserId};
use crate::error::ApiResult;

/// Writes the next weekly summary of every active member who has not turned it off, when it
/// falls within a day (so rows exist well before they are due without planning weeks of them).
pub fn plan_weekly(conn: &mut AnyConnection, now: DateTime<Utc>) -> ApiResult<usize> {
    let people: Vec<(UserId, String)> = users::table
        .filter(
            users::id.eq_any(
                memberships::table
                    .inner_join(cohorts::table.on(cohorts::id.eq(memberships::cohort_id)))
                    .filter(memberships::state.eq(MemberState::Active.as_str()))
                    .filter(cohorts::archived_at.is_null())
                    .select(memberships::user_id),
            ),
        )
        .select((users::id, users::time_zone))
        .load(conn)?;
    let off: HashSet<UserId> = prefs::table
        .filter(prefs::kind.eq(NotificationKind::Digest.as_str()))
        .filter(prefs::email.eq(false))
        .select(prefs::user_id)
        .load::<UserId>(conn)?
        .into_iter()
        .collect();
    let rows: Vec<NewNotification> = people
        .into_iter()
        .filter(|(user, _)| !off.contains(user))
        .filter_map(|(user, zone)| {
            let zone: Tz = zone.parse().unwrap_or(Tz::UTC);
            let at = next_digest(now, DigestMode::Weekly, zone)?;
            (at <= now + Duration::days(1)).then(|| NewNotification {
                key: format!("digest:{user}:{user}:{}", at.with_timezone(&zone).date_naive()),
                kind: NotificationKind::Digest,
                user_id: user.clone(),
                cohort_id: None,
                subject_id: user.to_string(),
                occurs_at: None,
                planned_at: at,
                data: json!({}),
            })
        })
        .collect();
    store::insert_new(conn, &rows, now)
}

/// What is coming in the next seven days (the member's sessions, with their duty) and what is
/// owed (`GET /me/inbox`), as lines of the digest.
pub fn summary(
    conn: &mut AnyConnection,
    user_id: &UserId,
    zone: Shown,
    _base_url: &str,
    now: DateTime<Utc>,
) -> ApiResult<Vec<String>> {
    let mine = memberships::table
        .filter(memberships::user_id.eq(user_id))
        .filter(memberships::state.eq(MemberState::Active.as_str()))
        .select(memberships::cohort_id);
    let coming: Vec<(String, String, NaiveDateTime, String)> = sessions::table
        .inner_join(cohorts::table.on(cohorts::id.eq(sessions::cohort_id)))
        .filter(sessions::cohort_id.eq_any(mine))
        .filter(cohorts::archived_at.is_null())
        .filter(sessions::status.ne("cancelled"))
        .filter(sessions::starts_at.gt(now.naive_utc()))
        .filter(sessions::starts_at.le((now + Duration::days(7)).naive_utc()))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .limit(20)
        .select((sessions::id, sessions::title, sessions::starts_at, cohorts::name))
        .load(conn)?;
    let ids: Vec<&String> = coming.iter().map(|c| &c.0).collect();
    let duties: HashMap<String, String> = assignments::table
        .inner_join(duty_roles::table.on(duty_roles::id.eq(assignments::role_id)))
        .filter(assignments::session_id.eq_any(ids))
        .filter(assignments::user_id.eq(user_id))
        .select((assignments::session_id, duty_roles::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut lines: Vec<String> = coming
        .iter()
        .map(|(id, title, at, cohort)| {
            let duty = duties.get(id).map(|role| format!(" - you are {role}")).unwrap_or_default();
            format!("{title} of {cohort}: {}{duty}", zone.when(at.and_utc()))
        })
        .collect();
    let reach = Reach { rota: true, charter: true, experiments: true };
    for item in inbox::inbox(conn, user_id, reach, now)? {
        let what = match item.kind {
            inbox::InboxKind::SwapAsked => "asked of you",
            inbox::InboxKind::CoverNeeded => "needs cover",
            inbox::InboxKind::DutyToConfirm => "to confirm",
            inbox::InboxKind::CharterToAccept => "to accept",
            inbox::InboxKind::CheckinDue => "check-in due",
        };
        lines.push(format!("{} ({what}, {})", item.title, item.cohort.name));
    }
    Ok(lines)
}
