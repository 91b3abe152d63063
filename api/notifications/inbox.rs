//! `GET /me/inbox`: what is asked of the caller now, across the cohorts they are an active member
//! of (not archived): swaps and covers asked of them, covers anyone may take, their duties to
//! confirm, adopted charters they have not accepted, and their experiments with no check-in for
//! a week. The same list the reminders mail about, for the phone app and a chat bot. Five
//! queries, whatever the number of items.

use actix_web::{get, web};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::auth::scopes::Scope;
use crate::cohorts::model::MemberState;
use crate::db::schema::{
    assignments, charter_acceptances, charter_versions, cohorts, duty_roles, experiment_check_ins, experiments,
    memberships, sessions, swap_requests, users,
};
use crate::db::{AnyConnection, CohortId, UserId};
use crate::error::ApiResult;
use crate::pagination::Page;
use crate::people::Person;
use crate::state::AppState;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(my_inbox);
}

/// The most items of one kind the inbox shows (oldest first); the inbox is a complete list.
pub const PER_KIND: i64 = 50;

/// An experiment with no check-in for this long is due one.
pub const QUIET_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InboxKind {
    /// Someone asks you to swap a duty with them, or to cover theirs.
    SwapAsked,
    /// A duty needs cover and anyone may take it.
    CoverNeeded,
    /// A duty of yours waits for your confirmation.
    DutyToConfirm,
    /// The cohort adopted a charter version you have not accepted.
    CharterToAccept,
    /// Your experiment has had no check-in for a week.
    CheckinDue,
}

/// A cohort, named.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CohortName {
    #[schema(value_type = String, format = Uuid)]
    pub id: CohortId,
    pub name: String,
}

/// One thing asked of you.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxItem {
    pub kind: InboxKind,
    pub cohort: CohortName,
    /// The swap request, assignment, charter version or experiment to act on.
    #[schema(format = Uuid)]
    pub subject_id: String,
    /// What it is about, in a few words ("Note-taker", a charter's number, an experiment's title).
    pub title: String,
    /// When it happens or lapses: the session's start, the request's expiry.
    pub due_at: Option<DateTime<Utc>>,
    /// Who asks, for swaps and covers.
    pub from: Option<Person>,
    pub since: DateTime<Utc>,
}

/// What is asked of you now, in every cohort you are active in: swaps and covers asked of you,
/// covers anyone may take, duties to confirm, charters to accept and check-ins due. Complete:
/// at most 50 of each kind, oldest first within a kind. A personal token sees the kinds its scopes
/// reach: swaps, covers and duties with `rota:read`, charters with `charter:read`, check-ins with
/// `experiments:read`.
#[utoipa::path(
    tag = "me",
    security(("bearer" = []), ("personal_token" = ["rota:read", "charter:read", "experiments:read"])),
    responses((status = 200, body = inline(Page<InboxItem>)))
)]
#[get("/me/inbox")]
pub async fn my_inbox(state: web::Data<AppState>, caller: Caller) -> ApiResult<web::Json<Page<InboxItem>>> {
    let reach = Reach {
        rota: caller.require_scope(Scope::RotaRead).is_ok(),
        charter: caller.require_scope(Scope::CharterRead).is_ok(),
        experiments: caller.require_scope(Scope::ExperimentsRead).is_ok(),
    };
    let (user_id, now) = (caller.user.id.clone(), state.now());
    let items = state.db.read(move |conn| inbox(conn, &user_id, reach, now)).await?;
    Ok(web::Json(Page::complete(items)))
}

/// Which kinds the caller's credential reaches.
#[derive(Debug, Clone, Copy)]
pub struct Reach {
    pub rota: bool,
    pub charter: bool,
    pub experiments: bool,
}

/// (version, number, adopted at, created at, cohort, cohort name)
type CharterRow = (String, Option<i32>, Option<NaiveDateTime>, NaiveDateTime, CohortId, String);

