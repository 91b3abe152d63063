use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::schema::{cohorts, memberships};
use crate::db::{CohortId, TimeZone, UserId, stored_as_text};

/// A member's role; each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Role {
    /// Reads the cohort and acts for themself.
    Member,
    /// Also runs sessions and the rota.
    Facilitator,
    /// Also runs the cohort: settings, members, invitations.
    Organizer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum MemberState {
    Active,
    /// Taking a break: still reads the cohort, gets no duties.
    Paused,
    /// Gone; rejoining takes a new invitation.
    Left,
}

stored_as_text!(Role, { Member = "member", Facilitator = "facilitator", Organizer = "organizer" });
stored_as_text!(MemberState, { Active = "active", Paused = "paused", Left = "left" });

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cohorts)]
pub struct CohortRow {
    pub id: CohortId,
    pub name: String,
    pub description: String,
    pub time_zone: TimeZone,
    pub locale: String,
    pub created_by: Option<UserId>,
    pub archived_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = memberships)]
pub struct MembershipRow {
    pub cohort_id: CohortId,
    pub user_id: UserId,
    pub role: Role,
    pub state: MemberState,
    pub joined_at: NaiveDateTime,
    pub state_changed_at: NaiveDateTime,
}

impl MembershipRow {
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn state(&self) -> MemberState {
        self.state
    }
}

/// A cohort as one of its members sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5a0-7c1e-7d2a-9a51-2b1f3c4d5e6f", "name": "Staff engineers, spring cohort",
    "description": "Six peers, weekly on Tuesdays.", "time_zone": "Europe/Berlin", "locale": "en",
    "archived": false, "created_at": "2026-11-21T09:30:00Z", "role": "organizer",
    "membership_state": "active", "member_count": 6
}))]
pub struct Cohort {
    #[schema(value_type = String, format = Uuid)]
    pub id: CohortId,
    pub name: String,
    pub description: String,
    /// IANA zone in which the cohort schedules its sessions.
    pub time_zone: String,
    pub locale: String,
    /// Archived cohorts are read-only.
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    /// The caller's role here.
    pub role: Role,
    /// The caller's membership state here.
    pub membership_state: MemberState,
    /// Active and paused members.
    pub member_count: i64,
}

impl Cohort {
    pub fn new(row: CohortRow, membership: &MembershipRow, member_count: i64) -> Self {
        Self {
            id: row.id,
            name: row.name,
            description: row.description,
            time_zone: row.time_zone.to_string(),
            locale: row.locale,
            archived: row.archived_at.is_some(),
            created_at: row.created_at.and_utc(),
            role: membership.role(),
            membership_state: membership.state(),
            member_count,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"name": "Staff engineers, spring cohort", "time_zone": "Europe/Berlin"}))]
pub struct NewCohort {
    /// 1 to 120 characters.
    #[schema(value_type = String, required = true)]
    pub name: Option<String>,
    /// Up to 2000 characters.
    pub description: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin`.
    #[schema(value_type = String, required = true)]
    pub time_zone: Option<String>,
    /// BCP 47 language tag (default: the creator's).
    pub locale: Option<String>,
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateCohort {
    pub name: Option<String>,
    pub description: Option<String>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = cohorts)]
pub struct CohortChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub time_zone: Option<TimeZone>,
    pub locale: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

/// A member as the cohort sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub display_name: String,
    /// Shown to organizers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub role: Role,
    pub state: MemberState,
    pub joined_at: DateTime<Utc>,
    /// When the state last changed (paused, resumed, left).
    pub state_changed_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberFilter {
    pub role: Option<Role>,
    pub state: Option<MemberState>,
}

/// A change to a membership. A member may change their own `state` (pause, resume, leave);
/// organizers may change anyone's `role` and `state`.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"state": "paused"}))]
pub struct UpdateMember {
    pub role: Option<Role>,
    pub state: Option<MemberState>,
}
