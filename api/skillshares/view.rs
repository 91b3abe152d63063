//! Skill shares as the caller sees them: a page of slots in a constant number of queries (the
//! list itself, counts, the caller's places, presenters' RSVPs and absences, approvers' names).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::model::{AgendaPlace, PresenterFlag, SkillShare, SlotSession, SlotStatus};
use super::store::{self, Listing, SlotListRow};
use crate::db::{AnyConnection, SessionId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::people::Person;
use crate::sessions::agenda::{self, AgendaItem};
use crate::sessions::model::SessionStatus;

/// Whether a member may sign up (or leave) now.
pub fn signups_open(
    status: SlotStatus,
    session_status: SessionStatus,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    status == SlotStatus::Approved && session_status != SessionStatus::Cancelled && now < starts_at
}

pub fn views(
    conn: &mut AnyConnection,
    rows: Vec<SlotListRow>,
    user_id: &UserId,
    now: DateTime<Utc>,
) -> ApiResult<Vec<SkillShare>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows.iter().map(|r| r.slot.id.clone()).collect();
    let counts = store::counts(conn, &ids)?;
    let mine = store::my_places(conn, &ids, user_id)?;
    let pairs: Vec<(SessionId, UserId)> =
        rows.iter().map(|r| (r.slot.session_id.clone(), r.slot.presenter_id.clone())).collect();
    let (said_no, absences) = store::presenters_away(conn, &pairs)?;
    let approvers: Vec<UserId> = rows.iter().filter_map(|r| r.slot.approved_by.clone()).collect();
    let approvers: HashMap<UserId, Person> =
        if approvers.is_empty() { HashMap::new() } else { store::people(conn, &approvers)? };
    Ok(rows
        .into_iter()
        .map(|row| {
            let slot = row.slot;
            let (attending, waiting) = counts.get(&slot.id).copied().unwrap_or_default();
            let (my_status, my_position) = match mine.get(&slot.id) {
                Some((status, position)) => (Some(*status), *position),
                None => (None, None),
            };
            let starts_at = row.starts_at.and_utc();
            let local_date = starts_at.with_timezone(&row.time_zone.tz()).date_naive();
            let presenter_flag = if said_no.contains(&(slot.session_id.clone(), slot.presenter_id.clone())) {
                Some(PresenterFlag::RsvpNo)
            } else if absences.iter().any(|a| {
                a.user_id == slot.presenter_id
                    && a.cohort_id == slot.cohort_id
                    && a.covers(&slot.session_id, local_date)
            }) {
                Some(PresenterFlag::Absent)
            } else {
                None
            };
            let items: Vec<AgendaItem> = serde_json::from_str(&row.agenda).unwrap_or_default();
            let agenda = agenda::skill_share_position(&items, &slot.id)
                .filter(|_| slot.status == SlotStatus::Approved)
                .map(|(position, minutes)| AgendaPlace { position: position as i64, minutes: i64::from(minutes) });
            let capacity = slot.capacity();
            SkillShare {
                places_left: super::waitlist::places_left(capacity, attending.max(0) as u32).map(i64::from),
                capacity: capacity.map(i64::from),
                attending_count: attending,
                waitlist_count: waiting,
                signups_open: signups_open(slot.status, row.session_status, starts_at, now),
                my_status,
                my_position,
                presenting: slot.presenter_id == *user_id,
                presenter: Person::new(slot.presenter_id.clone(), row.presenter_name),
                session: SlotSession {
                    id: slot.session_id.clone(),
                    title: row.session_title,
                    starts_at,
                    ends_at: row.ends_at.and_utc(),
                    status: row.session_status,
                },
                experiment_title: row.experiment_title,
                presenter_flag,
                agenda,
                approved_by: slot.approved_by.as_ref().and_then(|a| approvers.get(a).cloned()),
                created_at: slot.created_at.and_utc(),
                updated_at: slot.updated_at.and_utc(),
                id: slot.id,
                session_id: slot.session_id,
                cohort_id: slot.cohort_id,
                title: slot.title,
                summary: slot.summary,
                minutes: i64::from(slot.minutes),
                status: slot.status,
                experiment_id: slot.experiment_id,
            }
        })
        .collect())
}

/// One slot's view.
pub fn view(conn: &mut AnyConnection, id: &str, user_id: &UserId, now: DateTime<Utc>) -> ApiResult<SkillShare> {
    let rows = store::list(conn, Listing::One(id))?;
    views(conn, rows, user_id, now)?.pop().ok_or(ApiError::NotFound)
}
