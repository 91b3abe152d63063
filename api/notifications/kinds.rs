//! Every kind of notification the server sends, with its default and what a member may set: one
//! table (`KIND_TABLE`). The names are the ones mail carries in `X-Roundtable-Kind` and that
//! `/me/notification-preferences` takes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::stored_as_text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum NotificationKind {
    SessionSoon,
    DutySoon,
    DutyChanged,
    SwapAsked,
    CoverNeeded,
    SwapAnswered,
    SessionChanged,
    CheckinDue,
    ExperimentDue,
    SkillsharePromoted,
    SkillshareSoon,
    CharterToAccept,
    CharterReviewDue,
    Digest,
    EmailVerification,
    SignInLink,
    PasswordReset,
    PasswordChanged,
}

stored_as_text!(NotificationKind, {
    SessionSoon = "session_soon", DutySoon = "duty_soon", DutyChanged = "duty_changed", SwapAsked = "swap_asked",
    CoverNeeded = "cover_needed", SwapAnswered = "swap_answered", SessionChanged = "session_changed",
    CheckinDue = "checkin_due", ExperimentDue = "experiment_due", SkillsharePromoted = "skillshare_promoted",
    SkillshareSoon = "skillshare_soon", CharterToAccept = "charter_to_accept", CharterReviewDue = "charter_review_due",
    Digest = "digest", EmailVerification = "email_verification", SignInLink = "sign_in_link",
    PasswordReset = "password_reset", PasswordChanged = "password_changed"
});

/// What a kind is and what may be set of it.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    pub kind: NotificationKind,
    /// Mailed unless the member turns it off.
    pub email: bool,
    /// Minutes before the thing it is about, when the kind has lead times.
    pub lead_minutes: Option<&'static [u32]>,
    /// Account mail that is always sent (it answers something the member just asked for, or
    /// protects the account): it cannot be turned off, and quiet hours and digests do not hold it.
    pub required: bool,
    /// Gathered into the member's digest when they chose one (daily or weekly); the others are
    /// about something soon, or someone waits for an answer, and always go one by one.
    pub digestible: bool,
    pub what: &'static str,
}

const fn kind(
    kind: NotificationKind,
    email: bool,
    lead_minutes: Option<&'static [u32]>,
    what: &'static str,
) -> KindInfo {
    KindInfo { kind, email, lead_minutes, required: false, digestible: false, what }
}

/// A kind that a digest gathers.
const fn gathered(kind: NotificationKind, what: &'static str) -> KindInfo {
    KindInfo { kind, email: true, lead_minutes: None, required: false, digestible: true, what }
}

const fn account(kind: NotificationKind, what: &'static str) -> KindInfo {
    KindInfo { kind, email: true, lead_minutes: None, required: true, digestible: false, what }
}

use NotificationKind::*;

/// The table, in the order lists show it.
pub const KIND_TABLE: &[KindInfo] = &[
    kind(SessionSoon, true, Some(&[1440, 60]), "A session of yours is coming up (a day and an hour before)."),
    kind(DutySoon, true, Some(&[1440]), "You are on duty in a session soon, with what the role does."),
    gathered(DutyChanged, "A duty was given to you or taken from you."),
    kind(SwapAsked, true, None, "Someone asks you to swap a duty or to cover one."),
    kind(CoverNeeded, true, None, "A duty needs cover and you could take it."),
    gathered(SwapAnswered, "Your swap or cover request was answered."),
    kind(SessionChanged, true, None, "A session of yours was moved or cancelled."),
    gathered(CheckinDue, "Your experiment has had no check-in for a while."),
    kind(ExperimentDue, true, Some(&[1440]), "Your experiment is due."),
    gathered(SkillsharePromoted, "A place in a skill share freed up and it is yours."),
    kind(SkillshareSoon, true, Some(&[1440]), "The skill share you present is coming up."),
    gathered(CharterToAccept, "A new charter version was adopted and waits for your acceptance."),
    gathered(CharterReviewDue, "The charter's review is due (to facilitators)."),
    kind(Digest, true, None, "What is coming and what is owed, on Mondays at 08:00 your time."),
    account(EmailVerification, "Confirm your email address."),
    account(SignInLink, "A sign-in link you asked for."),
    account(PasswordReset, "A password reset you asked for."),
    account(PasswordChanged, "Your password was changed."),
];

impl NotificationKind {
    pub fn info(self) -> &'static KindInfo {
        KIND_TABLE.iter().find(|i| i.kind == self).expect("every kind is in the table")
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::parse_stored(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_in_the_table_once_and_reads_back_by_its_wire_name() {
        let mut seen = std::collections::HashSet::new();
        for info in KIND_TABLE {
            assert!(seen.insert(info.kind), "{:?} twice", info.kind);
            assert_eq!(NotificationKind::parse(info.kind.as_str()), Some(info.kind));
            assert_eq!(serde_json::to_value(info.kind).unwrap(), serde_json::json!(info.kind.as_str()));
            assert!(!(info.required && info.lead_minutes.is_some()), "account mail has no lead time");
        }
        assert_eq!(seen.len(), 18);
        assert_eq!(NotificationKind::parse("sms"), None);
    }
}
