//! `/api/v1/cohorts/{cohort_id}/webhooks` and `/api/v1/webhooks/{id}…`: organizers only.

use actix_web::{HttpResponse, delete, get, patch, post, web};

use super::deliver::{self, PING_KIND};
use super::model::{CreatedWebhook, NewWebhook, UpdatedWebhook, Webhook, WebhookDelivery, WebhookPatch, WebhookRow};
use super::{address, sign, store};
use crate::auth::Caller;
use crate::cohorts::access::{self, Action};
use crate::db::{AnyConnection, CohortId, new_id};
use crate::error::{ApiError, ApiResult};
use crate::events::{AudienceRule, EventKind, kind::Audience};
use crate::http::json::JsonBody;
use crate::openapi::{Conflict, NotFound};
use crate::pagination::{Cursor, Page, PageParams};
use crate::state::AppState;
use crate::validation::{Checks, Invalid};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(show_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(list_webhook_deliveries)
        .service(ping_webhook)
        .service(redeliver_webhook_delivery);
}

const MAX_DESCRIPTION: usize = 500;
const MAX_KINDS: usize = 100;

/// Kinds a webhook may ask for: those whose audience can be the whole cohort (experiments count:
/// only those shared with the cohort are sent).
pub fn subscribable(kind: EventKind) -> bool {
    matches!(kind.audience(), AudienceRule::Fixed(Audience::Cohort) | AudienceRule::OfSubject)
}

/// `events` checked: `["*"]`, or known kinds a webhook may receive; stored space-separated.
fn events(kinds: Vec<String>) -> Result<String, Invalid> {
    if kinds.is_empty() {
        return Err(Invalid::new("required", "must name at least one event kind, or be [\"*\"]"));
    }
    if kinds.len() > MAX_KINDS {
        return Err(Invalid::new("too_many", format!("must have at most {MAX_KINDS} kinds")));
    }
    if kinds.iter().any(|k| k == "*") {
        return if kinds.len() == 1 {
            Ok("*".into())
        } else {
            Err(Invalid::new("invalid_event_kinds", "\"*\" stands alone: it already means every kind"))
        };
    }
    let mut known = Vec::new();
    for raw in &kinds {
        match EventKind::parse(raw) {
            Some(kind) if subscribable(kind) => known.push(kind.as_str()),
            Some(_) => {
                return Err(Invalid::new(
                    "event_kind_not_public",
                    format!(
                        "{raw} is seen only by organizers or one person; webhooks receive what the whole cohort may read"
                    ),
                ));
            }
            None => {
                return Err(Invalid::new(
                    "unknown_event_kind",
                    format!("{raw} is not an event kind (see EventKind in the API document)"),
                ));
            }
        }
    }
    known.sort();
    known.dedup();
    Ok(known.join(" "))
}

fn description(raw: String) -> Result<String, Invalid> {
    let text = raw.trim().to_string();
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(Invalid::new("too_long", format!("must be at most {MAX_DESCRIPTION} characters")));
    }
    Ok(text)
}

fn url(raw: String) -> Result<String, Invalid> {
    address::parse(raw).map(|u| u.to_string())
}

/// A URL that passed `url`, resolved and checked: 422 naming `url` when it may not be called.
async fn reachable(state: &AppState, checked: &str) -> ApiResult<()> {
    let parsed = url::Url::parse(checked).map_err(|_| ApiError::invalid("url", "invalid_url", "must be a URL"))?;
    match address::resolve(&parsed, state.webhook_allow_private).await {
        Ok(_) => Ok(()),
        Err(refused) => {
            let invalid = refused.invalid();
            Err(ApiError::invalid("url", invalid.code, invalid.message))
        }
    }
}

