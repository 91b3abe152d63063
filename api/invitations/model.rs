use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::cohorts::model::Role;
use crate::db::schema::{invitations, invite_links};
use crate::db::{CohortId, UserId};

pub const INVITATION_DAYS: i64 = 14;
pub const MAX_INVITATIONS_PER_REQUEST: usize = 100;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: String,
    pub cohort_id: CohortId,
    pub email: String,
    pub email_lower: String,
    pub role: Role,
    pub created_at: NaiveDateTime,
    pub sent_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub accepted_by: Option<UserId>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InvitationRow {
    pub fn state(&self, now: DateTime<Utc>) -> InvitationState {
        if self.accepted_at.is_some() {
            InvitationState::Accepted
        } else if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if self.expires_at <= now.naive_utc() {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    #[schema(format = Uuid)]
    pub id: String,
    pub email: String,
    /// The role the invitee gets on accepting.
    pub role: Role,
    pub state: InvitationState,
    pub created_at: DateTime<Utc>,
    /// When the mail was last sent.
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

impl Invitation {
    pub fn new(row: InvitationRow, now: DateTime<Utc>) -> Self {
        Self {
            state: row.state(now),
            role: row.role,
            id: row.id,
            email: row.email,
            created_at: row.created_at.and_utc(),
            sent_at: row.sent_at.and_utc(),
            expires_at: row.expires_at.and_utc(),
            accepted_at: row.accepted_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"emails": ["grace@example.com", "alan@example.com"], "role": "member"}))]
pub struct NewInvitations {
    /// 1 to 100 addresses. An address with an open invitation gets a fresh one.
    #[schema(value_type = Vec<String>, required = true)]
    pub emails: Option<Vec<String>>,
    /// Role on accepting (default `member`).
    pub role: Option<Role>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Skipped {
    pub email: String,
    /// `already_member`.
    pub reason: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationsSent {
    pub invited: Vec<Invitation>,
    /// Addresses not invited, and why.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationFilter {
    pub state: Option<InvitationState>,
}

/// The secret from an invitation mail.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AcceptInvitation {
    #[schema(value_type = String, required = true)]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invite_links)]
pub struct InviteLinkRow {
    pub id: String,
    pub cohort_id: CohortId,
    pub code_hint: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub max_uses: Option<i32>,
    pub uses: i32,
    pub revoked_at: Option<NaiveDateTime>,
}

/// A link anyone can use to join as a member, as organizers see it (never its code).
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteLink {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(example = "rt_join_Qm9…")]
    pub code_hint: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_uses: Option<i32>,
    pub uses: i32,
    /// Not revoked, not expired and not used up.
    pub usable: bool,
}

impl InviteLink {
    pub fn new(row: InviteLinkRow, now: DateTime<Utc>) -> Self {
        let usable = row.revoked_at.is_none()
            && row.expires_at.is_none_or(|at| at > now.naive_utc())
            && row.max_uses.is_none_or(|max| row.uses < max);
        Self {
            id: row.id,
            code_hint: row.code_hint,
            created_at: row.created_at.and_utc(),
            expires_at: row.expires_at.map(|t| t.and_utc()),
            max_uses: row.max_uses,
            uses: row.uses,
            usable,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedInviteLink {
    #[serde(flatten)]
    pub details: InviteLink,
    /// The secret part; shown this once.
    pub code: String,
    /// The link to share.
    #[schema(example = "https://roundtable.example/app/join#code=rt_join_Qm9...")]
    pub url: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"expires_at": "2027-01-31T00:00:00Z", "max_uses": 20}))]
pub struct NewInviteLink {
    /// When the link stops working (in the future); absent: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// How many people may join with it, 1 to 10000; absent: no limit.
    pub max_uses: Option<i32>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct JoinByLink {
    /// The code from the link.
    #[schema(value_type = String, required = true)]
    pub code: Option<String>,
}
