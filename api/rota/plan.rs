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
//! Rules 1 and 2 are never relaxed: a duty nobody free can take is a gap. When a duty cannot be
//! filled under the others, the lowest are relaxed one by one (6, then 5, then 4) and the plan
//! says which and why. Each session is filled as one optimal assignment (Hungarian method) of
//! members to roles, so that every role rotates.
//!
//! Re-plans move as few duties as they can: a duty planned earlier stays with its holder unless
//! rule 1 or 2 now forbids it (keeping it outweighs rules 3 to 6, and the plan notes a soft rule a
//! kept duty now breaks), so one absence moves only the absent member's duty, and one member
//! leaving moves only theirs. A replacement is chosen so as not to create a back-to-back
//! facilitation with the duties kept in the next session either.

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
    /// Nobody could take the duty: it stays empty.
    Gap,
    /// No session falls in the weeks planned: nothing was planned (`session_id` and `role_id`
    /// are null).
    NoSessions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Note {
    /// Null only for `no_sessions`.
    pub session_id: Option<String>,
    /// Null only for `no_sessions`.
    pub role_id: Option<String>,
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
    for (index, session) in input.sessions.iter().enumerate() {
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
        let next_facilitators =
            input.sessions.get(index + 1).map(|next| facilitators_kept(input, next)).unwrap_or_default();
        let context = Context {
            anyone_attended,
            holders,
            tally: &tally,
            attended: &attended,
            previous: last_session.as_deref(),
            next_facilitators,
        };
        let present: Vec<&Member> =
            input.members.iter().filter(|m| m.available && !session.absent.contains(&m.id)).collect();
        let chosen = assign(&context, &open, &present, &busy);
        for (role, choice) in open.iter().zip(chosen) {
            if let Some(member) = &choice.0 {
                tally.record(&session.id, session.starts_at, role, member);
            }
            if let Some((relaxed, reason)) = choice.1 {
                plan.notes.push(Note {
                    session_id: Some(session.id.clone()),
                    role_id: Some(role.id.clone()),
                    relaxed,
                    reason,
                });
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

/// Who will facilitate `next` as things stand (fixed, or planned earlier and still able to):
/// giving one of them this session's facilitation would make it back-to-back.
fn facilitators_kept<'a>(input: &Input<'a>, next: &Session) -> HashSet<&'a str> {
    let facilitation: HashSet<&str> = input.roles.iter().filter(|r| r.facilitation).map(|r| r.id.as_str()).collect();
    let able =
        |member: &str| !next.absent.contains(member) && input.members.iter().any(|m| m.id == member && m.available);
    input
        .fixed
        .iter()
        .chain(input.planned)
        .filter(|d| d.session_id == next.id && facilitation.contains(d.role_id.as_str()))
        .filter_map(|d| d.member_id.as_deref())
        .filter(|m| able(m))
        .collect()
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
    /// Who facilitates the next session as planned so far.
    next_facilitators: HashSet<&'a str>,
}

type Choice = (Option<String>, Option<(Relaxed, String)>);

// Penalties for breaking a rule, each larger than everything the rules below it can add up to,
// so minimising the total breaks the lowest rules first.
const NEWCOMER: i64 = 100_000;
const INEXPERIENCED: i64 = 1_000_000_000;
const BACK_TO_BACK: i64 = 10_000_000_000_000;
/// Keeping a duty with its earlier holder outweighs every soft rule (3 to 6) of every role of a
/// session (at most `MAX_ROLES` of them), never rules 1 and 2, which are not costs but limits on
/// who may be chosen at all.
const KEEP: i64 = 1_000 * BACK_TO_BACK;

/// The most roles a cohort may have (enforced in `rota::routes::roles`): `KEEP` relies on it.
pub const MAX_ROLES: usize = 20;

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
        if role.facilitation && self.next_facilitators.contains(member.id.as_str()) {
            return Some((Relaxed::BackToBack, "only next session's facilitator could take it", BACK_TO_BACK));
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
        // Keeping the earlier holder outweighs the queue and the soft rules.
        let keep = if self.holders.get(role.id.as_str()) == Some(&member.id.as_str()) { KEEP } else { 0 };
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
/// to roles by cost; roles left over stay empty (rule 1: never a second role).
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
    let reason = if present.is_empty() {
        "nobody is available for this session"
    } else {
        "everyone present already holds a duty in this session"
    };
    for choice in chosen.iter_mut().filter(|c| c.0.is_none()) {
        *choice = (None, Some((Relaxed::Gap, reason.to_string())));
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
        assert_eq!(who(&plan, "s000", "note_taker"), None, "the only one present never takes a second role");
        assert_eq!(plan.notes.iter().filter(|n| n.relaxed == Relaxed::Gap).count(), 2);
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

    fn as_planned(plan: &Plan, s: &[Session]) -> Vec<Served> {
        plan.assignments
            .iter()
            .map(|a| Served {
                session_id: a.session_id.clone(),
                starts_at: s.iter().find(|x| x.id == a.session_id).unwrap().starts_at,
                role_id: a.role_id.clone(),
                member_id: a.member_id.clone(),
            })
            .collect()
    }

    /// The second plan differs from the first only in the duties `moved` picks out; those no
    /// longer go to `gone`, and are a gap only when everyone present already holds a duty there.
    fn check_only_moved(
        first: &Plan,
        second: &Plan,
        members: &[Member],
        s: &[Session],
        moved: impl Fn(&Planned) -> bool,
        gone: &str,
    ) -> Result<(), TestCaseError> {
        prop_assert_eq!(first.assignments.len(), second.assignments.len());
        for a in &first.assignments {
            let b = second
                .assignments
                .iter()
                .find(|b| b.session_id == a.session_id && b.role_id == a.role_id)
                .expect("the same duties");
            if !moved(a) {
                prop_assert_eq!(
                    &a.member_id,
                    &b.member_id,
                    "{} {} moved although its holder stayed",
                    a.session_id,
                    a.role_id
                );
                continue;
            }
            prop_assert_ne!(b.member_id.as_deref(), Some(gone));
            if b.member_id.is_none() {
                let session = s.iter().find(|x| x.id == a.session_id).unwrap();
                let on_duty: HashSet<&str> = second
                    .assignments
                    .iter()
                    .filter(|x| x.session_id == a.session_id)
                    .filter_map(|x| x.member_id.as_deref())
                    .collect();
                let free = members
                    .iter()
                    .filter(|x| x.available && !session.absent.contains(&x.id))
                    .any(|x| !on_duty.contains(x.id.as_str()));
                prop_assert!(!free, "{} {} left empty although someone was free", a.session_id, a.role_id);
            }
        }
        Ok(())
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

    /// The members (with the sessions each attended) and sessions (with absences) of a scenario.
    fn arrange(n: usize, count: usize, absences: &[(usize, usize)], attended: &[usize]) -> (Vec<Member>, Vec<Session>) {
        let mut m = members(n);
        for (member, a) in m.iter_mut().zip(attended) {
            member.attended = *a as u32;
        }
        let mut s = sessions(count);
        for (session, member) in absences {
            s[*session].absent.insert(format!("m{member:02}"));
        }
        (m, s)
    }

    proptest! {
        #[test]
        fn plans_are_deterministic_respect_absences_and_never_double_up_when_avoidable(
            (n, count, absences, attended) in scenario()
        ) {
            let (m, s) = arrange(n, count, &absences, &attended);
            let input = Input { members: &m, roles: &roles(), history: &[], sessions: &s, fixed: &[], planned: &[] };
            let first = plan(&input);
            prop_assert_eq!(&first, &plan(&input));
            for session in &s {
                let held: Vec<String> = first.assignments.iter().filter(|a| a.session_id == session.id).filter_map(|a| a.member_id.clone()).collect();
                for member in &held {
                    prop_assert!(!session.absent.contains(member));
                }
                // Rule 1 is never relaxed: an unfillable duty is a gap, and only an unfillable one.
                let distinct: HashSet<&String> = held.iter().collect();
                prop_assert_eq!(distinct.len(), held.len(), "two roles in one session: {}", session.id);
                let present = n - session.absent.len();
                prop_assert_eq!(held.len(), present.min(roles().len()), "gaps in {} although {} were present", session.id, present);
            }
        }

        #[test]
        fn most_members_away_leaves_gaps_never_two_roles(n in 3usize..12, away in prop::collection::vec(any::<bool>(), 12)) {
            let m = members(n);
            let mut s = sessions(2);
            s[0].absent = (0..n).filter(|i| away[*i]).map(|i| format!("m{i:02}")).collect();
            let plan = plan(&Input { members: &m, roles: &roles(), history: &[], sessions: &s, fixed: &[], planned: &[] });
            let held: Vec<&String> = plan.assignments.iter().filter(|a| a.session_id == "s000").filter_map(|a| a.member_id.as_ref()).collect();
            let distinct: HashSet<&&String> = held.iter().collect();
            prop_assert_eq!(distinct.len(), held.len());
            let present = n - s[0].absent.len();
            prop_assert_eq!(held.len(), present.min(3));
            let gaps = plan.notes.iter().filter(|x| x.session_id.as_deref() == Some("s000") && x.relaxed == Relaxed::Gap).count();
            prop_assert_eq!(gaps, 3 - present.min(3));
        }

        #[test]
        fn a_re_plan_after_one_absence_moves_only_the_absent_members_duties(
            (n, count, absences, attended) in scenario(), pick in 0usize..1000, duty in 0usize..3
        ) {
            let (m, mut s) = arrange(n, count, &absences, &attended);
            let r = roles();
            let first = plan(&Input { members: &m, roles: &r, history: &[], sessions: &s, fixed: &[], planned: &[] });
            let k = pick % count;
            let held: Vec<&Planned> = first.assignments.iter().filter(|a| a.session_id == s[k].id && a.member_id.is_some()).collect();
            prop_assume!(!held.is_empty());
            let away = held[duty % held.len()].member_id.clone().unwrap();
            s[k].absent.insert(away.clone());
            let earlier = as_planned(&first, &s);
            let second = plan(&Input { members: &m, roles: &r, history: &[], sessions: &s, fixed: &[], planned: &earlier });
            check_only_moved(&first, &second, &m, &s, |a| a.session_id == s[k].id && a.member_id.as_deref() == Some(away.as_str()), &away)?;
        }

        #[test]
        fn a_re_plan_after_a_member_leaves_moves_only_their_duties(
            (n, count, absences, attended) in scenario(), pick in 0usize..1000
        ) {
            let (m, s) = arrange(n, count, &absences, &attended);
            let r = roles();
            let first = plan(&Input { members: &m, roles: &r, history: &[], sessions: &s, fixed: &[], planned: &[] });
            let leaving = m[pick % n].id.clone();
            let earlier = as_planned(&first, &s);
            let stay: Vec<Member> = m.iter().filter(|x| x.id != leaving).cloned().collect();
            let second = plan(&Input { members: &stay, roles: &r, history: &[], sessions: &s, fixed: &[], planned: &earlier });
            check_only_moved(&first, &second, &stay, &s, |a| a.member_id.as_deref() == Some(leaving.as_str()), &leaving)?;
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
