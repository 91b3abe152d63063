//! Membership changes that are allowed (pure): a cohort always keeps an active organizer, and a
//! member who left comes back only through a new invitation.

use super::model::{MemberState, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The change would leave the cohort without an active organizer.
    LastOrganizer,
    /// The member has left; an invitation or invite link brings them back.
    HasLeft,
}

/// Whether a membership may go from `from` to `to`, given how many *other* active organizers
/// the cohort has.
pub fn check_change(
    from: (Role, MemberState),
    to: (Role, MemberState),
    other_active_organizers: i64,
) -> Result<(), Refusal> {
    if from == to {
        return Ok(());
    }
    if from.1 == MemberState::Left {
        return Err(Refusal::HasLeft);
    }
    let active_organizer = |(role, state): (Role, MemberState)| role == Role::Organizer && state == MemberState::Active;
    if active_organizer(from) && !active_organizer(to) && other_active_organizers == 0 {
        return Err(Refusal::LastOrganizer);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn role() -> impl Strategy<Value = Role> {
        prop_oneof![Just(Role::Member), Just(Role::Facilitator), Just(Role::Organizer)]
    }
    fn state() -> impl Strategy<Value = MemberState> {
        prop_oneof![Just(MemberState::Active), Just(MemberState::Paused), Just(MemberState::Left)]
    }

    #[test]
    fn the_last_organizer_stays() {
        let organizer = (Role::Organizer, MemberState::Active);
        assert_eq!(check_change(organizer, (Role::Member, MemberState::Active), 0), Err(Refusal::LastOrganizer));
        assert_eq!(check_change(organizer, (Role::Organizer, MemberState::Left), 0), Err(Refusal::LastOrganizer));
        assert_eq!(check_change(organizer, (Role::Organizer, MemberState::Paused), 1), Ok(()));
        assert_eq!(
            check_change((Role::Member, MemberState::Left), (Role::Member, MemberState::Active), 3),
            Err(Refusal::HasLeft)
        );
    }

    proptest! {
        /// Applying any sequence of allowed changes to a cohort that starts with an active
        /// organizer never leaves it without one.
        #[test]
        fn a_cohort_never_loses_its_last_organizer(
            size in 1usize..6,
            changes in prop::collection::vec((0usize..6, role(), state()), 0..40)
        ) {
            let mut members = vec![(Role::Member, MemberState::Active); size];
            members[0] = (Role::Organizer, MemberState::Active);
            let active = |m: &(Role, MemberState)| *m == (Role::Organizer, MemberState::Active);
            for (who, role, state) in changes {
                let who = who % size;
                let others = members.iter().enumerate().filter(|(i, m)| *i != who && active(m)).count() as i64;
                if check_change(members[who], (role, state), others).is_ok() {
                    members[who] = (role, state);
                }
                prop_assert!(members.iter().any(active));
            }
        }
    }
}
