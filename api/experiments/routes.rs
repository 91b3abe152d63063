//! `/api/v1/cohorts/{cohort_id}/experiments`, `/api/v1/experiments/{id}` (read, change, seed the
//! next one, check-ins, metric history) and `/api/v1/me/experiments`.

use actix_web::http::header;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};

use super::lifecycle::{ExperimentState, Stuck, Visibility, can_move, stuck};
use super::model::{
    AttentionItem, AttentionParams, CheckIn, Experiment, ExperimentChange, ExperimentFilter, ExperimentRow,
    MetricPoint, NewCheckIn, NewExperiment,
};
use super::store;
use super::view::{find_visible, owner_only, view, views};
use crate::auth::Caller;
use crate::cohorts::access::{self, Action, OwnAction};
use crate::cohorts::model::MemberState;
use crate::cohorts::store as cohorts;
use crate::db::{AnyConnection, CohortId, SessionId, UserId, new_id};
use crate::error::{ApiError, ApiResult};
use crate::events::{Audience, EventPayload, NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams, PageRequest};
use crate::state::AppState;
use crate::validation::{self, Checks, Invalid};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(board)
        .service(attention)
        .service(mine)
        .service(get_one)
        .service(change)
        .service(seed_next)
        .service(list_check_ins)
        .service(check_in)
        .service(metric_history);
}

/// An event about an experiment, seen by whom its visibility allows.
pub fn experiment_event<'a>(
    payload: impl Into<EventPayload>,
    caller: &'a Caller,
    row: &'a ExperimentRow,
) -> NewEvent<'a> {
    let audience = match row.visibility() {
        Visibility::Private => Audience::Private,
        Visibility::Buddy => Audience::Buddy,
        Visibility::Cohort => Audience::Cohort,
    };
    NewEvent::new(payload, &row.id).by(caller.user_id()).in_cohort(&row.cohort_id).visible_to(audience)
}

fn date(raw: String) -> Result<String, Invalid> {
    validation::date(raw).map(|d| d.to_string())
}

/// Checks that a due session belongs to the cohort and a buddy is one of its active members.
fn check_links(
    conn: &mut AnyConnection,
    cohort_id: &CohortId,
    due_session: Option<&SessionId>,
    buddy: Option<&UserId>,
) -> ApiResult<()> {
    let mut checks = Checks::new();
    if let Some(session) = due_session
        && crate::sessions::store::find_session(conn, session)?.is_none_or(|s| s.cohort_id != cohort_id)
    {
        checks.fail("due_session_id", Invalid::new("not_found", "is not a session of this cohort"));
    }
    if let Some(buddy) = buddy
        && cohorts::membership(conn, cohort_id, buddy)?.is_none_or(|m| m.state() != MemberState::Active)
    {
        checks.fail("buddy_id", Invalid::new("not_a_member", "is not an active member of this cohort"));
    }
    checks.finish()
}

