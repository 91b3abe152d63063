//! Every kind of event, with the payload it carries and who may see it.
//!
//! One line per kind in `event_kinds!` below declares its stored name (the dotted string in
//! `events.kind`, unchanged from when kinds were free strings), the type of object it is about
//! (`events.subject_type`), its audience and the fields of its payload. From that one table come
//! [`EventKind`] (the closed list of names: a string that is not in it cannot be recorded), one
//! payload struct per kind (the OpenAPI components of the same name) and [`EventPayload`], the
//! union of them tagged by `kind` that the OpenAPI document shows as the `EventPayload` schema.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::cohorts::model::{MemberState, Role};
use crate::sessions::model::RsvpResponse;

/// Who may see an event (`events.audience`), so that a consumer (the activity feed, webhooks,
/// the phone's sync) never has to work it out again from the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Every member of the event's cohort.
    Cohort,
    /// The subject's owner and their buddy (an experiment shared with a buddy).
    Buddy,
    /// The subject's owner only (a private experiment).
    Private,
    /// Those who run the cohort: its organizers and facilitators (invitations, who accepted the
    /// charter, who answered which RSVP).
    Organizers,
    /// The user the event is about, alone: their account and tokens; no cohort.
    Account,
}

impl Audience {
    pub const ALL: [Audience; 5] =
        [Audience::Cohort, Audience::Buddy, Audience::Private, Audience::Organizers, Audience::Account];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Cohort => "cohort",
            Audience::Buddy => "buddy",
            Audience::Private => "private",
            Audience::Organizers => "organizers",
            Audience::Account => "account",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

/// How a kind's audience is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudienceRule {
    /// Always this audience.
    Fixed(Audience),
    /// The subject's own visibility, given where the event is recorded
    /// ([`NewEvent::visible_to`](super::NewEvent::visible_to)): experiments are `private`,
    /// `buddy` or `cohort` as their owner chose.
    OfSubject,
}

macro_rules! audience_rule {
    (subject) => {
        AudienceRule::OfSubject
    };
    ($audience:ident) => {
        AudienceRule::Fixed(Audience::$audience)
    };
}

macro_rules! event_kinds {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $name:tt, subject $subject:tt, $audience:ident
            { $( $(#[$field_attr:meta])* $field:ident : $field_ty:ty ),* $(,)? }
    )*) => {
        /// The kind of an event: the closed list of what is ever recorded.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        pub enum EventKind {
            $( $(#[doc = $doc])* #[serde(rename = $name)] $variant, )*
        }

        impl EventKind {
            /// Every kind, in the order of the table.
            pub const ALL: &'static [EventKind] = &[$( EventKind::$variant ),*];

            /// The stored name, e.g. `session.moved`.
            pub fn as_str(self) -> &'static str {
                match self { $( EventKind::$variant => $name, )* }
            }

            /// The type of object events of this kind are about (`events.subject_type`).
            pub fn subject_type(self) -> &'static str {
                match self { $( EventKind::$variant => $subject, )* }
            }

            /// Who may see events of this kind.
            pub fn audience(self) -> AudienceRule {
                match self { $( EventKind::$variant => audience_rule!($audience), )* }
            }

            /// The kind of a stored name; `None` for a string that is no kind.
            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $( $name => Some(EventKind::$variant), )* _ => None }
            }
        }

        $(
            $(#[doc = $doc])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
            pub struct $variant { $( $(#[$field_attr])* pub $field: $field_ty, )* }

            impl From<$variant> for EventPayload {
                fn from(payload: $variant) -> Self {
                    EventPayload::$variant(payload)
                }
            }
        )*

        /// An event's kind with its payload: `{"kind": "session.moved", "payload": {...}}`, one
        /// variant per kind.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
        #[serde(tag = "kind", content = "payload")]
        pub enum EventPayload {
            $( #[serde(rename = $name)] $variant($variant), )*
        }

        impl EventPayload {
            pub fn kind(&self) -> EventKind {
                match self { $( EventPayload::$variant(_) => EventKind::$variant, )* }
            }

            /// The payload alone, as stored in `events.payload`.
            pub fn to_json(&self) -> serde_json::Value {
                let value = match self { $( EventPayload::$variant(p) => serde_json::to_value(p), )* };
                value.unwrap_or_else(|_| serde_json::json!({}))
            }
        }

        /// The OpenAPI components: one schema per payload, the kinds, and the tagged union.
        pub fn schemas() -> Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)> {
            let mut all = Vec::new();
            $( <$variant as ToSchema>::schemas(&mut all); all.push((<$variant as ToSchema>::name().into_owned(), <$variant as utoipa::PartialSchema>::schema())); )*
            let mut kinds = <EventKind as utoipa::PartialSchema>::schema();
            if let utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(object)) = &mut kinds {
                object.description = Some(kind_table());
            }
            for (name, schema) in [
                (<EventKind as ToSchema>::name().into_owned(), kinds),
                (<Audience as ToSchema>::name().into_owned(), <Audience as utoipa::PartialSchema>::schema()),
                (<EventPayload as ToSchema>::name().into_owned(), <EventPayload as utoipa::PartialSchema>::schema()),
                (<super::Event as ToSchema>::name().into_owned(), <super::Event as utoipa::PartialSchema>::schema()),
            ] {
                all.push((name, schema));
            }
            all
        }
    };
}

/// The kinds as a Markdown table (kind, subject, audience), for the OpenAPI document.
fn kind_table() -> String {
    let mut table = String::from(
        "The kind of an event, with the type of its subject and who may see it (`audience`). \
         The payload of each kind is the `EventPayload` variant of that `kind`.\n\n\
         | kind | subject | audience |\n|---|---|---|\n",
    );
    for kind in EventKind::ALL {
        let audience = match kind.audience() {
            AudienceRule::Fixed(audience) => audience.as_str(),
            AudienceRule::OfSubject => "the experiment's visibility (private, buddy or cohort)",
        };
        table.push_str(&format!("| `{}` | {} | {} |\n", kind.as_str(), kind.subject_type(), audience));
    }
    table
}

/// A field of a partial update that was set, by name (`display_name`, `time_zone`, ...).
pub type FieldName = String;

/// A cohort's time zone as it was and as it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimeZoneChange {
    pub from: String,
    pub to: String,
}

