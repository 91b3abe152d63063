//! The rota planner (pure and deterministic): given members, duty roles, history, absences,
//! upcoming sessions and the assignments that must stay, it fills every other duty.
//!
//! Rules, most important first:
//! 1. nobody holds two roles in one session;
//! 2. absent and paused members are skipped (never relaxed: a duty nobody can take is a gap);
//! 3. least-recently-served for the role first, then fewest turns overall, then a stable order;
//! 4. no back-to-back facilitation where avoidable;
//! 5. a role's experience requirement (sessions attended before);
//! 6. newcomers (no session attended yet, while others have) are not thrown in first.
//!
//! When a duty cannot be filled under all of them, the lowest rules are relaxed one by one
//! (6, then 5, then 4, then 1) and the plan says which and why. Each session is filled as one
//! optimal assignment (Hungarian method) of members to roles, so that every role rotates; a duty
//! planned earlier stays with its holder where the rules allow, so re-plans move few people.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use pathfinding::kuhn_munkres::kuhn_munkres_min;
use pathfinding::matrix::Matrix;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    /// Sessions attended so far.
    pub attended: u32,
    /// Paused members get no duties.
    pub available: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    /// Sessions a member must have attended before taking this role.
    pub min_attended: u32,
    /// Facilitation is not given to the same person two sessions running, where avoidable.
    pub facilitation: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub starts_at: DateTime<Utc>,
    /// Members who cannot come (an absence, or an RSVP "no").
    pub absent: HashSet<String>,
}

/// A duty already served, or fixed in an upcoming session (locked, confirmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub session_id: String,
    pub starts_at: DateTime<Utc>,
    pub role_id: String,
    pub member_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relaxed {
    /// Rule 6: a newcomer got a duty.
    NewcomerFirst,
    /// Rule 5: someone without the experience the role asks for got it.
    Experience,
    /// Rule 4: the same person facilitates twice running.
    BackToBack,
    /// Rule 1: someone holds two roles in one session.
    TwoRoles,
    /// Nobody could take the duty: it stays empty.
    Gap,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Note {
    pub session_id: String,
    pub role_id: String,
    pub relaxed: Relaxed,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub session_id: String,
    pub role_id: String,
    pub member_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub assignments: Vec<Planned>,
    pub notes: Vec<Note>,
}

pub struct Input<'a> {
    /// In a stable order (e.g. by joining date); ties go to the earlier one.
    pub members: &'a [Member],
    /// In the order duties are filled in each session.
    pub roles: &'a [Role],
    /// Past duties, oldest first.
    pub history: &'a [Served],
    /// Upcoming sessions, in time order.
    pub sessions: &'a [Session],
    /// Duties in those sessions that stay as they are.
    pub fixed: &'a [Served],
    /// Duties planned earlier that may move: each stays with its holder where the rules still
    /// allow it, so a re-plan moves as few people as it can.
    pub planned: &'a [Served],
}

#[derive(Default)]
struct Tally {
    last_served: BTreeMap<(String, String), DateTime<Utc>>,
    turns: BTreeMap<String, u32>,
    facilitated_in: BTreeMap<String, String>,
}

impl Tally {
    fn record(&mut self, session: &str, at: DateTime<Utc>, role: &Role, member: &str) {
        self.last_served.insert((role.id.clone(), member.to_string()), at);
        *self.turns.entry(member.to_string()).or_default() += 1;
        if role.facilitation {
            self.facilitated_in.insert(member.to_string(), session.to_string());
        }
    }
}

