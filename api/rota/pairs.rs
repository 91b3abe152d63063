//! Peer-coaching pairs for one cycle (pure and deterministic): every active member is paired,
//! preferring partners they have not been paired with recently, and within a pair the one who has
//! coached less (or longer ago) coaches. An odd number of members gives one trio.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Pairing {
    pub coach: String,
    pub coachee: String,
    /// The third member of a trio, coached by the same coach.
    pub third: Option<String>,
}

/// A past cycle's pairing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastPairing {
    pub cycle: i32,
    pub pairing: Pairing,
}

#[derive(Default)]
struct Memory {
    /// Last cycle in which two members were paired (key: ordered ids).
    paired: BTreeMap<(String, String), i32>,
    coached: BTreeMap<String, (u32, i32)>,
}

fn key(a: &str, b: &str) -> (String, String) {
    if a <= b { (a.to_string(), b.to_string()) } else { (b.to_string(), a.to_string()) }
}

impl Memory {
    fn from(history: &[PastPairing]) -> Self {
        let mut memory = Self::default();
        for past in history {
            let p = &past.pairing;
            let mut group = vec![p.coach.as_str(), p.coachee.as_str()];
            group.extend(p.third.as_deref());
            for (i, a) in group.iter().enumerate() {
                for b in &group[i + 1..] {
                    memory.paired.insert(key(a, b), past.cycle);
                }
            }
            let entry = memory.coached.entry(p.coach.clone()).or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(past.cycle);
        }
        memory
    }

    fn last_paired(&self, a: &str, b: &str) -> Option<i32> {
        self.paired.get(&key(a, b)).copied()
    }

    /// Who of the two should coach: fewer turns coaching, then longer ago, then the stable order.
    fn coach_first<'a>(&self, a: &'a str, b: &'a str) -> (&'a str, &'a str) {
        let record = |m: &str| self.coached.get(m).copied().unwrap_or((0, i32::MIN));
        if record(b) < record(a) { (b, a) } else { (a, b) }
    }
}

/// Pairs `members` (in a stable order) for the next cycle, given past cycles.
pub fn pair(members: &[String], history: &[PastPairing]) -> Vec<Pairing> {
    let memory = Memory::from(history);
    let last_cycle = history.iter().map(|p| p.cycle).max();
    let ids: Vec<&str> = members.iter().map(String::as_str).collect();
    let even = &ids[..ids.len() - ids.len() % 2];
    // Partners from the last cycle are avoided when any pairing allows it; the search tries the
    // preferred partners first, so its first answer is the greedy one whenever that works.
    let (mut budget, mut unlimited) = (20_000u32, u32::MAX);
    let matched = search(&memory, even, last_cycle, &mut budget)
        .unwrap_or_else(|| search(&memory, even, None, &mut unlimited).unwrap_or_default());
    let mut pairs: Vec<Pairing> = matched
        .into_iter()
        .map(|(a, b)| {
            let (coach, coachee) = memory.coach_first(a, b);
            Pairing { coach: coach.to_string(), coachee: coachee.to_string(), third: None }
        })
        .collect();
    if ids.len() % 2 == 1
        && let (Some(odd), Some(last)) = (ids.last(), pairs.last_mut())
    {
        last.third = Some(odd.to_string());
    }
    pairs
}

/// A perfect matching of `left` in which no pair met in cycle `avoid`, if one exists within the
/// budget of steps.
fn search<'a>(
    memory: &Memory,
    left: &[&'a str],
    avoid: Option<i32>,
    budget: &mut u32,
) -> Option<Vec<(&'a str, &'a str)>> {
    let Some((&first, rest)) = left.split_first() else { return Some(Vec::new()) };
    let mut partners: Vec<(usize, &str)> = rest.iter().copied().enumerate().collect();
    // The partner paired longest ago (never first); equal ones keep the stable order.
    partners.sort_by_key(|(_, other)| memory.last_paired(first, other));
    for (index, partner) in partners {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        if avoid.is_some() && memory.last_paired(first, partner) == avoid {
            continue;
        }
        let mut remaining: Vec<&str> = rest.to_vec();
        remaining.remove(index);
        if let Some(mut found) = search(memory, &remaining, avoid, budget) {
            found.insert(0, (first, partner));
            return Some(found);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn people(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("p{i:02}")).collect()
    }

    fn run(n: usize, cycles: i32) -> Vec<Vec<Pairing>> {
        let members = people(n);
        let mut history = Vec::new();
        let mut all = Vec::new();
        for cycle in 0..cycles {
            let pairs = pair(&members, &history);
            history.extend(pairs.iter().cloned().map(|pairing| PastPairing { cycle, pairing }));
            all.push(pairs);
        }
        all
    }

    #[test]
    fn four_people_meet_everyone_in_three_cycles_and_take_turns_coaching() {
        let cycles = run(4, 3);
        let mut met = HashSet::new();
        for pairs in &cycles {
            for p in pairs {
                met.insert(key(&p.coach, &p.coachee));
            }
        }
        assert_eq!(met.len(), 6, "all 6 pairs of 4 people");
        assert_eq!(cycles[0][0], Pairing { coach: "p00".into(), coachee: "p01".into(), third: None });
        let coaches: HashSet<&str> = cycles.iter().flatten().map(|p| p.coach.as_str()).collect();
        assert_eq!(coaches.len(), 4, "everyone coaches");
    }

    #[test]
    fn an_odd_number_makes_one_trio() {
        let pairs = pair(&people(5), &[]);
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[1].third.as_deref(), Some("p04"));
        assert!(pair(&people(1), &[]).is_empty());
    }

    proptest! {
        #[test]
        fn everyone_is_paired_once_deterministically_and_no_pair_repeats_back_to_back(n in 2usize..16, cycles in 1i32..12) {
            let all = run(n, cycles);
            prop_assert_eq!(&all, &run(n, cycles));
            for pairs in &all {
                let mut seen: Vec<&str> = pairs.iter().flat_map(|p| [Some(p.coach.as_str()), Some(p.coachee.as_str()), p.third.as_deref()]).flatten().collect();
                seen.sort();
                let expected = people(n);
                prop_assert_eq!(seen, expected.iter().map(String::as_str).collect::<Vec<_>>());
                prop_assert_eq!(pairs.iter().filter(|p| p.third.is_some()).count(), n % 2);
            }
            if n >= 6 {
                for window in all.windows(2) {
                    let before: HashSet<(String, String)> = window[0].iter().map(|p| key(&p.coach, &p.coachee)).collect();
                    for p in &window[1] {
                        prop_assert!(!before.contains(&key(&p.coach, &p.coachee)), "{:?} paired again right away", p);
                    }
                }
            }
        }
    }
}
