//! Who may do what in a cohort: the one place that decides it. Every handler that touches a
//! cohort's data names an `Action` and calls `authorize` inside its transaction; nothing else
//! checks roles.
//!
//! The answers, in order: a token without the action's scope gets 403 `insufficient_scope`; a
//! caller who is not a member (or has left) gets 404, so ids of other cohorts reveal nothing; a
//! member whose role is too low gets 403 `forbidden`; a paused member may read and change only
//! their own membership (403 `membership_paused`); writes to an archived cohort get 409
//! `cohort_archived`.

use super::model::{CohortRow, MemberState, MembershipRow, Role};
use super::store;
use crate::auth::Caller;
use crate::auth::caller::Check;
use crate::auth::scopes::Scope;
use crate::db::{AnyConnection, CohortId};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ReadCohort,
    UpdateCohort,
    ArchiveCohort,
    ReadMembers,
    ManageMembers,
    /// Pause, resume or leave one's own membership.
    ChangeOwnMembership,
    ReadInvitations,
    ManageInvitations,
    ReadCharter,
    /// Propose and edit one's drafts, comment, endorse.
    ProposeCharter,
    AcceptCharter,
    AdoptCharter,
    /// See who has and has not accepted.
    ReadAcceptances,
    /// Record a review that changed nothing.
    ReviewCharter,
    ReadSessions,
    /// Answer for oneself whether one comes.
    Rsvp,
    /// See who answered what for a session.
    ReadRsvps,
    /// Schedule, move and cancel sessions; keep agendas, attendance and notes.
    RunSessions,
    /// Keep one session's attendance and notes: facilitators, or a member on duty in it (the
    /// handler checks the duty; see `on_duty_or_facilitator`).
    KeepSessionRecord,
    ReadRota,
    /// Confirm one's duty, mark one's absences, ask for and answer swaps and cover.
    ActOnDuty,
    /// Plan the rota, override duties, form coaching pairs.
    RunRota,
    /// Add, rename and retire duty roles.
    ManageRoles,
    /// Read the experiments visible to the caller.
    ReadExperiments,
    /// Run one's own experiments; comment, offer help and celebrate on others' (visibility applies).
    WorkOnExperiments,
    /// See which experiments are overdue or stuck.
    ReviewExperiments,
    /// See a cohort's skill shares and who signed up.
    ReadSkillShares,
    /// Offer a skill share (and change or withdraw one's own); sign up for others' and leave.
    TakePartInSkillShares,
    /// Approve, reorder and move skill shares; add or remove attendees, past capacity if need be.
    RunSkillShares,
    /// See a cohort's webhooks and their delivery logs.
    ReadWebhooks,
    /// Register, change, ping and remove webhooks; redeliver.
    ManageWebhooks,
}

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub min_role: Role,
    pub writes: bool,
    pub scope: Scope,
}

impl Action {
    pub const ALL: [Action; 31] = [
        Action::ReadCohort,
        Action::UpdateCohort,
        Action::ArchiveCohort,
        Action::ReadMembers,
        Action::ManageMembers,
        Action::ChangeOwnMembership,
        Action::ReadInvitations,
        Action::ManageInvitations,
        Action::ReadCharter,
        Action::ProposeCharter,
        Action::AcceptCharter,
        Action::AdoptCharter,
        Action::ReadAcceptances,
        Action::ReviewCharter,
        Action::ReadSessions,
        Action::Rsvp,
        Action::ReadRsvps,
        Action::RunSessions,
        Action::KeepSessionRecord,
        Action::ReadRota,
        Action::ActOnDuty,
        Action::RunRota,
        Action::ManageRoles,
        Action::ReadExperiments,
        Action::WorkOnExperiments,
        Action::ReviewExperiments,
        Action::ReadSkillShares,
        Action::TakePartInSkillShares,
        Action::RunSkillShares,
        Action::ReadWebhooks,
        Action::ManageWebhooks,
    ];