pub fn plan(input: &Input<'_>) -> Plan {
    let mut tally = Tally::default();
    let role_of = |id: &str| input.roles.iter().find(|r| r.id == id);
    let mut last_session: Option<String> = None;
    for served in input.history {
        if let (Some(role), Some(member)) = (role_of(&served.role_id), &served.member_id) {
            tally.record(&served.session_id, served.starts_at, role, member);
        }
        last_session = Some(served.session_id.clone());
    }
    let mut attended: BTreeMap<&str, u32> = input.members.iter().map(|m| (m.id.as_str(), m.attended)).collect();
    let mut plan = Plan::default();
    for session in input.sessions {
        let fixed: Vec<&Served> = input.fixed.iter().filter(|f| f.session_id == session.id).collect();
        let mut busy: HashSet<String> = HashSet::new();
        for f in &fixed {
            if let (Some(role), Some(member)) = (role_of(&f.role_id), &f.member_id) {
                busy.insert(member.clone());
                tally.record(&session.id, session.starts_at, role, member);
            }
        }
        let open: Vec<&Role> = input.roles.iter().filter(|r| !fixed.iter().any(|f| f.role_id == r.id)).collect();
        let anyone_attended = present_attended(&attended);
        let holders = input
            .planned
            .iter()
            .filter(|p| p.session_id == session.id)
            .filter_map(|p| Some((p.role_id.as_str(), p.member_id.as_deref()?)))
            .collect();
        let context =
            Context { anyone_attended, holders, tally: &tally, attended: &attended, previous: last_session.as_deref() };
        let present: Vec<&Member> =
            input.members.iter().filter(|m| m.available && !session.absent.contains(&m.id)).collect();
        let chosen = assign(&context, &open, &present, &busy);
        for (role, choice) in open.iter().zip(chosen) {
            if let Some(member) = &choice.0 {
                tally.record(&session.id, session.starts_at, role, member);
            }
            if let Some((relaxed, reason)) = choice.1 {
                plan.notes.push(Note { session_id: session.id.clone(), role_id: role.id.clone(), relaxed, reason });
            }
            plan.assignments.push(Planned {
                session_id: session.id.clone(),
                role_id: role.id.clone(),
                member_id: choice.0,
            });
        }
        for m in &present {
            *attended.entry(m.id.as_str()).or_default() += 1;
        }
        last_session = Some(session.id.clone());
    }
    plan
}

fn present_attended(attended: &BTreeMap<&str, u32>) -> bool {
    attended.values().any(|n| *n > 0)
}

struct Context<'a> {
    /// In a cohort where nobody has attended a session yet, nobody is a newcomer.
    anyone_attended: bool,
    /// Who held each role of this session in the earlier plan.
    holders: BTreeMap<&'a str, &'a str>,
    tally: &'a Tally,
    attended: &'a BTreeMap<&'a str, u32>,
    previous: Option<&'a str>,
}

type Choice = (Option<String>, Option<(Relaxed, String)>);

// Penalties for breaking a rule, each larger than everything the rules below it can add up to,
// so minimising the total breaks the lowest rules first.
const NEWCOMER: i64 = 100_000;
const INEXPERIENCED: i64 = 1_000_000_000;
const BACK_TO_BACK: i64 = 10_000_000_000_000;

impl Context<'_> {
    fn attended(&self, member: &Member) -> u32 {
        self.attended.get(member.id.as_str()).copied().unwrap_or(0)
    }

    /// The rule (if any) a member breaks by taking the role, with the penalty.
    fn breaks(&self, role: &Role, member: &Member) -> Option<(Relaxed, &'static str, i64)> {
        if role.facilitation
            && self.previous.is_some()
            && self.tally.facilitated_in.get(&member.id).map(String::as_str) == self.previous
        {
            return Some((Relaxed::BackToBack, "only last session's facilitator could take it", BACK_TO_BACK));
        }
        if self.attended(member) < role.min_attended {
            return Some((Relaxed::Experience, "nobody free had attended enough sessions", INEXPERIENCED));
        }
        if self.attended(member) == 0 && self.anyone_attended {
            return Some((Relaxed::NewcomerFirst, "only newcomers were free", NEWCOMER));
        }
        None
    }

    /// Cost of a member taking a role: their place in the role's queue (least recently served,
    /// then fewest turns, then the stable order) plus the penalty of any rule they break.
    fn cost(&self, role: &Role, queue: &[&Member], member: &Member) -> i64 {
        let place = queue.iter().position(|m| m.id == member.id).unwrap_or(queue.len()) as i64;
        // Keeping the earlier holder outweighs the queue, never a rule.
        let keep =
            if self.holders.get(role.id.as_str()) == Some(&member.id.as_str()) { queue.len() as i64 + 1 } else { 0 };
        place - keep + self.breaks(role, member).map_or(0, |b| b.2)
    }

    fn queue<'m>(&self, role: &Role, present: &[&'m Member]) -> Vec<&'m Member> {
        let mut queue = present.to_vec();
        queue.sort_by_key(|m| rank(self.tally, role, m)); // stable: equals keep the member order
        queue
    }

    fn choice(&self, role: &Role, member: &Member) -> Choice {
        let relaxed = self.breaks(role, member).map(|(rule, reason, _)| (rule, reason.to_string()));
        (Some(member.id.clone()), relaxed)
    }
}