type Row = (String, String, Option<NaiveDateTime>, NaiveDateTime, CohortId, String);

fn item(
    kind: InboxKind,
    (subject_id, title, due, since, cohort_id, cohort_name): Row,
    from: Option<Person>,
) -> InboxItem {
    InboxItem {
        kind,
        cohort: CohortName { id: cohort_id, name: cohort_name },
        subject_id,
        title,
        due_at: due.map(|d| d.and_utc()),
        from,
        since: since.and_utc(),
    }
}

type MyCohorts<'a> = diesel::dsl::Select<
    diesel::dsl::Filter<
        diesel::dsl::Filter<memberships::table, diesel::dsl::Eq<memberships::user_id, &'a UserId>>,
        diesel::dsl::Eq<memberships::state, &'static str>,
    >,
    memberships::cohort_id,
>;

/// The cohorts the user is an active member of (a subquery; each query also leaves out archived
/// cohorts through its own join).
fn my_cohorts(user_id: &UserId) -> MyCohorts<'_> {
    memberships::table
        .filter(memberships::user_id.eq(user_id))
        .filter(memberships::state.eq(MemberState::Active.as_str()))
        .select(memberships::cohort_id)
}

pub fn inbox(
    conn: &mut AnyConnection,
    user_id: &UserId,
    reach: Reach,
    now: DateTime<Utc>,
) -> ApiResult<Vec<InboxItem>> {
    let at = now.naive_utc();
    let mut items = Vec::new();

    if reach.rota {
        rota_items(conn, user_id, at, &mut items)?;
    }
    if reach.charter {
        charter_items(conn, user_id, &mut items)?;
    }
    if reach.experiments {
        experiment_items(conn, user_id, at, &mut items)?;
    }
    Ok(items)
}

fn rota_items(
    conn: &mut AnyConnection,
    user_id: &UserId,
    at: NaiveDateTime,
    items: &mut Vec<InboxItem>,
) -> ApiResult<()> {
    // Swaps and covers: asked of me by name, or covers open to anyone but the one asking.
    let asks: Vec<(Row, Option<UserId>, UserId, String)> = swap_requests::table
        .inner_join(assignments::table.on(assignments::id.eq(swap_requests::assignment_id)))
        .inner_join(duty_roles::table.on(duty_roles::id.eq(assignments::role_id)))
        .inner_join(sessions::table.on(sessions::id.eq(assignments::session_id)))
        .inner_join(cohorts::table.on(cohorts::id.eq(swap_requests::cohort_id)))
        .inner_join(users::table.on(users::id.eq(swap_requests::requester_id)))
        .filter(swap_requests::cohort_id.eq_any(my_cohorts(user_id)))
        .filter(cohorts::archived_at.is_null())
        .filter(swap_requests::state.eq("open"))
        .filter(swap_requests::expires_at.gt(at))
        .filter(sessions::starts_at.gt(at))
        .filter(
            swap_requests::peer_id
                .eq(user_id)
                .or(swap_requests::peer_id.is_null().and(swap_requests::kind.eq("cover"))),
        )
        .filter(swap_requests::requester_id.ne(user_id))
        .order((swap_requests::created_at.asc(), swap_requests::id.asc()))
        .limit(2 * PER_KIND)
        .select((
            (
                swap_requests::id,
                duty_roles::name,
                sessions::starts_at.nullable(),
                swap_requests::created_at,
                cohorts::id,
                cohorts::name,
            ),
            swap_requests::peer_id,
            users::id,
            users::display_name,
        ))
        .load(conn)?;
    for (row, peer, requester, name) in asks {
        let kind = if peer.is_some() { InboxKind::SwapAsked } else { InboxKind::CoverNeeded };
        items.push(item(kind, row, Some(Person::new(requester, name))));
    }

    let duties: Vec<Row> = assignments::table
        .inner_join(duty_roles::table.on(duty_roles::id.eq(assignments::role_id)))
        .inner_join(sessions::table.on(sessions::id.eq(assignments::session_id)))
        .inner_join(cohorts::table.on(cohorts::id.eq(assignments::cohort_id)))
        .filter(assignments::cohort_id.eq_any(my_cohorts(user_id)))
        .filter(cohorts::archived_at.is_null())
        .filter(assignments::user_id.eq(user_id))
        .filter(assignments::confirmed_at.is_null())
        .filter(sessions::starts_at.gt(at))
        .filter(sessions::status.ne("cancelled"))
        .order((sessions::starts_at.asc(), assignments::id.asc()))
        .limit(PER_KIND)
        .select((
            assignments::id,
            duty_roles::name,
            sessions::starts_at.nullable(),
            assignments::created_at,
            cohorts::id,
            cohorts::name,
        ))
        .load(conn)?;
    items.extend(duties.into_iter().map(|row| item(InboxKind::DutyToConfirm, row, None)));
    Ok(())
}

