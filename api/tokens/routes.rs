//! `/api/v1/me/tokens`: create, list and revoke personal access tokens. Only a signed-in user
//! may do this: a token can never mint or manage tokens.

use actix_web::{HttpResponse, delete, get, post, web};

use super::model::{CreatedToken, NewToken, PersonalToken, TokenRow};
use super::store;
use crate::auth::Caller;
use crate::auth::scopes::Scope;
use crate::db::UserId;
use crate::error::{ApiError, ApiResult};
use crate::events::{EventPayload, NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::NotFound;
use crate::pagination::{Cursor, Page, PageParams};
use crate::state::AppState;
use crate::validation::{self, Checks, Invalid};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_token).service(list_tokens).service(revoke_token);
}

/// An event about a token, done by its owner.
fn token_event<'a>(payload: impl Into<EventPayload>, user_id: &'a UserId, token_id: &'a str) -> NewEvent<'a> {
    NewEvent::new(payload, token_id).by(user_id)
}

/// Create a personal access token. The secret is in this answer only.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    request_body = NewToken,
    responses((status = 201, description = "Created; keep `token` now, it is not shown again", body = CreatedToken))
)]
#[post("/me/tokens")]
pub async fn create_token(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<NewToken>,
) -> ApiResult<HttpResponse> {
    caller.require_sign_in()?;
    caller.require_confirmed_address()?;
    let body = body.0;
    let now = state.now();
    let mut checks = Checks::new();
    let name = checks.require("name", body.name, validation::label);
    let scopes: Vec<Scope> = checks
        .require("scopes", body.scopes, |names: Vec<String>| {
            if names.is_empty() {
                return Err(Invalid::new("required", "name at least one scope"));
            }
            Ok(names)
        })
        .into_iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let scope = Scope::parse(&name);
            if scope.is_none() {
                checks.fail(&format!("scopes[{i}]"), Invalid::new("unknown_scope", format!("{name:?} is not a scope")));
            }
            scope
        })
        .collect();
    if let Some(at) = body.expires_at {
        if at <= now {
            checks.fail("expires_at", Invalid::new("in_the_past", "must be in the future"));
        } else if let Err(invalid) = validation::instant(at) {
            checks.fail("expires_at", invalid);
        }
    }
    checks.finish()?;
    let user_id = caller.user.id;
    let created = state
        .db
        .write(move |conn| {
            let (id, secret) = store::create(conn, &user_id, &name, &scopes, body.expires_at, now)?;
            token_event(ev::TokenCreated {}, &user_id, &id).record(conn, now)?;
            let row = store::find(conn, &user_id, &id)?.ok_or(ApiError::NotFound)?;
            Ok(CreatedToken { details: row.into(), token: secret.plain })
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Your personal access tokens that are not revoked (never their secrets), oldest first.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = inline(Page<PersonalToken>)))
)]
#[get("/me/tokens")]
pub async fn list_tokens(
    state: web::Data<AppState>,
    caller: Caller,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<PersonalToken>>> {
    caller.require_sign_in()?;
    let page = query.into_inner().validate()?;
    let (user_id, request) = (caller.user.id, page.clone());
    let rows = state.db.read(move |conn| store::list(conn, &user_id, &request)).await?;
    Ok(web::Json(Page::from_rows(
        rows,
        &page,
        |row: &TokenRow| Cursor { created_at: row.created_at, id: row.id.clone() },
        PersonalToken::from,
    )))
}

/// Revoke a token: it stops working at once.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    params(("token_id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Revoked"), (status = 404, response = NotFound))
)]
#[delete("/me/tokens/{token_id}")]
pub async fn revoke_token(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require_sign_in()?;
    let (token_id, user_id, now) = (path.into_inner(), caller.user.id, state.now());
    state
        .db
        .write(move |conn| {
            if !store::revoke(conn, &user_id, &token_id, now)? {
                return Err(ApiError::NotFound);
            }
            token_event(ev::TokenRevoked {}, &user_id, &token_id).record(conn, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
