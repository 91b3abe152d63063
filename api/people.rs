//! How a person appears in any response: `{id, display_name}`, taken from the same query as the
//! object that names them (a join on `users`), so a phone screen never needs a second request to
//! turn ids into names.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::UserId;

/// A person named in a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5a0-7c1e-7d2a-9a51-2b1f3c4d5e6f", "display_name": "Ada"}))]
pub struct Person {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub display_name: String,
}

impl Person {
    pub fn new(id: UserId, display_name: impl Into<String>) -> Self {
        Self { id, display_name: display_name.into() }
    }

    /// For a nullable join (someone who deleted their account): a person only when both are there.
    pub fn maybe(id: Option<UserId>, display_name: Option<String>) -> Option<Self> {
        Some(Self { id: id?, display_name: display_name? })
    }
}

impl From<(UserId, String)> for Person {
    fn from((id, display_name): (UserId, String)) -> Self {
        Self { id, display_name }
    }
}