/// Register a webhook (organizers): the cohort's events of the kinds asked for are sent to
/// `url`, signed (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`).
/// The URL must be http(s) and resolve to public addresses only (unless the server runs with
/// `ROUNDTABLE_WEBHOOK_ALLOW_PRIVATE=true`). The secret is in this answer only.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("personal_token" = ["webhooks:write"])),
    params(("cohort_id" = String, Path, format = Uuid)),
    request_body = NewWebhook,
    responses((status = 201, body = CreatedWebhook), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/cohorts/{cohort_id}/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    body: JsonBody<NewWebhook>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let cohort_id = path.into_inner();
    // Who may register comes first: a stranger learns nothing from the checks below.
    let caller = {
        let cohort_id = cohort_id.clone();
        state
            .db
            .read(move |conn| access::authorize(conn, &caller, &cohort_id, Action::ManageWebhooks).map(|_| caller))
            .await?
    };
    let mut checks = Checks::new();
    let target = checks.require("url", body.url, url);
    let kinds = checks.require("events", body.events, events);
    let description = checks.optional("description", body.description, description).unwrap_or_default();
    checks.finish()?;
    reachable(&state, &target).await?;
    let now = state.now();
    let created = state
        .db
        .write(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ManageWebhooks)?;
            let secret = sign::new_secret();
            let row = store::insert(
                conn,
                store::NewEndpoint {
                    cohort_id: &cohort_id,
                    url: &target,
                    events: &kinds,
                    description: &description,
                    secret: &secret,
                    created_by: caller.user_id(),
                },
                now,
            )?;
            Ok(CreatedWebhook { webhook: Webhook::new(row, now), secret })
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// A cohort's webhooks (organizers), oldest first, without their secrets.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("personal_token" = ["webhooks:read"])),
    params(("cohort_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<Webhook>)), (status = 404, response = NotFound))
)]
#[get("/cohorts/{cohort_id}/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<CohortId>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<Webhook>>> {
    let page = query.into_inner().validate()?;
    let (cohort_id, request, now) = (path.into_inner(), page.clone(), state.now());
    let rows = state
        .db
        .read(move |conn| {
            access::authorize(conn, &caller, &cohort_id, Action::ReadWebhooks)?;
            store::list(conn, &cohort_id, &request)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        &page,
        |row: &WebhookRow| Cursor { created_at: row.created_at, id: row.id.clone() },
        |row| Webhook::new(row, now),
    )))
}

/// The webhook, once the caller may do `action` in its cohort (404 for a stranger).
fn authorized(conn: &mut AnyConnection, caller: &Caller, id: &str, action: Action) -> ApiResult<WebhookRow> {
    let Some(cohort_id) = store::cohort_of(conn, id)? else {
        caller.require_scope(action.rule().scope)?;
        return Err(ApiError::NotFound);
    };
    access::authorize(conn, caller, &cohort_id, action)?;
    store::find(conn, id)?.ok_or(ApiError::NotFound)
}

/// One webhook (organizers), without its secret.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("personal_token" = ["webhooks:read"])),
    params(("webhook_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Webhook), (status = 404, response = NotFound))
)]
#[get("/webhooks/{webhook_id}")]
pub async fn show_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<web::Json<Webhook>> {
    let (id, now) = (path.into_inner(), state.now());
    let row = state.db.read(move |conn| authorized(conn, &caller, &id, Action::ReadWebhooks)).await?;
    Ok(web::Json(Webhook::new(row, now)))
}

