//! What peers add to an experiment they may see: comments, offers of help (which the owner
//! accepts or dismisses) and celebrations (one per peer).

use actix_web::{HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{HelpOffer, NewHelpOffer};
use super::routes::experiment_event;
use super::store;
use super::view::{find_visible, owner_only};
use crate::auth::Caller;
use crate::cohorts::access::Action;
use crate::comments::{Comment, NewComment};
use crate::error::{ApiError, ApiResult};
use crate::events::{EventPayload, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::people::Person;
use crate::state::AppState;
use crate::validation::{self, Checks};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_comments)
        .service(comment)
        .service(offer_help)
        .service(answer_offer)
        .service(list_offers)
        .service(celebrate);
}

fn offer_view(row: store::OfferRow) -> HelpOffer {
    let (id, _, helper_id, message, state, created_at, helper_name) = row;
    HelpOffer {
        helper: Person::new(helper_id.clone(), helper_name),
        id,
        helper_id,
        message,
        state,
        created_at: created_at.and_utc(),
    }
}

/// The comments on an experiment, oldest first.
#[utoipa::path(
    operation_id = "list_experiment_comments",
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:read"])),
    params(("experiment_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<Comment>)), (status = 404, response = NotFound))
)]
#[get("/experiments/{experiment_id}/comments")]
pub async fn list_comments(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<Comment>>> {
    let page = query.into_inner().validate()?;
    let (id, request) = (path.into_inner(), page.clone());
    let rows = state
        .db
        .read(move |conn| {
            find_visible(conn, &caller, &id, Action::ReadExperiments)?;
            store::comments(conn, &id, &request)
        })
        .await?;
    Ok(web::Json(Page::from_rows(rows, &page, |r| Cursor { created_at: r.4, id: r.0.clone() }, Comment::from)))
}

/// Comment on an experiment.
#[utoipa::path(
    operation_id = "comment_on_experiment",
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:write"])),
    params(("experiment_id" = String, Path, format = Uuid)),
    request_body = NewComment,
    responses((status = 201, body = Comment), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/experiments/{experiment_id}/comments")]
pub async fn comment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<NewComment>,
) -> ApiResult<HttpResponse> {
    let mut checks = Checks::new();
    let text = crate::comments::body(&mut checks, body.0);
    checks.finish()?;
    let (id, now) = (path.into_inner(), state.now());
    let created = state
        .db
        .write(move |conn| {
            let (_, row) = find_visible(conn, &caller, &id, Action::WorkOnExperiments)?;
            let comment_id = store::add_comment(conn, &row.id, caller.user_id(), &text, now)?;
            experiment_event(ev::ExperimentCommented {}, &caller, &row).record(conn, now)?;
            Ok(Comment::from(store::find_comment(conn, &comment_id)?))
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Offer help with someone else's experiment.
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:write"])),
    params(("experiment_id" = String, Path, format = Uuid)),
    request_body = NewHelpOffer,
    responses((status = 201, body = HelpOffer), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/experiments/{experiment_id}/help-offers")]
pub async fn offer_help(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<NewHelpOffer>,
) -> ApiResult<HttpResponse> {
    let mut checks = Checks::new();
    let message = checks.require("message", body.0.message, validation::nonblank_text_up_to(1000));
    checks.finish()?;
    let (id, now) = (path.into_inner(), state.now());
    let created = state
        .db
        .write(move |conn| {
            let (_, row) = find_visible(conn, &caller, &id, Action::WorkOnExperiments)?;
            if row.owner_id == caller.user_id() {
                return Err(ApiError::conflict("own_experiment", "Offer help to others; ask the cohort for yours."));
            }
            let offer_id = store::add_offer(conn, &row.id, caller.user_id(), &message, now)?;
            experiment_event(ev::ExperimentHelpOffered {}, &caller, &row).record(conn, now)?;
            Ok(offer_view(store::find_offer(conn, &offer_id)?.ok_or(ApiError::NotFound)?))
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OfferAnswer {
    /// `accepted` or `dismissed`.
    pub state: String,
}

/// Accept or dismiss an offer of help (the experiment's owner).
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:write"])),
    params(("experiment_id" = String, Path, format = Uuid), ("offer_id" = String, Path, format = Uuid)),
    request_body = OfferAnswer,
    responses((status = 200, body = HelpOffer), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[put("/experiments/{experiment_id}/help-offers/{offer_id}")]
pub async fn answer_offer(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonBody<OfferAnswer>,
) -> ApiResult<web::Json<HelpOffer>> {
    let answer = body.0.state;
    if answer != "accepted" && answer != "dismissed" {
        return Err(ApiError::invalid("state", "invalid_value", "must be accepted or dismissed"));
    }
    let ((id, offer_id), now) = (path.into_inner(), state.now());
    let offer = state
        .db
        .write(move |conn| {
            let (_, row) = find_visible(conn, &caller, &id, Action::WorkOnExperiments)?;
            owner_only(&row, &caller)?;
            let offer = store::find_offer(conn, &offer_id)?.filter(|o| o.1 == row.id).ok_or(ApiError::NotFound)?;
            if !store::answer_offer(conn, &offer.0, &answer)? {
                return Err(ApiError::conflict("offer_answered", "This offer has been answered already."));
            }
            let answered: EventPayload = if answer == "accepted" {
                ev::ExperimentHelpAccepted {}.into()
            } else {
                ev::ExperimentHelpDismissed {}.into()
            };
            experiment_event(answered, &caller, &row).record(conn, now)?;
            Ok(offer_view(store::find_offer(conn, &offer.0)?.ok_or(ApiError::NotFound)?))
        })
        .await?;
    Ok(web::Json(offer))
}

/// What a celebration answers: the experiment's new count, and that you are among them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Celebrated {
    pub celebrations: i64,
    pub celebrated_by_me: bool,
}

/// Celebrate someone's experiment; once per peer (again answers 200 and counts once).
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:write"])),
    params(("experiment_id" = String, Path, format = Uuid)),
    responses(
        (status = 201, description = "Celebrated", body = Celebrated),
        (status = 200, description = "Already celebrated", body = Celebrated),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict)
    )
)]
#[post("/experiments/{experiment_id}/celebrations")]
pub async fn celebrate(state: web::Data<AppState>, caller: Caller, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let (id, now) = (path.into_inner(), state.now());
    let (created, count) = state
        .db
        .write(move |conn| {
            let (_, row) = find_visible(conn, &caller, &id, Action::WorkOnExperiments)?;
            if row.owner_id == caller.user_id() {
                return Err(ApiError::conflict("own_experiment", "Others celebrate your experiments."));
            }
            let created = store::celebrate(conn, &row.id, caller.user_id(), now)?;
            if created {
                experiment_event(ev::ExperimentCelebrated {}, &caller, &row).record(conn, now)?;
            }
            let count =
                store::celebration_counts(conn, std::slice::from_ref(&row.id))?.get(&row.id).copied().unwrap_or(0);
            Ok((created, count))
        })
        .await?;
    let body = Celebrated { celebrations: count, celebrated_by_me: true };
    Ok(if created { HttpResponse::Created().json(body) } else { HttpResponse::Ok().json(body) })
}

/// The offers of help on an experiment, oldest first: all of them for its owner, your own for
/// anyone else who may see it.
#[utoipa::path(
    tag = "experiments",
    security(("bearer" = []), ("personal_token" = ["experiments:read"])),
    params(("experiment_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<HelpOffer>)), (status = 404, response = NotFound))
)]
#[get("/experiments/{experiment_id}/help-offers")]
pub async fn list_offers(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<HelpOffer>>> {
    let page = query.into_inner().validate()?;
    let (id, request) = (path.into_inner(), page.clone());
    let rows = state
        .db
        .read(move |conn| {
            let (_, row) = find_visible(conn, &caller, &id, Action::ReadExperiments)?;
            let only = (row.owner_id != *caller.user_id()).then(|| caller.user_id());
            store::offers(conn, &row.id, only, &request)
        })
        .await?;
    Ok(web::Json(Page::from_rows(rows, &page, |r| Cursor { created_at: r.5, id: r.0.clone() }, offer_view)))
}
