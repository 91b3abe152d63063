use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::scopes::{self, Scope};
use crate::db::schema::personal_access_tokens;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = personal_access_tokens)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub token_hint: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

/// A personal access token as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalToken {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The start of the secret, to recognise it.
    #[schema(example = "rt_pat_Xy3k…")]
    pub token_hint: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for PersonalToken {
    fn from(row: TokenRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            scopes: scopes::split(&row.scopes),
            token_hint: row.token_hint,
            created_at: row.created_at.and_utc(),
            expires_at: row.expires_at.map(|t| t.and_utc()),
            last_used_at: row.last_used_at.map(|t| t.and_utc()),
        }
    }
}

/// A new token, with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub details: PersonalToken,
    /// Send as `Authorization: Bearer <token>`. It cannot be shown again.
    #[schema(example = "rt_pat_Xy3kQ2hhbmdlIG1lIGluIHByb2R1Y3Rpb24")]
    pub token: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"name": "HR sync", "scopes": ["cohorts:read"], "expires_at": "2027-06-30T00:00:00Z"}))]
pub struct NewToken {
    /// What the token is for, 1 to 80 characters.
    #[schema(value_type = String, required = true)]
    pub name: Option<String>,
    /// At least one of the scopes listed in the `personal_token` security scheme.
    #[schema(value_type = Vec<String>, required = true)]
    pub scopes: Option<Vec<String>>,
    /// When the token stops working (in the future); absent: never.
    pub expires_at: Option<DateTime<Utc>>,
}