    /// The policy, in one table.
    pub fn rule(self) -> Rule {
        use Action::*;
        use Role::{Facilitator, Member, Organizer};
        use Scope::*;
        let (min_role, writes, scope) = match self {
            ReadCohort | ReadMembers => (Member, false, CohortsRead),
            ChangeOwnMembership => (Member, true, CohortsWrite),
            ReadInvitations => (Organizer, false, CohortsRead),
            UpdateCohort | ArchiveCohort | ManageMembers | ManageInvitations => (Organizer, true, CohortsWrite),
            ReadCharter => (Member, false, CharterRead),
            ProposeCharter | AcceptCharter => (Member, true, CharterWrite),
            ReadAcceptances => (Facilitator, false, CharterRead),
            AdoptCharter | ReviewCharter => (Facilitator, true, CharterWrite),
            ReadSessions => (Member, false, SessionsRead),
            Rsvp => (Member, true, SessionsWrite),
            ReadRsvps => (Facilitator, false, SessionsRead),
            RunSessions => (Facilitator, true, SessionsWrite),
            KeepSessionRecord => (Member, true, SessionsWrite),
            ReadRota => (Member, false, RotaRead),
            ActOnDuty => (Member, true, RotaWrite),
            RunRota => (Facilitator, true, RotaWrite),
            ManageRoles => (Organizer, true, RotaWrite),
            ReadExperiments => (Member, false, ExperimentsRead),
            WorkOnExperiments => (Member, true, ExperimentsWrite),
            ReviewExperiments => (Facilitator, false, ExperimentsRead),
            ReadSkillShares => (Member, false, SkillshareRead),
            TakePartInSkillShares => (Member, true, SkillshareWrite),
            RunSkillShares => (Facilitator, true, SkillshareWrite),
            ReadWebhooks => (Organizer, false, WebhooksRead),
            ManageWebhooks => (Organizer, true, WebhooksWrite),
        };
        Rule { min_role, writes, scope }
    }
}

/// The caller's standing in a cohort, once authorized.
#[derive(Debug, Clone)]
pub struct Access {
    pub cohort: CohortRow,
    pub membership: MembershipRow,
}

impl Access {
    pub fn role(&self) -> Role {
        self.membership.role()
    }
}

/// Actions that concern no existing cohort: creating one, listing one's own, joining one by
/// invitation or invite link. Only the token's scope limits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnAction {
    CreateCohort,
    ListMyCohorts,
    JoinCohort,
    ListMySessions,
    ListMyExperiments,
    ListMySkillShares,
}

pub fn authorize_own(caller: &Caller, action: OwnAction) -> ApiResult<()> {
    caller.require_scope(match action {
        OwnAction::ListMyCohorts => Scope::CohortsRead,
        OwnAction::ListMySessions => Scope::SessionsRead,
        OwnAction::ListMyExperiments => Scope::ExperimentsRead,
        OwnAction::ListMySkillShares => Scope::SkillshareRead,
        OwnAction::CreateCohort | OwnAction::JoinCohort => Scope::CohortsWrite,
    })
}

/// After `KeepSessionRecord`: facilitators and organizers may, and so may a member on duty in
/// the session (note-taker, timekeeper, ...).
pub fn on_duty_or_facilitator(access: &Access, on_duty: bool) -> ApiResult<()> {
    if access.role() >= Role::Facilitator || on_duty {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            code: "forbidden",
            detail: "This needs the facilitator role, or a duty in this session.".to_string(),
        })
    }
}

/// The decision on the facts, without I/O.
pub fn decide(action: Action, role: Role, state: MemberState, archived: bool) -> ApiResult<()> {
    let rule = action.rule();
    if state == MemberState::Left {
        return Err(ApiError::NotFound);
    }
    if role < rule.min_role {
        return Err(ApiError::Forbidden {
            code: "forbidden",
            detail: format!("This needs the {} role in this cohort.", rule.min_role.as_str()),
        });
    }
    if state == MemberState::Paused && rule.writes && action != Action::ChangeOwnMembership {
        return Err(ApiError::Forbidden {
            code: "membership_paused",
            detail: "Your membership is paused; resume it to make changes.".to_string(),
        });
    }
    if archived && rule.writes {
        return Err(ApiError::conflict("cohort_archived", "This cohort is archived and read-only."));
    }
    Ok(())
}

