//! An experiment's life (pure): the states it may move through, and when it needs attention.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::{UserId, stored_as_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum ExperimentState {
    Committed,
    InProgress,
    Done,
    Dropped,
}
stored_as_text!(ExperimentState, {
    Committed = "committed", InProgress = "in_progress", Done = "done", Dropped = "dropped"
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Visibility {
    /// Only its owner.
    Private,
    /// Its owner and their buddy (a chosen member, or else their coaching partner).
    Buddy,
    /// Every member of the cohort.
    Cohort,
}
stored_as_text!(Visibility, { Private = "private", Buddy = "buddy", Cohort = "cohort" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum OutcomeResult {
    Worked,
    Partly,
    DidNot,
}
stored_as_text!(OutcomeResult, { Worked = "worked", Partly = "partly", DidNot = "did_not" });

/// Whether an experiment may move from one state to another: committed -> in progress ->
/// done, and dropped from either of the first two. Done and dropped are final.
pub fn can_move(from: ExperimentState, to: ExperimentState) -> bool {
    use ExperimentState::*;
    matches!((from, to), (Committed, InProgress) | (InProgress, Done) | (Committed | InProgress, Dropped))
}

pub fn is_open(state: ExperimentState) -> bool {
    matches!(state, ExperimentState::Committed | ExperimentState::InProgress)
}

/// Past its due moment and not finished.
pub fn is_overdue(state: ExperimentState, due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    is_open(state) && due.is_some_and(|due| due <= now)
}

/// Why an open experiment is stuck; both empty when it is not.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stuck {
    /// The last check-in (or the start, when there is none), when that is `quiet_days` or more ago.
    pub quiet_since: Option<DateTime<Utc>>,
    /// The blocker named in the last two check-ins alike (as last written).
    pub repeated_blocker: Option<String>,
}

impl Stuck {
    pub fn any(&self) -> bool {
        self.quiet_since.is_some() || self.repeated_blocker.is_some()
    }
}

/// Stuck: open, and no check-in for `quiet_days` (counted from the start when there is none), or
/// the same blocker in the last two check-ins (compared without case and surrounding spaces).
pub fn stuck(
    state: ExperimentState,
    started: DateTime<Utc>,
    check_ins: &[(DateTime<Utc>, String)],
    quiet_days: i64,
    now: DateTime<Utc>,
) -> Stuck {
    if !is_open(state) {
        return Stuck::default();
    }
    let last = check_ins.iter().map(|(at, _)| *at).max().unwrap_or(started);
    let quiet_since = (now - last >= Duration::days(quiet_days)).then_some(last);
    let mut recent: Vec<&(DateTime<Utc>, String)> = check_ins.iter().collect();
    recent.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let repeated_blocker = match recent.as_slice() {
        [a, b, ..] => {
            let (x, y) = (a.1.trim().to_lowercase(), b.1.trim().to_lowercase());
            (!x.is_empty() && x == y).then(|| a.1.trim().to_string())
        }
        _ => None,
    };
    Stuck { quiet_since, repeated_blocker }
}

pub fn is_stuck(
    state: ExperimentState,
    started: DateTime<Utc>,
    check_ins: &[(DateTime<Utc>, String)],
    quiet_days: i64,
    now: DateTime<Utc>,
) -> bool {
    stuck(state, started, check_ins, quiet_days, now).any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExperimentState::*;
    use proptest::prelude::*;

    fn at(days: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::days(days)
    }

    #[test]
    fn the_lifecycle_goes_one_way() {
        assert!(can_move(Committed, InProgress) && can_move(InProgress, Done));
        assert!(can_move(Committed, Dropped) && can_move(InProgress, Dropped));
        assert!(!can_move(Committed, Done), "try it first");
        assert!(!can_move(Done, InProgress) && !can_move(Dropped, Committed) && !can_move(Done, Dropped));
    }

    #[test]
    fn overdue_and_stuck() {
        assert!(is_overdue(InProgress, Some(at(1)), at(2)));
        assert!(!is_overdue(Done, Some(at(1)), at(2)));
        assert!(!is_overdue(Committed, None, at(2)));
        assert!(is_stuck(InProgress, at(0), &[], 7, at(7)), "no check-in for a week");
        assert!(!is_stuck(InProgress, at(0), &[(at(5), String::new())], 7, at(7)));
        let same = [(at(5), "No time".to_string()), (at(6), " no time".to_string())];
        assert!(is_stuck(InProgress, at(0), &same, 7, at(7)), "the same blocker twice");
        assert!(!is_stuck(Done, at(0), &[], 7, at(30)));
    }

    fn state() -> impl Strategy<Value = ExperimentState> {
        prop_oneof![Just(Committed), Just(InProgress), Just(Done), Just(Dropped)]
    }

    proptest! {
        #[test]
        fn finished_experiments_stay_finished(from in state(), to in state()) {
            if !is_open(from) {
                prop_assert!(!can_move(from, to));
            }
            prop_assert!(!can_move(from, from));
        }
    }
}

/// Whether `viewer` may see an experiment: its owner always; everyone in the cohort for
/// `cohort`; for `buddy`, the chosen buddy, or (with none chosen) the owner's coaching partners;
/// nobody else for `private`.
pub fn can_see(
    owner: &UserId,
    visibility: Visibility,
    buddy: Option<&UserId>,
    viewer: &UserId,
    viewer_partners: &[UserId],
) -> bool {
    owner == viewer
        || match visibility {
            Visibility::Cohort => true,
            Visibility::Buddy => match buddy {
                Some(buddy) => buddy == viewer,
                None => viewer_partners.iter().any(|p| p == owner),
            },
            Visibility::Private => false,
        }
}

#[cfg(test)]
mod visibility_tests {
    use super::*;

    #[test]
    fn visibility_rules() {
        let [owner, peer, bud, other] = [(); 4].map(|()| UserId::new());
        let partners = vec![owner.clone()];
        assert!(can_see(&owner, Visibility::Private, None, &owner, &[]));
        assert!(!can_see(&owner, Visibility::Private, None, &peer, &partners));
        assert!(can_see(&owner, Visibility::Cohort, None, &peer, &[]));
        assert!(can_see(&owner, Visibility::Buddy, Some(&bud), &bud, &[]));
        assert!(
            !can_see(&owner, Visibility::Buddy, Some(&bud), &peer, &partners),
            "a chosen buddy replaces the partner"
        );
        assert!(can_see(&owner, Visibility::Buddy, None, &peer, &partners));
        assert!(!can_see(&owner, Visibility::Buddy, None, &other, &[]));
    }
}
