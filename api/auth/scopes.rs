//! What a personal access token may do. Each area has a read and a write scope; write does not
//! imply read, so a token can be exactly as narrow as its owner wants. Sign-ins (JWTs) hold
//! every scope. New areas add their pair here.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    #[serde(rename = "cohorts:read")]
    CohortsRead,
    #[serde(rename = "cohorts:write")]
    CohortsWrite,
    #[serde(rename = "charter:read")]
    CharterRead,
    #[serde(rename = "charter:write")]
    CharterWrite,
    #[serde(rename = "sessions:read")]
    SessionsRead,
    #[serde(rename = "sessions:write")]
    SessionsWrite,
    #[serde(rename = "rota:read")]
    RotaRead,
    #[serde(rename = "rota:write")]
    RotaWrite,
    #[serde(rename = "experiments:read")]
    ExperimentsRead,
    #[serde(rename = "experiments:write")]
    ExperimentsWrite,
    #[serde(rename = "skillshare:read")]
    SkillshareRead,
    #[serde(rename = "skillshare:write")]
    SkillshareWrite,
    #[serde(rename = "notifications:read")]
    NotificationsRead,
    #[serde(rename = "notifications:write")]
    NotificationsWrite,
    #[serde(rename = "webhooks:read")]
    WebhooksRead,
    #[serde(rename = "webhooks:write")]
    WebhooksWrite,
}

impl Scope {
    pub const ALL: [Scope; 16] = [
        Scope::CohortsRead,
        Scope::CohortsWrite,
        Scope::CharterRead,
        Scope::CharterWrite,
        Scope::SessionsRead,
        Scope::SessionsWrite,
        Scope::RotaRead,
        Scope::RotaWrite,
        Scope::ExperimentsRead,
        Scope::ExperimentsWrite,
        Scope::SkillshareRead,
        Scope::SkillshareWrite,
        Scope::NotificationsRead,
        Scope::NotificationsWrite,
        Scope::WebhooksRead,
        Scope::WebhooksWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CohortsRead => "cohorts:read",
            Self::CohortsWrite => "cohorts:write",
            Self::CharterRead => "charter:read",
            Self::CharterWrite => "charter:write",
            Self::SessionsRead => "sessions:read",
            Self::SessionsWrite => "sessions:write",
            Self::RotaRead => "rota:read",
            Self::RotaWrite => "rota:write",
            Self::ExperimentsRead => "experiments:read",
            Self::ExperimentsWrite => "experiments:write",
            Self::SkillshareRead => "skillshare:read",
            Self::SkillshareWrite => "skillshare:write",
            Self::NotificationsRead => "notifications:read",
            Self::NotificationsWrite => "notifications:write",
            Self::WebhooksRead => "webhooks:read",
            Self::WebhooksWrite => "webhooks:write",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == text)
    }
}

/// Scopes as stored: space-separated, sorted, without duplicates.
pub fn join(scopes: &[Scope]) -> String {
    let mut sorted = scopes.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

/// Scopes from storage; unknown names (from a newer version) are ignored, never widened.
pub fn split(stored: &str) -> Vec<Scope> {
    stored.split_whitespace().filter_map(Scope::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_storage() {
        let stored = join(&[Scope::CohortsWrite, Scope::CohortsRead, Scope::CohortsWrite]);
        assert_eq!(stored, "cohorts:read cohorts:write");
        assert_eq!(split(&stored), vec![Scope::CohortsRead, Scope::CohortsWrite]);
        assert_eq!(split("cohorts:read future:admin"), vec![Scope::CohortsRead]);
        for scope in Scope::ALL {
            assert_eq!(serde_json::to_value(scope).unwrap(), scope.as_str());
        }
    }
}