/// Commit to an experiment: what you will try, how you will know it worked, and when it is due
/// (a session, which it follows if the session moves, or a date).
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:write"])),
    params(("cohort_id" = String, Path, format = Uuid), ("idempotency-key" = Option<String>, Header, description = "Retrying with the same key returns the first answer")),
    request_body = NewExperiment,
    responses((status = 201, body = Experiment), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/experiments")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<NewExperiment>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut checks = Checks::new();
    let title = checks.require("title", body.title, validation::nonblank_text_up_to(300));
    let signal = checks.require("success_signal", body.success_signal, validation::nonblank_text_up_to(500));
    let due_on = checks.optional("due_on", body.due_on, date);
    if body.due_session_id.is_some() && due_on.is_some() {
        checks.fail("due_on", Invalid::new("conflict", "give due_session_id or due_on, not both"));
    }
    if let Some(metric) = &body.metric
        && let Err(invalid) = validation::label(metric.name.clone())
    {
        checks.fail("metric.name", invalid);
    }
    checks.finish()?;
    let (cohort_id, now) = (path.into_inner(), state.now());
    let experiment = state
        .db
        .write(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::WorkOnExperiments)?;
            check_links(conn, &cohort_id, body.due_session_id.as_ref(), body.buddy_id.as_ref())?;
            let row = ExperimentRow {
                id: new_id(),
                cohort_id: cohort_id.clone(),
                owner_id: caller.user_id().clone(),
                title: title.clone(),
                success_signal: signal.clone(),
                due_session_id: body.due_session_id.clone(),
                due_on: due_on.clone(),
                metric_name: body.metric.as_ref().map(|m| m.name.trim().to_string()),
                metric_unit: body.metric.as_ref().and_then(|m| m.unit.clone()),
                metric_target: body.metric.as_ref().and_then(|m| m.target),
                visibility: body.visibility.unwrap_or(Visibility::Cohort),
                buddy_id: body.buddy_id.clone(),
                state: ExperimentState::Committed,
                drop_reason: None,
                outcome_result: None,
                outcome_learned: None,
                outcome_next_step: None,
                seeded_from_id: None,
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
            };
            store::insert(conn, &row)?;
            experiment_event(ev::ExperimentCommitted { seeded_from: None }, &caller, &row).record(conn, now)?;
            view(conn, row, caller.user_id(), now)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/experiments/{}", experiment.id)))
        .json(experiment))
}

/// The cohort's board: the experiments you may see, oldest first; filter by `state` (to group
/// the board), `owner_id` and `due_session_id`.
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:read"])),
    params(("cohort_id" = String, Path, format = Uuid), ExperimentFilter, PageParams),
    responses((status = 200, body = inline(Page<Experiment>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/experiments")]
pub async fn board(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    filter: crate::http::Query<ExperimentFilter>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<Experiment>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, filter, now) = (path.into_inner(), filter.into_inner(), state.now());
    let result = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadExperiments)?;
            let partners = store::coaching_partners(conn, &cohort_id, caller.user_id())?;
            let rows = store::list(conn, &cohort_id, caller.user_id(), &partners, &filter, &page)?;
            paged(conn, rows, &page, caller.user_id(), now)
        })
        .await?;
    Ok(web::Json(result))
}

fn paged(
    conn: &mut AnyConnection,
    rows: Vec<ExperimentRow>,
    page: &PageRequest,
    viewer: &UserId,
    now: DateTime<Utc>,
) -> ApiResult<Page<Experiment>> {
    let keys =
        Page::from_rows(rows, page, |r: &ExperimentRow| Cursor { created_at: r.created_at, id: r.id.clone() }, |r| r);
    Ok(Page { items: views(conn, keys.items, viewer, now)?, next_cursor: keys.next_cursor })
}

/// Experiments that need attention (facilitators and organizers), oldest first, each with why:
/// overdue, quiet (no check-in for `quiet_days`) or a repeated blocker (the same in the last two
/// check-ins). Only those you may see. A complete set (`next_cursor` is always null): at most the
/// cohort's open experiments.
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:read"])),
    params(("cohort_id" = String, Path, format = Uuid), AttentionParams),
    responses((status = 200, body = inline(Page<AttentionItem>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/experiments/attention")]
pub async fn attention(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    query: crate::http::Query<AttentionParams>,
) -> ApiResult<web::Json<Page<AttentionItem>>> {
    let quiet_days = query.quiet_days.unwrap_or(7);
    if !(1..=365).contains(&quiet_days) {
        return Err(ApiError::invalid("quiet_days", "out_of_range", "must be between 1 and 365"));
    }
    let (cohort_id, now) = (path.into_inner(), state.now());
    let result = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReviewExperiments)?;
            let partners = store::coaching_partners(conn, &cohort_id, caller.user_id())?;
            let everything = PageRequest { limit: 10_000, after: None };
            let rows =
                store::list(conn, &cohort_id, caller.user_id(), &partners, &ExperimentFilter::default(), &everything)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let check_ins = store::check_in_times(conn, &ids)?;
            let why: Vec<Stuck> = rows
                .iter()
                .map(|r| {
                    stuck(
                        r.state(),
                        r.created_at.and_utc(),
                        check_ins.get(&r.id).map_or(&[][..], Vec::as_slice),
                        quiet_days,
                        now,
                    )
                })
                .collect();
            let all = views(conn, rows, caller.user_id(), now)?;
            let items = all
                .into_iter()
                .zip(why)
                .filter(|(experiment, why)| experiment.overdue || why.any())
                .map(|(experiment, why)| AttentionItem {
                    overdue: experiment.overdue,
                    quiet_since: why.quiet_since,
                    repeated_blocker: why.repeated_blocker,
                    experiment,
                })
                .collect();
            Ok(Page::complete(items))
        })
        .await?;
    Ok(web::Json(result))
}

