//! Links in mail that act. (Interim: until the signed action links land, each action opens the
//! app's page for the object; replaced by the `/a/{secret}` pages.)

use chrono::{DateTime, Utc};

use crate::db::{AnyConnection, UserId};
use crate::error::ApiResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    ConfirmDuty,
    CantMake,
    RsvpYes,
    RsvpNo,
    CheckIn,
    AcceptCharter,
    TakeCover,
    AcceptSwap,
    DeclineSwap,
    Unsubscribe,
}

pub fn issue(
    _conn: &mut AnyConnection,
    base_url: &str,
    _user_id: &UserId,
    action: LinkAction,
    object_id: &str,
    _now: DateTime<Utc>,
) -> ApiResult<String> {
    Ok(format!("{base_url}/app/act/{action:?}/{object_id}"))
}
