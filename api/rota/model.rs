use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::plan::Note;
use crate::db::schema::{absences, assignments, duty_roles, swap_requests};
use crate::db::{CohortId, SessionId, UserId, stored_as_text};
use crate::people::Person;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = duty_roles)]
pub struct RoleRow {
    pub id: String,
    pub cohort_id: CohortId,
    pub name: String,
    pub position: i32,
    pub min_attended: i32,
    pub facilitation: bool,
    pub retired_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// A duty the rota fills in every session.
#[derive(Debug, Serialize, ToSchema)]
pub struct DutyRole {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    pub position: i32,
    /// Sessions a member must have attended before taking it.
    pub min_attended: i32,
    /// Not given to the same person two sessions running, where avoidable.
    pub facilitation: bool,
    pub retired: bool,
}

impl From<RoleRow> for DutyRole {
    fn from(row: RoleRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            position: row.position,
            min_attended: row.min_attended,
            facilitation: row.facilitation,
            retired: row.retired_at.is_some(),
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"name": "Host", "min_attended": 2}))]
pub struct RoleFields {
    /// 1 to 120 characters (required for a new role).
    pub name: Option<String>,
    /// 0 to 100.
    pub min_attended: Option<i32>,
    pub facilitation: Option<bool>,
    /// Retire (true) or bring back (false) a role.
    pub retired: Option<bool>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = absences)]
pub struct AbsenceRow {
    pub id: String,
    pub cohort_id: CohortId,
    pub user_id: UserId,
    pub session_id: Option<SessionId>,
    pub from_on: Option<String>,
    pub to_on: Option<String>,
    pub note: String,
    pub created_at: NaiveDateTime,
}