/// Your own experiments in every cohort, oldest first.
#[utoipa::path(
    tag = "me",
    security(("bearer" = []), ("personal_token" = ["experiments:read"])),
    params(PageParams),
    responses((status = 200, body = inline(Page<Experiment>)))
)]
#[get("/me/experiments")]
pub async fn mine(
    state: web::Data<AppState>,
    caller: Caller,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<Experiment>>> {
    access::authorize_own(&caller, OwnAction::ListMyExperiments)?;
    let page = query.into_inner().validate()?;
    let (user_id, now) = (caller.user_id().clone(), state.now());
    let result = state
        .db
        .read(move |conn| {
            let rows = store::mine(conn, &user_id, &page)?;
            paged(conn, rows, &page, caller.user_id(), now)
        })
        .await?;
    Ok(web::Json(result))
}

/// One experiment (404 unless you may see it).
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:read"])),
    params(("experiment_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Experiment), (status = 404, response = NotFound))
)]
#[get("/experiments/{experiment_id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<web::Json<Experiment>> {
    let (id, now) = (path.into_inner(), state.now());
    let experiment = state
        .db
        .read(move |conn| {
            let (_, row) = find_visible(conn, &caller, &id, Action::ReadExperiments)?;
            view(conn, row, caller.user_id(), now)
        })
        .await?;
    Ok(web::Json(experiment))
}

