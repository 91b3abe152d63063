//! Who gets a place in a skill share (pure). The store applies these rules under the slot's row
//! lock, so the database decides who came first; this module decides what follows from it.
//!
//! The rules:
//! - Sign-ups are served in arrival order: each takes the slot's next arrival number.
//! - A sign-up gets a place while fewer people attend than the slot has places (`capacity`;
//!   `None` is unlimited); otherwise it joins the waitlist.
//! - A waitlist position is 1 + the number of people waiting who arrived earlier, so positions
//!   are always 1..=n without gaps, whoever leaves.
//! - When places free up (someone leaves, capacity grows, a facilitator removes someone), as many
//!   people as there are free places move up from the head of the waitlist, in arrival order, at
//!   once. Nobody waits while a place is free.
//! - Lowering the capacity below the number attending takes no place away: the slot is full until
//!   enough people leave.
//! - A facilitator may add someone past capacity: they attend at once, and the slot stays over
//!   capacity until people leave; nobody is promoted while it is full.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::stored_as_text;

/// Where a signed-up person stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum SignupStatus {
    Attending,
    Waitlisted,
}
stored_as_text!(SignupStatus, { Attending = "attending", Waitlisted = "waitlisted" });

/// Where a new sign-up goes, given how many attend now.
pub fn place_for(capacity: Option<u32>, attending: u32) -> SignupStatus {
    match capacity {
        Some(places) if attending >= places => SignupStatus::Waitlisted,
        _ => SignupStatus::Attending,
    }
}

/// Free places, or `None` when places are unlimited. Never negative: a slot over capacity (a
/// facilitator added someone, or the capacity was lowered) has none.
pub fn places_left(capacity: Option<u32>, attending: u32) -> Option<u32> {
    capacity.map(|places| places.saturating_sub(attending))
}

/// How many move up from the head of the waitlist now: one per free place.
pub fn promotions(capacity: Option<u32>, attending: u32, waiting: u32) -> u32 {
    match places_left(capacity, attending) {
        None => waiting,
        Some(free) => free.min(waiting),
    }
}