fn charter_items(conn: &mut AnyConnection, user_id: &UserId, items: &mut Vec<InboxItem>) -> ApiResult<()> {
    let accepted = charter_acceptances::table
        .filter(charter_acceptances::user_id.eq(user_id))
        .select(charter_acceptances::version_id);
    let charters: Vec<CharterRow> = charter_versions::table
        .inner_join(cohorts::table.on(cohorts::id.eq(charter_versions::cohort_id)))
        .filter(charter_versions::cohort_id.eq_any(my_cohorts(user_id)))
        .filter(cohorts::archived_at.is_null())
        .filter(charter_versions::state.eq("adopted"))
        .filter(charter_versions::id.ne_all(accepted))
        .order((charter_versions::created_at.asc(), charter_versions::id.asc()))
        .limit(PER_KIND)
        .select((
            charter_versions::id,
            charter_versions::number,
            charter_versions::adopted_at,
            charter_versions::created_at,
            cohorts::id,
            cohorts::name,
        ))
        .load(conn)?;
    for (id, number, adopted_at, created_at, cohort_id, cohort_name) in charters {
        let title = number.map_or_else(|| "The charter".to_string(), |n| format!("Charter version {n}"));
        let since = adopted_at.unwrap_or(created_at);
        items.push(item(InboxKind::CharterToAccept, (id, title, None, since, cohort_id, cohort_name), None));
    }

    Ok(())
}

fn experiment_items(
    conn: &mut AnyConnection,
    user_id: &UserId,
    at: NaiveDateTime,
    items: &mut Vec<InboxItem>,
) -> ApiResult<()> {
    // Experiments under way whose latest check-in (or start) is a week old.
    let quiet_since = at - Duration::days(QUIET_DAYS);
    let recent = experiment_check_ins::table
        .filter(experiment_check_ins::created_at.gt(quiet_since))
        .select(experiment_check_ins::experiment_id);
    let quiet: Vec<(String, String, NaiveDateTime, CohortId, String)> = experiments::table
        .inner_join(cohorts::table.on(cohorts::id.eq(experiments::cohort_id)))
        .filter(experiments::cohort_id.eq_any(my_cohorts(user_id)))
        .filter(cohorts::archived_at.is_null())
        .filter(experiments::owner_id.eq(user_id))
        .filter(experiments::state.eq_any(["committed", "in_progress"]))
        .filter(experiments::created_at.le(quiet_since))
        .filter(experiments::id.ne_all(recent))
        .order((experiments::created_at.asc(), experiments::id.asc()))
        .limit(PER_KIND)
        .select((experiments::id, experiments::title, experiments::created_at, cohorts::id, cohorts::name))
        .load(conn)?;
    for (id, title, since, cohort_id, cohort_name) in quiet {
        items.push(item(InboxKind::CheckinDue, (id, title, None, since, cohort_id, cohort_name), None));
    }
    Ok(())
}