/// Change your experiment: its fields, its state (`in_progress`, `done`, `dropped` with a
/// `drop_reason`; other moves are 422), its outcome.
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:write"])),
    params(("experiment_id" = String, Path, format = Uuid)),
    request_body = ExperimentChange,
    responses((status = 200, body = Experiment), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[patch("/experiments/{experiment_id}")]
pub async fn change(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ExperimentChange>,
) -> ApiResult<web::Json<Experiment>> {
    let body = body.0;
    let mut checks = Checks::new();
    let title = checks.optional("title", body.title, validation::nonblank_text_up_to(300));
    let signal = checks.optional("success_signal", body.success_signal, validation::nonblank_text_up_to(500));
    let reason = checks.optional("drop_reason", body.drop_reason, validation::nonblank_text_up_to(500));
    let due_on = checks.optional("due_on", body.due_on, date);
    if body.state == Some(ExperimentState::Dropped) && reason.is_none() {
        checks.fail("drop_reason", Invalid::new("required", "say why the experiment is dropped"));
    }
    checks.finish()?;
    let (id, now) = (path.into_inner(), state.now());
    let experiment = state
        .db
        .write(move |conn| {
            let (_, mut row) = find_visible(conn, &caller, &id, Action::WorkOnExperiments)?;
            owner_only(&row, &caller)?;
            check_links(conn, &row.cohort_id, body.due_session_id.as_ref(), body.buddy_id.as_ref())?;
            let mut kinds = Vec::new();
            if let Some(to) = body.state
                && to != row.state()
            {
                if !can_move(row.state(), to) {
                    let from = row.state().as_str();
                    return Err(ApiError::invalid(
                        "state",
                        "illegal_transition",
                        format!("cannot go from {from} to {}", to.as_str()),
                    ));
                }
                row.state = to;
                row.drop_reason = reason.clone().or(row.drop_reason);
                kinds.extend(match to {
                    ExperimentState::Done => Some(EventPayload::from(ev::ExperimentDone {})),
                    ExperimentState::Dropped => Some(ev::ExperimentDropped {}.into()),
                    _ => None,
                });
            }
            if let Some(outcome) = body.outcome.clone() {
                row.outcome_result = Some(outcome.result);
                row.outcome_learned = outcome.learned.map(|t| t.trim().to_string());
                row.outcome_next_step = outcome.next_step.map(|t| t.trim().to_string());
            }
            row.title = title.clone().unwrap_or(row.title);
            row.success_signal = signal.clone().unwrap_or(row.success_signal);
            if body.due_session_id.is_some() || due_on.is_some() {
                row.due_session_id = body.due_session_id.clone();
                row.due_on = due_on.clone();
            }
            if let Some(visibility) = body.visibility {
                row.visibility = visibility;
            }
            if body.buddy_id.is_some() {
                row.buddy_id = body.buddy_id.clone();
            }
            row.updated_at = now.naive_utc();
            store::save(conn, &row)?;
            for kind in kinds {
                experiment_event(kind, &caller, &row).record(conn, now)?;
            }
            view(conn, row, caller.user_id(), now)
        })
        .await?;
    Ok(web::Json(experiment))
}

/// Start your next experiment from this one's outcome: a new committed experiment whose "what I
/// will try" is the outcome's next step, with the same signal, metric and visibility. Each
/// experiment seeds one: asking again answers 200 with the one it seeded.
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:write"])),
    params(("experiment_id" = String, Path, format = Uuid)),
    responses(
        (status = 201, description = "Seeded", body = Experiment),
        (status = 200, description = "Seeded before: the experiment it seeded", body = Experiment),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict)
    )
)]
#[post("/experiments/{experiment_id}/seed-next")]
pub async fn seed_next(state: web::Data<AppState>, caller: Caller, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let (id, now) = (path.into_inner(), state.now());
    let (created, experiment) = state
        .db
        .write(move |conn| {
            let (_, row) = find_visible(conn, &caller, &id, Action::WorkOnExperiments)?;
            owner_only(&row, &caller)?;
            // Two requests at once: the second waits here for the first to commit, then finds
            // what it seeded (the unique index on seeded_from_id backs this up).
            store::lock(conn, &row.id)?;
            if let Some(seeded) = store::seeded_from(conn, &row.id)? {
                return Ok((false, view(conn, seeded, caller.user_id(), now)?));
            }
            let next_step = row
                .outcome_next_step
                .clone()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ApiError::conflict("no_next_step", "Record an outcome with a next step first."))?;
            let seeded = ExperimentRow {
                id: new_id(),
                title: next_step,
                due_session_id: None,
                due_on: None,
                state: ExperimentState::Committed,
                drop_reason: None,
                outcome_result: None,
                outcome_learned: None,
                outcome_next_step: None,
                seeded_from_id: Some(row.id.clone()),
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
                ..row
            };
            store::insert(conn, &seeded)?;
            let committed = ev::ExperimentCommitted { seeded_from: seeded.seeded_from_id.clone() };
            experiment_event(committed, &caller, &seeded).record(conn, now)?;
            Ok((true, view(conn, seeded, caller.user_id(), now)?))
        })
        .await?;
    let mut response = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(response.insert_header((header::LOCATION, format!("/api/v1/experiments/{}", experiment.id))).json(experiment))
}

fn check_in_view(row: store::CheckInRow) -> CheckIn {
    let (id, done, next, blockers, value, created_at) = row;
    CheckIn { id, done, next, blockers, value, created_at: created_at.and_utc() }
}