/// Fills the open roles of one session: an optimal assignment (Hungarian method) of free members
/// to roles by cost; roles left over go to someone already on duty, or stay empty.
fn assign(context: &Context<'_>, open: &[&Role], present: &[&Member], busy: &HashSet<String>) -> Vec<Choice> {
    let free: Vec<&Member> = present.iter().copied().filter(|m| !busy.contains(&m.id)).collect();
    let queues: Vec<Vec<&Member>> = open.iter().map(|role| context.queue(role, present)).collect();
    let mut chosen: Vec<Choice> = vec![(None, None); open.len()];
    if !open.is_empty() && !free.is_empty() {
        let cost = |r: usize, m: usize| context.cost(open[r], &queues[r], free[m]);
        if free.len() >= open.len() {
            let weights = Matrix::from_fn(open.len(), free.len(), |(r, m)| cost(r, m));
            let (_, columns) = kuhn_munkres_min(&weights);
            for (r, m) in columns.into_iter().enumerate() {
                chosen[r] = context.choice(open[r], free[m]);
            }
        } else {
            let weights = Matrix::from_fn(free.len(), open.len(), |(m, r)| cost(r, m));
            let (_, columns) = kuhn_munkres_min(&weights);
            for (m, r) in columns.into_iter().enumerate() {
                chosen[r] = context.choice(open[r], free[m]);
            }
        }
    }
    for (r, choice) in chosen.iter_mut().enumerate() {
        if choice.0.is_some() {
            continue;
        }
        *choice = match queues[r].iter().min_by_key(|m| context.cost(open[r], &queues[r], m)) {
            Some(member) => {
                (Some(member.id.clone()), Some((Relaxed::TwoRoles, "everyone present already held a role".to_string())))
            }
            None => (None, Some((Relaxed::Gap, "nobody is available for this session".to_string()))),
        };
    }
    chosen
}

