use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{auth_sessions, users};
use crate::db::{TimeZone, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub email_lower: String,
    pub password_hash: String,
    pub display_name: String,
    pub time_zone: TimeZone,
    pub locale: String,
    pub email_verified_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An account as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5a0-7c1e-7d2a-9a51-2b1f3c4d5e6f",
    "email": "ada@example.com",
    "display_name": "Ada",
    "time_zone": "Europe/Berlin",
    "locale": "en",
    "email_verified": false,
    "created_at": "2026-11-21T09:30:00Z"
}))]
pub struct User {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    /// IANA time zone; times are shown to this user in it.
    pub time_zone: String,
    /// BCP 47 language tag.
    pub locale: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            time_zone: row.time_zone.to_string(),
            locale: row.locale,
            email_verified: row.email_verified_at.is_some(),
            created_at: row.created_at.and_utc(),
        }
    }
}

/// Fields a user may change about themselves; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"display_name": "Ada L.", "time_zone": "America/New_York"}))]
pub struct UpdateMe {
    pub display_name: Option<String>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub time_zone: Option<TimeZone>,
    pub locale: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = auth_sessions)]
pub struct SignInRow {
    pub id: String,
    pub method: String,
    pub user_agent: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
}

/// A device or app signed in to the account (one refresh-token family).
#[derive(Debug, Serialize, ToSchema)]
pub struct SignIn {
    #[schema(format = Uuid)]
    pub id: String,
    /// `password` or `magic_link`.
    pub method: String,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Last time its refresh token was used.
    pub last_used_at: DateTime<Utc>,
    /// True for the sign-in that made this request.
    pub current: bool,
}