/// Checks that the caller may do `action` in the cohort, and returns their standing there.
pub fn authorize(conn: &mut AnyConnection, caller: &Caller, cohort_id: &CohortId, action: Action) -> ApiResult<Access> {
    caller.checks.record(Check::Cohort { cohort_id: cohort_id.clone(), action });
    caller.require_scope(action.rule().scope)?;
    let (cohort, membership) =
        store::cohort_with_membership(conn, cohort_id, caller.user_id())?.ok_or(ApiError::NotFound)?;
    decide(action, membership.role(), membership.state(), cohort.archived_at.is_some())?;
    Ok(Access { cohort, membership })
}

impl Action {
    /// The action with this name (its `Debug` form), as stored with an idempotent answer.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| format!("{a:?}") == name)
    }
}

/// Asks the checks a first request passed of the caller now replaying it: the same token scopes,
/// a sign-in where one was needed, and the same standing in each cohort (a member removed since,
/// or a read-only token, gets the error they would get now, not the stored answer).
pub fn recheck(conn: &mut AnyConnection, caller: &Caller, checks: &[Check]) -> ApiResult<()> {
    for check in checks {
        match check {
            Check::Scope(scope) => caller.require_scope(*scope)?,
            Check::SignIn => caller.require_sign_in().map(|_| ())?,
            Check::Cohort { cohort_id, action } => {
                authorize(conn, caller, cohort_id, *action)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    const ACTIONS: [Action; 31] = Action::ALL;

    #[test]
    fn actions_are_found_by_their_recorded_names() {
        for action in ACTIONS {
            assert_eq!(Action::from_name(&format!("{action:?}")), Some(action));
        }
        assert_eq!(Action::from_name("Nothing"), None);
    }

    fn code(result: ApiResult<()>) -> &'static str {
        result.err().map_or("ok", |e| e.code())
    }

    #[test]
    fn members_read_and_organizers_run_the_cohort() {
        assert_eq!(code(decide(ReadMembers, Role::Member, MemberState::Active, false)), "ok");
        assert_eq!(code(decide(ManageMembers, Role::Facilitator, MemberState::Active, false)), "forbidden");
        assert_eq!(code(decide(ManageInvitations, Role::Organizer, MemberState::Active, false)), "ok");
    }

    #[test]
    fn left_members_are_strangers_and_paused_ones_read_only() {
        for action in ACTIONS {
            assert_eq!(code(decide(action, Role::Organizer, MemberState::Left, false)), "not_found");
        }
        assert_eq!(code(decide(ReadCohort, Role::Member, MemberState::Paused, false)), "ok");
        assert_eq!(code(decide(ChangeOwnMembership, Role::Member, MemberState::Paused, false)), "ok");
        assert_eq!(code(decide(UpdateCohort, Role::Organizer, MemberState::Paused, false)), "membership_paused");
    }

    #[test]
    fn archived_cohorts_are_read_only_for_everyone() {
        for action in ACTIONS {
            let expected = if action.rule().writes { "cohort_archived" } else { "ok" };
            assert_eq!(code(decide(action, Role::Organizer, MemberState::Active, true)), expected, "{action:?}");
        }
    }

    #[test]
    fn higher_roles_may_do_everything_lower_ones_may() {
        let roles = [Role::Member, Role::Facilitator, Role::Organizer];
        for action in ACTIONS {
            for (i, lower) in roles.iter().enumerate() {
                if decide(action, *lower, MemberState::Active, false).is_ok() {
                    for higher in &roles[i..] {
                        assert!(decide(action, *higher, MemberState::Active, false).is_ok());
                    }
                }
            }
        }
    }
}
