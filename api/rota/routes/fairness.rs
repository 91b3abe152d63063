//! The fairness report: `/api/v1/cohorts/{cohort_id}/rota/fairness`.

use actix_web::{get, web};
use chrono::Duration;

use crate::auth::Caller;
use crate::cohorts::access::{self, Action};
use crate::cohorts::model::{MemberFilter, MemberState};
use crate::cohorts::store as cohorts;
use crate::db::{CohortId, UserId};
use crate::error::ApiResult;
use crate::openapi::NotFound;
use crate::pagination::PageRequest;
use crate::people::Person;
use crate::rota::model::{Fairness, FairnessParams, MemberLoad, RoleTurns};
use crate::rota::store;
use crate::state::AppState;

/// Who carries how much: duties per member and role over a window, upcoming load, who is
/// overloaded, who has never held a role.
#[utoipa::path(
    tag = "rota",
    security(("bearer" = []), ("personal_token" = ["rota:read"])),
    params(("cohort_id" = String, Path, format = Uuid), FairnessParams),
    responses((status = 200, body = Fairness), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/rota/fairness")]
pub async fn fairness(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    query: crate::http::Query<FairnessParams>,
) -> ApiResult<web::Json<Fairness>> {
    let weeks = query.weeks.unwrap_or(26).clamp(1, 520);
    let (cohort_id, now) = (path.into_inner(), state.now());
    let from = now - Duration::weeks(weeks);
    let report = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadRota)?;
            let roles = store::roles(conn, &cohort_id, false)?;
            let duties = store::assignments_between(
                conn,
                &cohort_id,
                from.naive_utc(),
                (now + Duration::weeks(52)).naive_utc(),
            )?;
            let everyone_ever: Vec<String> =
                store::assignments_between(conn, &cohort_id, store::beginning(), now.naive_utc())?
                    .into_iter()
                    .filter_map(|(d, _)| d.user_id.map(|u| format!("{u}/{}", d.role_id)))
                    .collect();
            let filter = MemberFilter { role: None, state: Some(MemberState::Active) };
            let everyone = PageRequest { limit: 10_000, after: None };
            let members = cohorts::members(conn, &cohort_id, &filter, &everyone)?;
            let upcoming = |user: &UserId| {
                duties.iter().filter(|(d, at)| *at > now.naive_utc() && d.user_id.as_ref() == Some(user)).count() as i64
            };
            let total_upcoming: i64 = members.iter().map(|(m, _, _)| upcoming(&m.user_id)).sum();
            let average = total_upcoming as f64 / members.len().max(1) as f64;
            let loads = members
                .iter()
                .map(|(m, name, _)| {
                    let served = |role: &str| {
                        duties
                            .iter()
                            .filter(|(d, at)| {
                                *at <= now.naive_utc() && d.role_id == role && d.user_id.as_ref() == Some(&m.user_id)
                            })
                            .count() as i64
                    };
                    let turns: Vec<RoleTurns> =
                        roles.iter().map(|r| RoleTurns { role_id: r.id.clone(), turns: served(&r.id) }).collect();
                    let coming = upcoming(&m.user_id);
                    MemberLoad {
                        total: turns.iter().map(|t| t.turns).sum(),
                        never_held: roles
                            .iter()
                            .filter(|r| !everyone_ever.contains(&format!("{}/{}", m.user_id, r.id)))
                            .map(|r| r.id.clone())
                            .collect(),
                        overloaded: coming as f64 > average + 1.0,
                        upcoming: coming,
                        turns,
                        user: Person::new(m.user_id.clone(), name.clone()),
                        user_id: m.user_id.clone(),
                        display_name: name.clone(),
                    }
                })
                .collect();
            Ok(Fairness { from, members: loads })
        })
        .await?;
    Ok(web::Json(report))
}