impl AbsenceRow {
    /// Whether the absence covers a session on this local date.
    pub fn covers(&self, session_id: &SessionId, local_date: NaiveDate) -> bool {
        if self.session_id.as_ref() == Some(session_id) {
            return true;
        }
        let day = |text: &Option<String>| text.as_deref().and_then(|t| t.parse::<NaiveDate>().ok());
        matches!((day(&self.from_on), day(&self.to_on)), (Some(from), Some(to)) if from <= local_date && local_date <= to)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Absence {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub user: Person,
    #[schema(value_type = Option<String>)]
    pub session_id: Option<SessionId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl From<(AbsenceRow, String)> for Absence {
    fn from((row, name): (AbsenceRow, String)) -> Self {
        Self {
            user: Person::new(row.user_id.clone(), name),
            id: row.id,
            user_id: row.user_id,
            session_id: row.session_id,
            from: row.from_on.and_then(|d| d.parse().ok()),
            to: row.to_on.and_then(|d| d.parse().ok()),
            note: row.note,
            created_at: row.created_at.and_utc(),
        }
    }
}

/// A session you cannot make, or a range of dates (cohort-local, inclusive).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"from": "2027-07-01", "to": "2027-07-21", "note": "Holiday"}))]
pub struct NewAbsence {
    #[schema(value_type = Option<String>)]
    pub session_id: Option<SessionId>,
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = assignments)]
pub struct AssignmentRow {
    pub id: String,
    pub cohort_id: CohortId,
    pub session_id: SessionId,
    pub role_id: String,
    pub user_id: Option<UserId>,
    pub locked: bool,
    pub confirmed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One duty in one session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Duty {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(value_type = String, format = Uuid)]
    pub session_id: SessionId,
    #[schema(format = Uuid)]
    pub role_id: String,
    pub role: String,
    /// Null: a gap nobody could take.
    #[schema(value_type = Option<String>)]
    pub user_id: Option<UserId>,
    /// Who holds it (null for a gap).
    pub user: Option<Person>,
    /// Set by a facilitator or by an accepted swap: re-planning leaves it alone.
    pub locked: bool,
    pub confirmed: bool,
}

impl Duty {
    /// From a row of `store::duties_in_sessions` / `duties_by_id`.
    pub fn from_row((row, role, name): super::store::DutyRow) -> Self {
        Self {
            user: Person::maybe(row.user_id.clone(), name),
            id: row.id,
            session_id: row.session_id,
            role_id: row.role_id,
            role,
            user_id: row.user_id,
            locked: row.locked,
            confirmed: row.confirmed_at.is_some(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotaSession {
    #[schema(value_type = String, format = Uuid)]
    pub session_id: SessionId,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub local_start: String,
    pub duties: Vec<Duty>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanResult {
    pub sessions: usize,
    pub duties: Vec<Duty>,
    /// Where a rule had to give way, and why.
    pub notes: Vec<Note>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct PlanRequest {
    /// How far ahead to plan, 1 to 26 weeks (default 12).
    pub weeks: Option<i64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DutyOverride {
    /// Who takes the duty; null leaves it empty.
    #[schema(value_type = Option<String>)]
    pub user_id: Option<UserId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum SwapKind {
    /// Exchange duties with a named peer (`peer_assignment_id`).
    Swap,
    /// Hand the duty to a named peer, or to anyone (`peer_id` absent).
    Cover,
}
stored_as_text!(SwapKind, { Swap = "swap", Cover = "cover" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum SwapState {
    Open,
    Accepted,
    Declined,
    /// The requester took it back (`POST /swap-requests/{id}/withdraw`).
    Withdrawn,
    /// Nobody answered in time; the duty stayed where it was.
    Expired,
}
// A withdrawn request is stored as "cancelled" (the value the table has allowed from the start).
stored_as_text!(SwapState, {
    Open = "open", Accepted = "accepted", Declined = "declined", Withdrawn = "cancelled", Expired = "expired"
});

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = swap_requests)]
pub struct SwapRow {
    pub id: String,
    pub cohort_id: CohortId,
    pub assignment_id: String,
    pub kind: SwapKind,
    pub requester_id: UserId,
    pub peer_id: Option<UserId>,
    pub peer_assignment_id: Option<String>,
    pub state: SwapState,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

impl SwapRow {
    pub fn state(&self, now: DateTime<Utc>) -> SwapState {
        match self.state {
            SwapState::Open if self.expires_at <= now.naive_utc() => SwapState::Expired,
            state => state,
        }
    }
}

/// The session a swap or cover request is about.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SwapSession {
    #[schema(value_type = String, format = Uuid)]
    pub id: SessionId,
    pub starts_at: DateTime<Utc>,
    /// In the cohort's time zone, with its offset.
    pub local_start: String,
}

/// The duty role a swap or cover request is about.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SwapRole {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
}

/// A swap or cover request, from `store::swap_views` (one joined query).
#[derive(Debug, Serialize, ToSchema)]
pub struct SwapRequest {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub assignment_id: String,
    /// The session of the requester's duty.
    pub session: SwapSession,
    /// The role of the requester's duty.
    pub role: SwapRole,
    pub kind: SwapKind,
    #[schema(value_type = String, format = Uuid)]
    pub requester_id: UserId,
    /// Null only if the account was deleted.
    pub requester: Option<Person>,
    /// The peer asked by name (null: a cover request to anyone).
    #[schema(value_type = Option<String>)]
    pub peer_id: Option<UserId>,
    pub peer: Option<Person>,
    pub peer_assignment_id: Option<String>,
    pub state: SwapState,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// A swap row with its session's start, its role's name and the people's names.
pub type SwapViewRow = (SwapRow, SessionId, NaiveDateTime, String, String, Option<String>, Option<String>);

impl SwapRequest {
    pub fn new(
        (row, session_id, starts_at, role_id, role_name, requester, peer): SwapViewRow,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            state: row.state(now),
            kind: row.kind,
            session: SwapSession {
                id: session_id,
                starts_at: starts_at.and_utc(),
                local_start: starts_at.and_utc().with_timezone(&tz).to_rfc3339(),
            },
            role: SwapRole { id: role_id, name: role_name },
            requester: Person::maybe(Some(row.requester_id.clone()), requester),
            peer: Person::maybe(row.peer_id.clone(), peer),
            id: row.id,
            assignment_id: row.assignment_id,
            requester_id: row.requester_id,
            peer_id: row.peer_id,
            peer_assignment_id: row.peer_assignment_id,
            expires_at: row.expires_at.and_utc(),
            created_at: row.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"kind": "cover"}))]
pub struct NewSwapRequest {
    #[schema(value_type = SwapKind, required = true)]
    pub kind: Option<SwapKind>,
    /// The peer asked; for `cover`, absent means anyone.
    #[schema(value_type = Option<String>)]
    pub peer_id: Option<UserId>,
    /// For `swap`: the peer's duty to exchange with.
    pub peer_assignment_id: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SwapFilter {
    pub state: Option<SwapState>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleTurns {
    #[schema(format = Uuid)]
    pub role_id: String,
    pub turns: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberLoad {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub user: Person,
    pub display_name: String,
    /// Duties served in the window, per role.
    pub turns: Vec<RoleTurns>,
    pub total: i64,
    /// Duties planned from now on.
    pub upcoming: i64,
    /// Roles (not retired) this member has never held.
    pub never_held: Vec<String>,
    /// More upcoming duties than the cohort's average plus one.
    pub overloaded: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Fairness {
    pub from: DateTime<Utc>,
    pub members: Vec<MemberLoad>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FairnessParams {
    /// The window, in weeks back from now (default 26).
    pub weeks: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PairCycle {
    pub cycle: i32,
    pub pairs: Vec<PairView>,
}

/// A coaching pair (or trio) with the people in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PairView {
    #[schema(value_type = String, format = Uuid)]
    pub coach: UserId,
    /// Null only if the account was deleted.
    pub coach_person: Option<Person>,
    #[schema(value_type = String, format = Uuid)]
    pub coachee: UserId,
    /// Null only if the account was deleted.
    pub coachee_person: Option<Person>,
    /// The third member of a trio, coached by the same coach.
    #[schema(value_type = Option<String>)]
    pub third: Option<UserId>,
    pub third_person: Option<Person>,
}
