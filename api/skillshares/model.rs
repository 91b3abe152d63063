use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::waitlist::SignupStatus;
use crate::db::schema::{skill_share_signups, skill_shares};
use crate::db::{CohortId, SessionId, UserId, stored_as_text};
use crate::people::Person;

/// Where a skill share stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum SlotStatus {
    /// Offered; waits for a facilitator's approval (when the cohort asks for it).
    Proposed,
    /// On its session's agenda; sign-ups are open until the session starts.
    Approved,
    /// Its session was cancelled: the presenter moves it to another session or withdraws it.
    OfferedBack,
    Withdrawn,
}
stored_as_text!(SlotStatus, {
    Proposed = "proposed", Approved = "approved", OfferedBack = "offered_back", Withdrawn = "withdrawn"
});

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = skill_shares)]
pub struct SlotRow {
    pub id: String,
    pub cohort_id: CohortId,
    pub session_id: SessionId,
    pub presenter_id: UserId,
    pub title: String,
    pub summary: String,
    pub minutes: i32,
    pub capacity: Option<i32>,
    pub experiment_id: Option<String>,
    pub status: SlotStatus,
    pub next_arrival: i32,
    pub approved_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl SlotRow {
    pub fn capacity(&self) -> Option<u32> {
        self.capacity.map(|c| c.max(0) as u32)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = skill_share_signups)]
pub struct SignupRow {
    pub skill_share_id: String,
    pub user_id: UserId,
    pub status: SignupStatus,
    pub arrival: i32,
    pub added_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Why a presenter may not be there: flagged so a facilitator can act before the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenterFlag {
    /// The presenter answered "no" to the session's RSVP.
    RsvpNo,
    /// The presenter marked an absence that covers the session.
    Absent,
}

/// The session a skill share is on, as much as a list needs to show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlotSession {
    #[schema(value_type = String, format = Uuid)]
    pub id: SessionId,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `scheduled`, `moved` or `cancelled`.
    pub status: crate::sessions::model::SessionStatus,
}

/// Where the skill share sits on its session's agenda.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgendaPlace {
    /// 1-based, among the session's skill shares.
    pub position: i64,
    /// The time box it has on the agenda (the session's length may have squeezed it).
    pub minutes: i64,
}

/// A skill share: a time-boxed slot on a session where a member shows what they learned, with
/// places for attendees.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkillShare {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(value_type = String, format = Uuid)]
    pub session_id: SessionId,
    #[schema(value_type = String, format = Uuid)]
    pub cohort_id: CohortId,
    pub session: SlotSession,
    pub presenter: Person,
    pub title: String,
    /// What attendees will be able to do afterwards.
    pub summary: String,
    pub minutes: i64,
    /// Places for attendees; null is unlimited.
    pub capacity: Option<i64>,
    /// Null when places are unlimited; 0 when full (or over capacity).
    pub places_left: Option<i64>,
    pub attending_count: i64,
    pub waitlist_count: i64,
    pub status: SlotStatus,
    /// Whether a member may sign up now: approved, and its session has not started.
    pub signups_open: bool,
    /// The caller's place: null when they hold none.
    pub my_status: Option<SignupStatus>,
    /// The caller's place on the waitlist (1 is next), when waitlisted.
    pub my_position: Option<i64>,
    /// Whether the caller presents it.
    pub presenting: bool,
    /// One of the presenter's experiments, shown as what the skill share came from.
    #[schema(format = Uuid)]
    pub experiment_id: Option<String>,
    pub experiment_title: Option<String>,
    /// Set when the presenter may not be there.
    pub presenter_flag: Option<PresenterFlag>,
    /// Its box on the session's agenda; null until approved.
    pub agenda: Option<AgendaPlace>,
    pub approved_by: Option<Person>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({
    "title": "Pairing with a timer", "summary": "Run a 25-minute pairing round with handovers",
    "minutes": 20, "capacity": 6
}))]
pub struct NewSkillShare {
    /// 1 to 120 characters.
    #[schema(value_type = String, required = true)]
    pub title: Option<String>,
    /// What others will be able to do afterwards, up to 1000 characters.
    pub summary: Option<String>,
    /// Its time box on the agenda, 5 to 240.
    #[schema(value_type = i32, required = true)]
    pub minutes: Option<i64>,
    /// Places for attendees, 1 to 500; absent or null for unlimited.
    pub capacity: Option<i64>,
    /// One of your experiments in this cohort.
    #[schema(format = Uuid)]
    pub experiment_id: Option<String>,
}

/// A change to a skill share. Its presenter changes what it is; a facilitator also reorders it on
/// the agenda (`position`) or moves it to another session (`session_id`). A presenter whose
/// session was cancelled moves it with `session_id`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct SkillShareChange {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub minutes: Option<i64>,
    /// Null for unlimited. Growing it promotes from the waitlist; lowering it takes no place away.
    #[serde(deserialize_with = "crate::http::json::present")]
    #[schema(value_type = Option<i64>)]
    pub capacity: Option<Option<i64>>,
    /// Null to unlink the experiment.
    #[serde(deserialize_with = "crate::http::json::present")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub experiment_id: Option<Option<String>>,
    /// Another upcoming session of the cohort; its sign-ups go with it.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub session_id: Option<SessionId>,
    /// 1-based place among the session's skill shares on its agenda.
    pub position: Option<i64>,
}

/// Sign up for a skill share: yourself (no body, or `{}`), or, as a facilitator, another active
/// member, who then attends even past capacity.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NewSignup {
    #[schema(value_type = Option<String>, format = Uuid)]
    pub user_id: Option<UserId>,
}

/// Where a sign-up left you.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"status": "waitlisted", "position": 3}))]
pub struct SignupResult {
    pub status: SignupStatus,
    /// Your place on the waitlist (1 is next); null when attending.
    pub position: Option<i64>,
    pub user: Person,
    pub skill_share: SkillShare,
}

/// One person's place.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Signup {
    pub user: Person,
    pub status: SignupStatus,
    /// On the waitlist: 1 is next. Null when attending.
    pub position: Option<i64>,
    /// A facilitator who added them.
    pub added_by: Option<Person>,
    pub signed_up_at: DateTime<Utc>,
}

/// Who has a place and who waits, in arrival order. Complete: at most the cohort's members.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Signups {
    pub attending: Vec<Signup>,
    pub waitlist: Vec<Signup>,
}

/// A cohort's rule for skill shares.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkillShareSettings {
    /// Offers wait for a facilitator's approval before they go on the agenda. Offers by
    /// facilitators and organizers are approved at once.
    pub approval_required: bool,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct SkillShareSettingsChange {
    #[schema(value_type = bool, required = true)]
    pub approval_required: Option<bool>,
}