/// Waitlist positions (1-based) for people waiting, given as `(who, arrival)` in any order:
/// the same people, in arrival order, numbered 1..=n.
pub fn positions<T>(mut waiting: Vec<(T, i32)>) -> Vec<(T, i64)> {
    waiting.sort_by_key(|(_, arrival)| *arrival);
    waiting.into_iter().enumerate().map(|(i, (who, _))| (who, i as i64 + 1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A slot's sign-ups as the store keeps them, driven only by the functions above.
    #[derive(Debug, Default)]
    struct Roster {
        capacity: Option<u32>,
        next_arrival: i32,
        /// (person, arrival, added past capacity by a facilitator)
        attending: Vec<(u32, i32, bool)>,
        waiting: Vec<(u32, i32)>,
        /// Everyone promoted so far with their arrival, in the order they moved up.
        promoted: Vec<(u32, i32)>,
    }

    #[derive(Debug, Clone)]
    enum Op {
        SignUp(u32),
        Leave(u32),
        SetCapacity(Option<u32>),
        AddPastCapacity(u32),
    }

    impl Roster {
        fn holds(&self, who: u32) -> bool {
            self.attending.iter().any(|a| a.0 == who) || self.waiting.iter().any(|w| w.0 == who)
        }

        fn take_arrival(&mut self) -> i32 {
            self.next_arrival += 1;
            self.next_arrival
        }

        fn promote(&mut self) {
            let n = promotions(self.capacity, self.attending.len() as u32, self.waiting.len() as u32);
            self.waiting.sort_by_key(|w| w.1);
            for (who, arrival) in self.waiting.drain(..n as usize).collect::<Vec<_>>() {
                self.attending.push((who, arrival, false));
                self.promoted.push((who, arrival));
            }
        }

        fn apply(&mut self, op: &Op) {
            match *op {
                Op::SignUp(who) if !self.holds(who) => {
                    let arrival = self.take_arrival();
                    match place_for(self.capacity, self.attending.len() as u32) {
                        SignupStatus::Attending => self.attending.push((who, arrival, false)),
                        SignupStatus::Waitlisted => self.waiting.push((who, arrival)),
                    }
                }
                Op::Leave(who) => {
                    self.attending.retain(|a| a.0 != who);
                    self.waiting.retain(|w| w.0 != who);
                    self.promote();
                }
                Op::SetCapacity(capacity) => {
                    self.capacity = capacity;
                    self.promote();
                }
                Op::AddPastCapacity(who) => {
                    self.waiting.retain(|w| w.0 != who);
                    if !self.attending.iter().any(|a| a.0 == who) {
                        let arrival = self.take_arrival();
                        self.attending.push((who, arrival, true));
                    }
                }
                Op::SignUp(_) => {}
            }
        }
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        let op = prop_oneof![
            6 => (0u32..30).prop_map(Op::SignUp),
            3 => (0u32..30).prop_map(Op::Leave),
            1 => prop::option::of(0u32..12).prop_map(Op::SetCapacity),
            1 => (0u32..30).prop_map(Op::AddPastCapacity),
        ];
        prop::collection::vec(op, 0..120)
    }

    #[test]
    fn the_eleventh_of_ten_waits_and_moves_up_when_someone_leaves() {
        let mut roster = Roster { capacity: Some(10), ..Roster::default() };
        for who in 0..13 {
            roster.apply(&Op::SignUp(who));
        }
        assert_eq!(roster.attending.len(), 10);
        let waiting: Vec<_> = positions(roster.waiting.clone());
        assert_eq!(waiting, [(10, 1), (11, 2), (12, 3)]);
        roster.apply(&Op::Leave(3));
        assert_eq!(roster.promoted, [(10, 11)], "the first to wait, and only them");
        assert_eq!(positions(roster.waiting.clone()), [(11, 1), (12, 2)]);
    }

    #[test]
    fn unlimited_places_never_wait_and_lowering_capacity_takes_no_place_away() {
        assert_eq!(place_for(None, 10_000), SignupStatus::Attending);
        assert_eq!(places_left(None, 3), None);
        assert_eq!(places_left(Some(2), 5), Some(0));
        assert_eq!(promotions(Some(2), 5, 4), 0);
        assert_eq!(promotions(None, 5, 4), 4, "unlimited: everyone moves up");
        assert_eq!(promotions(Some(8), 5, 4), 3);
    }

    proptest! {
        /// Whatever happens to a slot: it never goes over capacity but by a facilitator's hand,
        /// nobody waits while a place is free, nobody holds two places, positions are 1..=n,
        /// and people move up in the order they arrived.
        #[test]
        fn places_and_the_waitlist_keep_their_promises(capacity in prop::option::of(0u32..12), ops in ops()) {
            let mut roster = Roster { capacity, ..Roster::default() };
            for op in &ops {
                let before = roster.attending.len();
                roster.apply(op);
                let attending = roster.attending.len() as u32;
                if let Some(places) = roster.capacity
                    && attending > before as u32
                    && !matches!(op, Op::AddPastCapacity(_))
                {
                    prop_assert!(attending <= places, "{op:?} took the slot past capacity");
                }
                if !roster.waiting.is_empty() {
                    prop_assert_eq!(places_left(roster.capacity, attending), Some(0), "someone waits by a free place");
                }
                let mut everyone: Vec<u32> = roster.attending.iter().map(|a| a.0).chain(roster.waiting.iter().map(|w| w.0)).collect();
                let count = everyone.len();
                everyone.sort_unstable();
                everyone.dedup();
                prop_assert_eq!(everyone.len(), count, "someone holds two places");
                let numbered = positions(roster.waiting.clone());
                prop_assert_eq!(numbered.iter().map(|p| p.1).collect::<Vec<_>>(), (1..=roster.waiting.len() as i64).collect::<Vec<_>>());
            }
            // Promotion in arrival order: each promotion took someone who arrived after everyone
            // promoted before them (an earlier arrival still waiting would have gone first).
            let arrivals: Vec<i32> = roster.promoted.iter().map(|p| p.1).collect();
            prop_assert!(arrivals.windows(2).all(|w| w[0] < w[1]), "promoted out of arrival order: {:?}", arrivals);
        }
    }
}