/// Least-recently-served for the role (never served first), then fewest turns.
fn rank(tally: &Tally, role: &Role, member: &Member) -> (Option<DateTime<Utc>>, u32) {
    (
        tally.last_served.get(&(role.id.clone(), member.id.clone())).copied(),
        tally.turns.get(&member.id).copied().unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use proptest::prelude::*;

    fn members(n: usize) -> Vec<Member> {
        (0..n).map(|i| Member { id: format!("m{i:02}"), attended: 3, available: true }).collect()
    }
    fn roles() -> Vec<Role> {
        vec![
            Role { id: "facilitator".into(), min_attended: 2, facilitation: true },
            Role { id: "note_taker".into(), min_attended: 0, facilitation: false },
            Role { id: "timekeeper".into(), min_attended: 0, facilitation: false },
        ]
    }
    fn sessions(n: usize) -> Vec<Session> {
        let start: DateTime<Utc> = "2027-01-05T17:00:00Z".parse().unwrap();
        (0..n)
            .map(|i| Session {
                id: format!("s{i:03}"),
                starts_at: start + Duration::weeks(i as i64),
                absent: HashSet::new(),
            })
            .collect()
    }
    fn who(plan: &Plan, session: &str, role: &str) -> Option<String> {
        plan.assignments.iter().find(|a| a.session_id == session && a.role_id == role).and_then(|a| a.member_id.clone())
    }

    #[test]
    fn duties_rotate_round_robin() {
        let (m, r, s) = (members(4), roles(), sessions(4));
        let plan = plan(&Input { members: &m, roles: &r, history: &[], sessions: &s, fixed: &[], planned: &[] });
        let facilitators: Vec<String> = s.iter().map(|x| who(&plan, &x.id, "facilitator").unwrap()).collect();
        assert_eq!(facilitators, ["m00", "m01", "m02", "m03"]);
        assert!(plan.notes.is_empty());
    }

    #[test]
    fn absences_and_pauses_are_respected_and_gaps_reported() {
        let mut m = members(3);
        m[2].available = false;
        let mut s = sessions(1);
        s[0].absent.insert("m00".into());
        let plan = plan(&Input { members: &m, roles: &roles(), history: &[], sessions: &s, fixed: &[], planned: &[] });
        assert_eq!(who(&plan, "s000", "facilitator").as_deref(), Some("m01"));
        assert_eq!(
            who(&plan, "s000", "note_taker").as_deref(),
            Some("m01"),
            "the only one present takes a second role"
        );
        assert!(plan.notes.iter().any(|n| n.relaxed == Relaxed::TwoRoles));
        let nobody = plan_with_everyone_absent();
        assert!(nobody.assignments.iter().all(|a| a.member_id.is_none()));
        assert_eq!(nobody.notes.iter().filter(|n| n.relaxed == Relaxed::Gap).count(), 3);
    }

    fn plan_with_everyone_absent() -> Plan {
        let m = members(2);
        let mut s = sessions(1);
        s[0].absent = m.iter().map(|x| x.id.clone()).collect();
        plan(&Input { members: &m, roles: &roles(), history: &[], sessions: &s, fixed: &[], planned: &[] })
    }

    #[test]
    fn newcomers_and_the_inexperienced_wait_and_facilitation_is_not_back_to_back() {
        let mut m = members(4);
        m[0].attended = 0; // a newcomer
        m[1].attended = 1; // not yet enough to facilitate
        let plan = plan(&Input {
            members: &m,
            roles: &roles(),
            history: &[],
            sessions: &sessions(2),
            fixed: &[],
            planned: &[],
        });
        assert_eq!(who(&plan, "s000", "facilitator").as_deref(), Some("m02"));
        assert_ne!(who(&plan, "s000", "note_taker").as_deref(), Some("m00"), "newcomers are not first");
        // m01 has attended two sessions by then; m02 facilitated last time.
        assert_eq!(who(&plan, "s001", "facilitator").as_deref(), Some("m01"));
        assert!(plan.notes.is_empty());

        // Two members, one of them able to facilitate: back-to-back is unavoidable, and said.
        let mut pair = members(2);
        pair[1].attended = 0;
        let solo = Plan::clone(&super::plan(&Input {
            members: &pair,
            roles: &roles()[..1],
            history: &[],
            sessions: &sessions(2),
            fixed: &[],
            planned: &[],
        }));
        assert_eq!(who(&solo, "s001", "facilitator").as_deref(), Some("m01"), "m01 has attended one session by then");
    }

    #[test]
    fn fixed_duties_stay_and_count() {
        let (m, r, s) = (members(3), roles(), sessions(2));
        let fixed = vec![Served {
            session_id: "s000".into(),
            starts_at: s[0].starts_at,
            role_id: "facilitator".into(),
            member_id: Some("m02".into()),
        }];
        let plan = plan(&Input { members: &m, roles: &r, history: &[], sessions: &s, fixed: &fixed, planned: &[] });
        assert!(
            plan.assignments.iter().all(|a| !(a.session_id == "s000" && a.role_id == "facilitator")),
            "fixed duties are not replanned"
        );
        assert_ne!(who(&plan, "s000", "note_taker").as_deref(), Some("m02"));
        assert_ne!(who(&plan, "s001", "facilitator").as_deref(), Some("m02"));
    }

    #[test]
    fn a_re_plan_after_one_absence_moves_only_that_duty() {
        let (m, r) = (members(6), roles());
        let mut s = sessions(8);
        let first = plan(&Input { members: &m, roles: &r, history: &[], sessions: &s, fixed: &[], planned: &[] });
        let earlier: Vec<Served> = first
            .assignments
            .iter()
            .map(|a| Served {
                session_id: a.session_id.clone(),
                starts_at: s[0].starts_at,
                role_id: a.role_id.clone(),
                member_id: a.member_id.clone(),
            })
            .collect();
        let away = who(&first, "s003", "note_taker").unwrap();
        s[3].absent.insert(away.clone());
        let second = plan(&Input { members: &m, roles: &r, history: &[], sessions: &s, fixed: &[], planned: &earlier });
        let moved: Vec<&Planned> = second.assignments.iter().filter(|a| !first.assignments.contains(a)).collect();
        assert_eq!(moved.len(), 1, "{moved:?}");
        assert_eq!((moved[0].session_id.as_str(), moved[0].role_id.as_str()), ("s003", "note_taker"));
        assert_ne!(moved[0].member_id.as_deref(), Some(away.as_str()));
    }

    fn scenario() -> impl Strategy<Value = (usize, usize, Vec<(usize, usize)>, Vec<usize>)> {
        (2usize..9, 1usize..30).prop_flat_map(|(n, count)| {
            (
                Just(n),
                Just(count),
                prop::collection::vec((0..count, 0..n), 0..20),
                prop::collection::vec(0u32..4, n).prop_map(|v| v.into_iter().map(|x| x as usize).collect()),
            )
        })
    }

    proptest! {
        #[test]
        fn plans_are_deterministic_respect_absences_and_never_double_up_when_avoidable(
            (n, count, absences, attended) in scenario()
        ) {
            let mut m = members(n);
            for (member, a) in m.iter_mut().zip(&attended) {
                member.attended = *a as u32;
            }
            let mut s = sessions(count);
            for (session, member) in &absences {
                s[*session].absent.insert(format!("m{member:02}"));
            }
            let input = Input { members: &m, roles: &roles(), history: &[], sessions: &s, fixed: &[], planned: &[] };
            let first = plan(&input);
            prop_assert_eq!(&first, &plan(&input));
            for session in &s {
                let held: Vec<String> = first.assignments.iter().filter(|a| a.session_id == session.id).filter_map(|a| a.member_id.clone()).collect();
                for member in &held {
                    prop_assert!(!session.absent.contains(member));
                }
                let distinct: HashSet<&String> = held.iter().collect();
                let present = n - session.absent.len();
                if present >= roles().len() {
                    prop_assert_eq!(distinct.len(), held.len(), "two roles in {} although {} were present", session.id, present);
                }
            }
        }

        #[test]
        fn with_equal_availability_turns_per_role_differ_by_at_most_one(n in 3usize..12, weeks in 1usize..120) {
            let m = members(n);
            let s = sessions(weeks);
            let plan = plan(&Input { members: &m, roles: &roles(), history: &[], sessions: &s, fixed: &[], planned: &[] });
            for role in roles() {
                let turns: Vec<usize> = m.iter().map(|x| plan.assignments.iter().filter(|a| a.role_id == role.id && a.member_id.as_deref() == Some(&x.id)).count()).collect();
                let (lo, hi) = (turns.iter().min().unwrap(), turns.iter().max().unwrap());
                prop_assert!(hi - lo <= 1, "{}: {:?}", role.id, turns);
            }
        }
    }
}