/// An experiment's check-ins, oldest first.
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:read"])),
    params(("experiment_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<CheckIn>)), (status = 404, response = NotFound))
)]
#[get("/experiments/{experiment_id}/check-ins")]
pub async fn list_check_ins(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<CheckIn>>> {
    let page = query.into_inner().validate()?;
    let (id, request) = (path.into_inner(), page.clone());
    let rows = state
        .db
        .read(move |conn| {
            find_visible(conn, &caller, &id, Action::ReadExperiments)?;
            store::check_ins(conn, &id, &request)
        })
        .await?;
    Ok(web::Json(Page::from_rows(rows, &page, |r| Cursor { created_at: r.5, id: r.0.clone() }, check_in_view)))
}

/// Check in on your experiment: what you did, what is next, what blocks you, and the metric's
/// value; any one of them is enough. The first check-in moves a committed experiment to
/// `in_progress`. Send an `Idempotency-Key` header to make retries safe.
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:write"])),
    params(("experiment_id" = String, Path, format = Uuid), ("idempotency-key" = Option<String>, Header, description = "Retrying with the same key returns the first answer")),
    request_body = NewCheckIn,
    responses((status = 201, body = CheckIn), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/experiments/{experiment_id}/check-ins")]
pub async fn check_in(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<NewCheckIn>,
) -> ApiResult<HttpResponse> {
    let body = checked_check_in(body.0)?;
    let (id, now) = (path.into_inner(), state.now());
    let created = state.db.write(move |conn| add_check_in(conn, &caller, &id, &body, now)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// A check-in with every field checked: texts of at most 1000 characters, at least one given.
pub(crate) struct CheckedCheckIn {
    done: String,
    next: String,
    blockers: String,
    value: Option<f64>,
}

/// Checks a check-in's fields (422 naming each invalid one).
pub(crate) fn checked_check_in(body: NewCheckIn) -> ApiResult<CheckedCheckIn> {
    let mut checks = Checks::new();
    let text = validation::text_up_to(1000);
    let done = checks.optional("done", body.done, &text).unwrap_or_default();
    let next = checks.optional("next", body.next, &text).unwrap_or_default();
    let blockers = checks.optional("blockers", body.blockers, &text).unwrap_or_default();
    if done.is_empty() && next.is_empty() && blockers.is_empty() && body.value.is_none() {
        checks.fail("body", Invalid::new("required", "say something: done, next, blockers or value"));
    }
    if body.value.is_some_and(|v| !v.is_finite()) {
        checks.fail("value", Invalid::new("invalid_value", "must be a finite number"));
    }
    checks.finish()?;
    Ok(CheckedCheckIn { done, next, blockers, value: body.value })
}

/// Adds the caller's check-in to their experiment `id` (the JSON route and the check-in link in
/// mail).
pub(crate) fn add_check_in(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: &str,
    body: &CheckedCheckIn,
    now: DateTime<Utc>,
) -> ApiResult<CheckIn> {
    let (_, mut row) = find_visible(conn, caller, id, Action::WorkOnExperiments)?;
    owner_only(&row, caller)?;
    if !super::lifecycle::is_open(row.state()) {
        return Err(ApiError::conflict("experiment_closed", "This experiment is done or dropped."));
    }
    let CheckedCheckIn { done, next, blockers, value } = body;
    let check_in_id = store::add_check_in(conn, &row.id, (done, next, blockers, *value), now)?;
    if row.state() == ExperimentState::Committed {
        row.state = ExperimentState::InProgress;
        row.updated_at = now.naive_utc();
        store::save(conn, &row)?;
    }
    experiment_event(ev::ExperimentCheckedIn {}, caller, &row).record(conn, now)?;
    Ok(check_in_view(store::find_check_in(conn, &check_in_id)?))
}

/// The metric's values over time, for a chart, oldest first (check-ins that gave a value).
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:read"])),
    params(("experiment_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<MetricPoint>)), (status = 404, response = NotFound))
)]
#[get("/experiments/{experiment_id}/metric")]
pub async fn metric_history(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<MetricPoint>>> {
    let page = query.into_inner().validate()?;
    let (id, request) = (path.into_inner(), page.clone());
    let rows = state
        .db
        .read(move |conn| {
            find_visible(conn, &caller, &id, Action::ReadExperiments)?;
            store::metric_points(conn, &id, &request)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        &page,
        |(id, at, _)| Cursor { created_at: *at, id: id.clone() },
        |(_, at, value)| MetricPoint { at: at.and_utc(), value },
    )))
}
