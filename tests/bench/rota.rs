//! Benchmark: plan 52 sessions x 5 roles for 50 members with the pure planner, then re-plan after
//! one absence. Prints what it measured; asserts nothing about time.
//! `cargo bench --bench rota`

use std::collections::HashSet;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use roundtable::rota::plan::{Input, Member, Role, Served, Session, plan};

fn main() {
    let members: Vec<Member> =
        (0..50).map(|i| Member { id: format!("m{i:02}"), attended: 5, available: true }).collect();
    let roles: Vec<Role> = (0..5)
        .map(|i| Role { id: format!("r{i}"), min_attended: if i == 0 { 2 } else { 0 }, facilitation: i == 0 })
        .collect();
    let start: DateTime<Utc> = "2027-01-05T17:00:00Z".parse().unwrap();
    let mut sessions: Vec<Session> = (0..52)
        .map(|i| Session { id: format!("s{i:02}"), starts_at: start + Duration::weeks(i), absent: HashSet::new() })
        .collect();
    let history: Vec<Served> = Vec::new();

    let runs = 20;
    let began = Instant::now();
    let mut first = None;
    for _ in 0..runs {
        first = Some(plan(&Input {
            members: &members,
            roles: &roles,
            history: &history,
            sessions: &sessions,
            fixed: &[],
            planned: &[],
        }));
    }
    let per_plan = began.elapsed() / runs;
    let first = first.unwrap();

    // One member cannot make session 10; the duties of sessions 0..9 stay (as if confirmed).
    let absent = first.assignments.iter().find(|a| a.session_id == "s10").and_then(|a| a.member_id.clone()).unwrap();
    sessions[10].absent.insert(absent);
    let fixed: Vec<Served> = first
        .assignments
        .iter()
        .filter(|a| a.session_id.as_str() < "s10")
        .map(|a| Served {
            session_id: a.session_id.clone(),
            starts_at: start,
            role_id: a.role_id.clone(),
            member_id: a.member_id.clone(),
        })
        .collect();
    // Everything after session 9 was planned before and may move.
    let earlier: Vec<Served> = first
        .assignments
        .iter()
        .filter(|a| a.session_id.as_str() >= "s10")
        .map(|a| Served {
            session_id: a.session_id.clone(),
            starts_at: start,
            role_id: a.role_id.clone(),
            member_id: a.member_id.clone(),
        })
        .collect();
    let began = Instant::now();
    let mut second = None;
    for _ in 0..runs {
        second = Some(plan(&Input {
            members: &members,
            roles: &roles,
            history: &history,
            sessions: &sessions,
            fixed: &fixed,
            planned: &earlier,
        }));
    }
    let per_replan = began.elapsed() / runs;
    let changed = second.unwrap().assignments.iter().filter(|a| !first.assignments.contains(a)).count();
    println!(
        "rota: 52 sessions x 5 roles, 50 members: plan {:.1} ms, re-plan after one absence {:.1} ms ({changed} duties moved); mean of {runs}",
        per_plan.as_secs_f64() * 1000.0,
        per_replan.as_secs_f64() * 1000.0,
    );
}