event_kinds! {
    // Accounts: only their owner hears of them.
    /// A new account (its address is not proven yet).
    UserSignedUp = "user.signed_up", subject "user", Account {}
    /// The account's address was proven by a link from a mail.
    UserEmailVerified = "user.email_verified", subject "user", Account {}
    /// The password was reset through a mailed link.
    UserPasswordReset = "user.password_reset", subject "user", Account {}
    /// The password was changed by its owner.
    UserPasswordChanged = "user.password_changed", subject "user", Account {}
    /// The profile changed.
    UserUpdated = "user.updated", subject "user", Account {
        /// The fields that were set.
        changed: Vec<FieldName>,
    }
    /// Notification preferences changed (`kinds`: the kinds named; digest or quiet hours may have
    /// changed too).
    NotificationPreferencesChanged = "user.notification_preferences_changed", subject "user", Account { kinds: Vec<String> }
    /// The account and its personal data were deleted; only the id remains.
    UserDeleted = "user.deleted", subject "user", Account {}
    /// A personal access token was created.
    TokenCreated = "token.created", subject "personal_access_token", Account {}
    /// A personal access token was revoked.
    TokenRevoked = "token.revoked", subject "personal_access_token", Account {}

    // Cohorts and membership.
    CohortCreated = "cohort.created", subject "cohort", Cohort {}
    /// Name, description, time zone or locale changed.
    CohortUpdated = "cohort.updated", subject "cohort", Cohort {
        /// The fields that were set.
        changed: Vec<FieldName>,
        /// Present when the time zone really moved (sessions keep their local times; the rota
        /// is planned again).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time_zone: Option<TimeZoneChange>,
    }
    CohortArchived = "cohort.archived", subject "cohort", Cohort {}
    /// The agenda template new sessions start from changed.
    CohortAgendaTemplateChanged = "cohort.agenda_template_changed", subject "cohort", Cohort {}
    /// Someone joined (or rejoined); `subject_id` is their user id.
    MemberJoined = "member.joined", subject "member", Cohort {
        role: Role,
        /// How: `invitation`, `invite_link`, ...
        via: String,
    }
    /// A member's role changed; `subject_id` is their user id.
    MemberRoleChanged = "member.role_changed", subject "member", Cohort { from: Role, to: Role }
    /// A member paused, resumed or left (or was removed); `subject_id` is their user id.
    MemberStateChanged = "member.state_changed", subject "member", Cohort { from: MemberState, to: MemberState }

    // Invitations: only those who manage them hear of them.
    InvitationSent = "invitation.sent", subject "invitation", Organizers {}
    InvitationRevoked = "invitation.revoked", subject "invitation", Organizers {}
    InvitationAccepted = "invitation.accepted", subject "invitation", Organizers {}
    InviteLinkCreated = "invite_link.created", subject "invite_link", Organizers {}
    InviteLinkRevoked = "invite_link.revoked", subject "invite_link", Organizers {}
    /// Someone joined through an invite link.
    InviteLinkUsed = "invite_link.used", subject "invite_link", Organizers {}

    // The charter.
    CharterProposed = "charter.proposed", subject "charter_version", Cohort {}
    CharterEdited = "charter.edited", subject "charter_version", Cohort {}
    CharterEndorsed = "charter.endorsed", subject "charter_version", Cohort {}
    CharterCommented = "charter.commented", subject "charter_version", Cohort {}
    /// A draft became the current charter.
    CharterAdopted = "charter.adopted", subject "charter_version", Cohort {
        /// Its version number.
        number: i32,
    }
    /// A member accepted the current charter (who accepted is for facilitators to see).
    CharterAccepted = "charter.accepted", subject "charter_version", Organizers {}
    /// A review that kept the charter as it is.
    CharterReviewed = "charter.reviewed", subject "charter_version", Cohort {}
    /// The charter is due for review (recorded by the daily sweep).
    CharterReviewDue = "charter.review_due", subject "charter_version", Cohort {
        /// The review date, `YYYY-MM-DD`.
        due_on: String,
    }

    // Sessions.
    SeriesCreated = "series.created", subject "series", Cohort {
        /// How many sessions were scheduled from it.
        sessions: usize,
    }
    /// A series was changed from one occurrence on: it ends there and a new one continues.
    SeriesChanged = "series.changed", subject "series", Cohort {
        /// The id of the series that continues it.
        continued_by: String,
    }
    SessionCreated = "session.created", subject "session", Cohort {}
    /// The session's time or length changed.
    SessionMoved = "session.moved", subject "session", Cohort {}
    SessionCancelled = "session.cancelled", subject "session", Cohort {}
    /// A cancelled session takes place after all.
    SessionReinstated = "session.reinstated", subject "session", Cohort {}
    SessionAgendaChanged = "session.agenda_changed", subject "session", Cohort {}
    SessionAttendanceRecorded = "session.attendance_recorded", subject "session", Cohort {}
    SessionNotesPublished = "session.notes_published", subject "session", Cohort {}
    /// A member answered whether they come (`actor_id`); who answered what is for facilitators.
    SessionRsvpChanged = "session.rsvp_changed", subject "session", Organizers { response: RsvpResponse }

    // The rota.
    /// A duty was given to someone, by the planner or by hand (`override`).
    DutyAssigned = "duty.assigned", subject "assignment", Cohort {
        /// Who holds it now (null: nobody, it went back to the rota).
        user_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role_id: Option<String>,
        /// True when given by hand rather than by the planner.
        #[serde(default, rename = "override", skip_serializing_if = "std::ops::Not::not")]
        by_hand: bool,
    }
    DutyConfirmed = "duty.confirmed", subject "assignment", Cohort {}
    /// The planner found nobody for a role in a session (`subject_id`).
    DutyGap = "duty.gap", subject "session", Cohort { role_id: String }
    AbsenceAdded = "absence.added", subject "absence", Cohort {}
    AbsenceRemoved = "absence.removed", subject "absence", Cohort {}
    RoleAdded = "role.added", subject "duty_role", Cohort {}
    /// A duty role was renamed, retired or brought back, or its rules changed.
    RoleChanged = "role.changed", subject "duty_role", Cohort {}
    /// Coaching pairs were formed for a cycle.
    PairsFormed = "pairs.formed", subject "cohort", Cohort { cycle: i32 }
    PairsSettingsChanged = "pairs.settings_changed", subject "cohort", Cohort {}
    /// Someone asks to swap a duty (with `peer_id`, or anyone when null).
    SwapAsked = "swap.asked", subject "swap_request", Cohort { peer_id: Option<String> }
    /// Someone asks for cover for a duty (from `peer_id`, or anyone when null).
    CoverNeeded = "cover.needed", subject "swap_request", Cohort { peer_id: Option<String> }
    SwapAccepted = "swap.accepted", subject "swap_request", Cohort {}
    SwapDeclined = "swap.declined", subject "swap_request", Cohort {}
    SwapWithdrawn = "swap.withdrawn", subject "swap_request", Cohort {}

    // Experiments: seen by whom the experiment's visibility allows.
    /// A new experiment (`seeded_from`: the one whose outcome it continues).
    ExperimentCommitted = "experiment.committed", subject "experiment", subject {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seeded_from: Option<String>,
    }
    ExperimentDone = "experiment.done", subject "experiment", subject {}
    ExperimentDropped = "experiment.dropped", subject "experiment", subject {}
    ExperimentCheckedIn = "experiment.checked_in", subject "experiment", subject {}
    ExperimentCommented = "experiment.commented", subject "experiment", subject {}
    ExperimentHelpOffered = "experiment.help_offered", subject "experiment", subject {}
    /// The owner accepted an offer of help.
    ExperimentHelpAccepted = "experiment.help_accepted", subject "experiment", subject {}
    /// The owner dismissed an offer of help.
    ExperimentHelpDismissed = "experiment.help_dismissed", subject "experiment", subject {}
    ExperimentCelebrated = "experiment.celebrated", subject "experiment", subject {}

    // Skill shares: seen by the whole cohort.
    /// A member offered a skill share on a session (`approval_needed`: it waits for a
    /// facilitator before it goes on the agenda).
    SkillShareOffered = "skill_share.offered", subject "skill_share", Cohort { session_id: String, approval_needed: bool }
    /// A skill share went on its session's agenda (on offer, or when a facilitator approved it).
    SkillShareApproved = "skill_share.approved", subject "skill_share", Cohort { session_id: String }
    /// Its title, summary, minutes, capacity, experiment or place on the agenda changed.
    SkillShareChanged = "skill_share.changed", subject "skill_share", Cohort { changed: Vec<String> }
    /// `user_id` has a place (`added_by`: the facilitator who added them, past capacity if need be).
    SkillShareSignedUp = "skill_share.signed_up", subject "skill_share", Cohort {
        user_id: String,
        added_by: Option<String>,
    }
    /// `user_id` joined the waitlist at `position`.
    SkillShareWaitlisted = "skill_share.waitlisted", subject "skill_share", Cohort { user_id: String, position: i64 }
    /// A place freed up and `user_id`, first on the waitlist, has it now.
    SkillSharePromoted = "skill_share.promoted", subject "skill_share", Cohort { user_id: String }
    /// `user_id` gave up their place or left the waitlist (`removed_by`: a facilitator removed them).
    SkillShareLeft = "skill_share.left", subject "skill_share", Cohort {
        user_id: String,
        was_waitlisted: bool,
        removed_by: Option<String>,
    }
    /// Moved to another session (its sign-ups go with it).
    SkillShareMoved = "skill_share.moved", subject "skill_share", Cohort { from_session_id: String, to_session_id: String }
    /// Its session was cancelled: the presenter is asked to move it to another session or withdraw it.
    SkillShareOfferedBack = "skill_share.offered_back", subject "skill_share", Cohort { session_id: String }
    /// Withdrawn by its presenter or a facilitator.
    SkillShareWithdrawn = "skill_share.withdrawn", subject "skill_share", Cohort {}
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_name_is_one_kind_and_reads_back() {
        let names: HashSet<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), EventKind::ALL.len(), "two kinds share a name");
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(*kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
        }
        assert_eq!(EventKind::parse("session.exploded"), None);
    }

    #[test]
    fn a_payload_knows_its_kind_and_stores_only_its_fields() {
        let payload: EventPayload = DutyGap { role_id: "r".into() }.into();
        assert_eq!(payload.kind(), EventKind::DutyGap);
        assert_eq!(payload.to_json(), serde_json::json!({ "role_id": "r" }));
        assert_eq!(
            serde_json::to_value(&payload).unwrap(),
            serde_json::json!({ "kind": "duty.gap", "payload": { "role_id": "r" } })
        );
        assert_eq!(EventPayload::from(SessionCreated {}).to_json(), serde_json::json!({}));
    }

    #[test]
    fn payloads_keep_the_shapes_stored_before_kinds_were_typed() {
        let planned = DutyAssigned {
            user_id: Some("u".into()),
            session_id: Some("s".into()),
            role_id: Some("r".into()),
            by_hand: false,
        };
        assert_eq!(
            EventPayload::from(planned).to_json(),
            serde_json::json!({"user_id": "u", "session_id": "s", "role_id": "r"})
        );
        let by_hand = DutyAssigned { user_id: Some("u".into()), session_id: None, role_id: None, by_hand: true };
        assert_eq!(EventPayload::from(by_hand).to_json(), serde_json::json!({"user_id": "u", "override": true}));
        let fresh = ExperimentCommitted { seeded_from: None };
        assert_eq!(EventPayload::from(fresh).to_json(), serde_json::json!({}));
        let updated = CohortUpdated { changed: vec!["name".into()], time_zone: None };
        assert_eq!(EventPayload::from(updated).to_json(), serde_json::json!({"changed": ["name"]}));
    }

    #[test]
    fn only_experiments_take_their_audience_from_the_subject() {
        for kind in EventKind::ALL {
            let from_subject = kind.audience() == AudienceRule::OfSubject;
            assert_eq!(from_subject, kind.as_str().starts_with("experiment."), "{}", kind.as_str());
            let account = kind.audience() == AudienceRule::Fixed(Audience::Account);
            assert_eq!(account, kind.as_str().starts_with("user.") || kind.as_str().starts_with("token."));
        }
    }
}
