use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agenda::AgendaItem;
use crate::db::schema::{session_series, sessions};
use crate::db::{CohortId, SessionId, TimeZone, UserId, stored_as_text};
use crate::people::Person;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum SessionStatus {
    Scheduled,
    /// Moved away from the time its series gave it; regenerating the series leaves it alone.
    Moved,
    Cancelled,
}
stored_as_text!(SessionStatus, { Scheduled = "scheduled", Moved = "moved", Cancelled = "cancelled" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum RsvpResponse {
    Yes,
    /// Counts as an absence for the rota.
    No,
    Maybe,
}
stored_as_text!(RsvpResponse, { Yes = "yes", No = "no", Maybe = "maybe" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum AttendanceStatus {
    Present,
    Late,
    Absent,
}
stored_as_text!(AttendanceStatus, { Present = "present", Late = "late", Absent = "absent" });

pub const LOCAL_KEY_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = session_series)]
pub struct SeriesRow {
    pub id: String,
    pub cohort_id: CohortId,
    pub title: String,
    pub rrule: String,
    pub starts_on: String,
    pub local_time: String,
    pub duration_minutes: i32,
    pub location: String,
    pub ends_before: Option<String>,
    pub materialized_until: String,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: SessionId,
    pub cohort_id: CohortId,
    pub series_id: Option<String>,
    pub occurrence_key: Option<String>,
    pub title: String,
    pub location: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub status: SessionStatus,
    pub cancel_reason: Option<String>,
    pub agenda: String,
    pub notes: String,
    pub notes_published_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl SessionRow {
    pub fn status(&self) -> SessionStatus {
        self.status
    }
    pub fn agenda(&self) -> Vec<AgendaItem> {
        serde_json::from_str(&self.agenda).unwrap_or_default()
    }
    pub fn duration_minutes(&self) -> u32 {
        (self.ends_at - self.starts_at).num_minutes().max(0) as u32
    }
}

/// A recurring schedule, as organizers and facilitators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Series {
    #[schema(format = Uuid)]
    pub id: String,
    pub title: String,
    /// RFC 5545 recurrence rule, e.g. `FREQ=WEEKLY;BYDAY=TU`.
    pub rrule: String,
    pub starts_on: NaiveDate,
    /// Local start time in the cohort's zone, `HH:MM`.
    pub local_time: String,
    pub duration_minutes: i32,
    pub location: String,
    pub time_zone: String,
    /// When set, occurrences from this local start on belong to a later series (after a split).
    pub ends_before: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Series {
    pub fn new(row: SeriesRow, time_zone: &TimeZone) -> Self {
        Self {
            starts_on: row.starts_on.parse().unwrap_or_default(),
            id: row.id,
            title: row.title,
            rrule: row.rrule,
            local_time: row.local_time,
            duration_minutes: row.duration_minutes,
            location: row.location,
            time_zone: time_zone.to_string(),
            ends_before: row.ends_before,
            created_at: row.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({
    "title": "Weekly session", "rrule": "FREQ=WEEKLY;BYDAY=TU", "starts_on": "2027-03-16",
    "local_time": "18:00", "duration_minutes": 90, "location": "https://meet.example/roundtable"
}))]
pub struct NewSeries {
    /// Default: "Session".
    pub title: Option<String>,
    #[schema(value_type = String, required = true)]
    pub rrule: Option<String>,
    /// The first date (cohort-local), `YYYY-MM-DD`, in the years 1900 to 9999.
    #[schema(value_type = String, format = Date, required = true)]
    pub starts_on: Option<String>,
    /// `HH:MM`, cohort-local.
    #[schema(value_type = String, required = true)]
    pub local_time: Option<String>,
    /// 15 to 480.
    #[schema(value_type = i32, required = true)]
    pub duration_minutes: Option<i32>,
    /// A room or a video link.
    pub location: Option<String>,
}

/// A change to a series from one of its sessions on: the series is split there; earlier
/// sessions keep what they had.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct SeriesChange {
    /// The first session the change applies to (it must not have started).
    #[schema(value_type = String, format = Uuid, required = true)]
    pub from_session_id: Option<String>,
    pub title: Option<String>,
    pub rrule: Option<String>,
    pub local_time: Option<String>,
    pub duration_minutes: Option<i32>,
    pub location: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RsvpCounts {
    pub yes: i64,
    pub no: i64,
    pub maybe: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyRsvp {
    pub response: RsvpResponse,
    pub note: String,
}

/// Your part in one of a session's skill shares.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MySkillShare {
    #[schema(format = Uuid)]
    pub id: String,
    pub title: String,
    /// `presenting`, `attending` or `waitlisted`.
    pub my_status: MySkillShareStatus,
    /// On the waitlist: 1 is next.
    pub my_position: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MySkillShareStatus {
    Presenting,
    Attending,
    Waitlisted,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyDuty {
    #[schema(format = Uuid)]
    pub assignment_id: String,
    pub role: String,
    pub confirmed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Attendance {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub user: Person,
    pub status: AttendanceStatus,
}

/// An action item as written: `owner_id`, when given, must be an active member of the cohort.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActionItem {
    pub text: String,
    #[schema(format = Uuid)]
    pub owner_id: Option<String>,
    /// `YYYY-MM-DD`, in the years 1900 to 9999.
    pub due_on: Option<NaiveDate>,
}

/// An action item as shown, with its owner.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionItemView {
    pub text: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub owner_id: Option<UserId>,
    /// The owner, when there is one (null too if they deleted their account).
    pub owner: Option<Person>,
    pub due_on: Option<NaiveDate>,
}

/// One member's answer, as the facilitators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RsvpView {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub user: Person,
    pub response: RsvpResponse,
    pub note: String,
    pub updated_at: DateTime<Utc>,
}

/// One meeting, with its times in UTC and in the cohort's zone.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    #[schema(value_type = String, format = Uuid)]
    pub id: SessionId,
    #[schema(value_type = String, format = Uuid)]
    pub cohort_id: CohortId,
    pub series_id: Option<String>,
    pub title: String,
    pub location: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The start in the cohort's zone, with its offset, e.g. `2027-03-16T18:00:00+01:00`.
    pub local_start: String,
    pub time_zone: String,
    pub duration_minutes: u32,
    pub status: SessionStatus,
    pub cancel_reason: Option<String>,
    pub agenda: Vec<AgendaItem>,
    /// The caller's answer, if any.
    pub my_rsvp: Option<MyRsvp>,
    /// The caller's duties in this session (from the rota).
    pub my_duties: Vec<MyDuty>,
    /// The skill shares of this session you present or hold a place in (or wait for).
    pub my_skill_shares: Vec<MySkillShare>,
    /// Filled in on single-session reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<SessionDetails>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDetails {
    pub rsvp_counts: RsvpCounts,
    pub attendance: Vec<Attendance>,
    /// Markdown as written.
    pub notes: String,
    pub notes_html: String,
    pub notes_published_at: Option<DateTime<Utc>>,
    /// Who last wrote the notes (shown with the notes: null while they are hidden).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub notes_author_id: Option<UserId>,
    pub notes_author: Option<Person>,
    pub action_items: Vec<ActionItemView>,
}

impl Session {
    pub fn new(row: SessionRow, tz: Tz, my_rsvp: Option<MyRsvp>) -> Self {
        let starts_at = row.starts_at.and_utc();
        Self {
            status: row.status(),
            agenda: row.agenda(),
            duration_minutes: row.duration_minutes(),
            local_start: starts_at.with_timezone(&tz).to_rfc3339(),
            time_zone: tz.name().to_string(),
            id: row.id,
            cohort_id: row.cohort_id,
            series_id: row.series_id,
            title: row.title,
            location: row.location,
            starts_at,
            ends_at: row.ends_at.and_utc(),
            cancel_reason: row.cancel_reason,
            my_rsvp,
            my_duties: Vec::new(),
            my_skill_shares: Vec::new(),
            details: None,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"title": "Kick-off", "local_start": "2027-03-16T18:00", "duration_minutes": 120}))]
pub struct NewSession {
    pub title: Option<String>,
    /// The start in the cohort's zone, `YYYY-MM-DDTHH:MM` (give this or `starts_at`).
    pub local_start: Option<String>,
    /// The start as an instant (give this or `local_start`).
    pub starts_at: Option<DateTime<Utc>>,
    #[schema(value_type = i32, required = true)]
    pub duration_minutes: Option<i32>,
    pub location: Option<String>,
}

/// Move, cancel, reinstate or rename one session.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"status": "cancelled", "cancel_reason": "Public holiday"}))]
pub struct SessionChange {
    /// A new start as an instant (moves the session; give this or `local_start`). It must be in
    /// the future (422 `in_the_past`).
    pub starts_at: Option<DateTime<Utc>>,
    /// A new start in the cohort's zone, `YYYY-MM-DDTHH:MM` (moves the session; give this or
    /// `starts_at`, not both).
    pub local_start: Option<String>,
    /// A new length, 15 to 480 minutes; the agenda's boxes shrink in proportion when it no
    /// longer fits.
    pub duration_minutes: Option<i32>,
    /// `cancelled` (needs `cancel_reason`) or `scheduled` (reinstates a cancelled session).
    pub status: Option<SessionStatus>,
    pub cancel_reason: Option<String>,
    pub title: Option<String>,
    pub location: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RsvpRequest {
    #[schema(value_type = RsvpResponse, required = true)]
    pub response: Option<RsvpResponse>,
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AgendaRequest {
    /// The whole agenda in order; the boxes must fit the session.
    #[schema(value_type = Vec<AgendaItem>, required = true)]
    pub items: Option<Vec<AgendaItem>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttendanceRecord {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub status: AttendanceStatus,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AttendanceRequest {
    #[schema(value_type = Vec<AttendanceRecord>, required = true)]
    pub records: Option<Vec<AttendanceRecord>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NotesRequest {
    /// Markdown, up to 20000 characters.
    pub notes: Option<String>,
    /// Replaces the session's action items.
    pub action_items: Option<Vec<ActionItem>>,
    /// Publish to the members (records `notes_published_at` the first time).
    pub publish: Option<bool>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionFilter {
    /// Sessions starting at or after this instant (years 1900 to 9999).
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting before this instant (years 1900 to 9999).
    pub to: Option<DateTime<Utc>>,
}