/// Change a webhook (organizers): `url` (checked as at registration), `events`, `description`,
/// `enabled` (turning it on again sends what queued while it was off, oldest first), and
/// `rotate_secret: true`: a new secret, answered once as `secret`; for 24 hours deliveries carry
/// a signature with the old secret beside the new one, so receivers can switch without a gap.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("personal_token" = ["webhooks:write"])),
    params(("webhook_id" = String, Path, format = Uuid)),
    request_body = WebhookPatch,
    responses((status = 200, body = UpdatedWebhook), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[patch("/webhooks/{webhook_id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<WebhookPatch>,
) -> ApiResult<web::Json<UpdatedWebhook>> {
    let body = body.0;
    let id = path.into_inner();
    let caller = {
        let id = id.clone();
        state.db.read(move |conn| authorized(conn, &caller, &id, Action::ManageWebhooks).map(|_| caller)).await?
    };
    let mut checks = Checks::new();
    let target = checks.optional("url", body.url, url);
    let kinds = checks.optional("events", body.events, events);
    let description = checks.optional("description", body.description, description);
    checks.finish()?;
    if let Some(target) = &target {
        reachable(&state, target).await?;
    }
    let now = state.now();
    let rotate = body.rotate_secret == Some(true);
    let enabled = body.enabled;
    let (updated, turned_on) = state
        .db
        .write(move |conn| {
            let row = authorized(conn, &caller, &id, Action::ManageWebhooks)?;
            let new_secret = rotate.then(sign::new_secret);
            let change = store::Change {
                url: target.clone(),
                events: kinds.clone(),
                description: description.clone(),
                enabled,
                new_secret: new_secret.clone(),
            };
            let turned_on = enabled == Some(true) && !row.enabled;
            let row = store::update(conn, &row, change, now)?;
            Ok((UpdatedWebhook { webhook: Webhook::new(row, now), secret: new_secret }, turned_on))
        })
        .await?;
    if turned_on {
        deliver::kick(state);
    }
    Ok(web::Json(updated))
}

/// Remove a webhook and its delivery log (organizers): nothing more is sent to it.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("personal_token" = ["webhooks:write"])),
    params(("webhook_id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Removed"), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[delete("/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    state
        .db
        .write(move |conn| {
            authorized(conn, &caller, &id, Action::ManageWebhooks)?;
            store::delete(conn, &id).map(|_| ())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A webhook's delivery log (organizers), oldest first: status, the endpoint's answer, latency,
/// attempts, the next attempt and the last error of each delivery.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("personal_token" = ["webhooks:read"])),
    params(("webhook_id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = inline(Page<WebhookDelivery>)), (status = 404, response = NotFound))
)]
#[get("/webhooks/{webhook_id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<WebhookDelivery>>> {
    let page = query.into_inner().validate()?;
    let (id, request) = (path.into_inner(), page.clone());
    let rows = state
        .db
        .read(move |conn| {
            authorized(conn, &caller, &id, Action::ReadWebhooks)?;
            store::deliveries(conn, &id, &request)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        &page,
        |row| Cursor { created_at: row.created_at, id: row.id.clone() },
        WebhookDelivery::from,
    )))
}

/// Send a `webhook.ping` event now (organizers), ahead of anything queued; answers its delivery
/// (follow it in the log). Works on a webhook that is turned off too.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("personal_token" = ["webhooks:write"])),
    params(("webhook_id" = String, Path, format = Uuid)),
    responses((status = 202, body = WebhookDelivery), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/webhooks/{webhook_id}/ping")]
pub async fn ping_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (id, now) = (path.into_inner(), state.now());
    let delivery = state
        .db
        .write(move |conn| {
            let row = authorized(conn, &caller, &id, Action::ManageWebhooks)?;
            if !row.enabled {
                return Err(ApiError::conflict(
                    "webhook_disabled",
                    "This webhook is turned off; turn it on to ping it.",
                ));
            }
            let event_id = format!("ping_{}", new_id());
            let body = deliver::ping_body(&row.id, &row.cohort_id, now);
            let new =
                store::NewDelivery { webhook_id: &row.id, event_id: &event_id, seq: 0, kind: PING_KIND, body: &body };
            store::enqueue(conn, &[new], now)?;
            store::find_delivery_by_event(conn, &row.id, &event_id)
        })
        .await?;
    deliver::kick(state);
    Ok(HttpResponse::Accepted().json(WebhookDelivery::from(delivery)))
}

/// Send one delivery again (organizers): a delivered or failed one goes back in the queue, due
/// now, with the same `webhook-id`. 409 `delivery_in_progress` while it is still queued or sent.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("personal_token" = ["webhooks:write"])),
    params(("webhook_id" = String, Path, format = Uuid), ("delivery_id" = String, Path, format = Uuid)),
    responses((status = 202, body = WebhookDelivery), (status = 404, response = NotFound), (status = 409, response = Conflict))
)]
#[post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver_webhook_delivery(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let ((id, delivery_id), now) = (path.into_inner(), state.now());
    let delivery = state
        .db
        .write(move |conn| {
            authorized(conn, &caller, &id, Action::ManageWebhooks)?;
            store::find_delivery(conn, &id, &delivery_id)?.ok_or(ApiError::NotFound)?;
            if !store::redeliver(conn, &delivery_id, now)? {
                return Err(ApiError::conflict(
                    "delivery_in_progress",
                    "This delivery is still queued or being sent; it can be sent again once it is delivered or has failed.",
                ));
            }
            store::find_delivery(conn, &id, &delivery_id)?.ok_or(ApiError::NotFound)
        })
        .await?;
    deliver::kick(state);
    Ok(HttpResponse::Accepted().json(WebhookDelivery::from(delivery)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_the_stream_s_kinds_that_the_whole_cohort_may_read() {
        assert_eq!(events(vec!["*".into()]).unwrap(), "*");
        assert_eq!(
            events(vec!["session.moved".into(), "experiment.done".into(), "session.moved".into()]).unwrap(),
            "experiment.done session.moved"
        );
        assert_eq!(events(vec![]).unwrap_err().code, "required");
        assert_eq!(events(vec!["session.exploded".into()]).unwrap_err().code, "unknown_event_kind");
        assert_eq!(events(vec!["invitation.sent".into()]).unwrap_err().code, "event_kind_not_public");
        assert_eq!(events(vec!["user.signed_up".into()]).unwrap_err().code, "event_kind_not_public");
        assert_eq!(events(vec!["*".into(), "session.moved".into()]).unwrap_err().code, "invalid_event_kinds");
    }
}
