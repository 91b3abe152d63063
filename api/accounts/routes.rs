//! `/api/v1/me`: the signed-in user's own account and sign-ins.

use actix_web::{HttpResponse, delete, get, patch, web};

use super::model::{ProfileChanges, SignIn, SignInRow, UpdateMe, User};
use super::store;
use crate::auth::Caller;
use crate::auth::store as auth_store;
use crate::error::{ApiError, ApiResult};
use crate::events::{NewEvent, changed_fields, kind as ev};
use crate::http::json::JsonBody;
use crate::openapi::NotFound;
use crate::pagination::{Cursor, Page, PageParams};
use crate::state::AppState;
use crate::validation::{self, Checks};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_me).service(update_me).service(delete_me).service(list_sign_ins).service(end_sign_in);
}

/// The signed-in user.
#[utoipa::path(tag = "me", security(("bearer" = [])), responses((status = 200, body = User)))]
#[get("/me")]
pub async fn get_me(caller: Caller) -> web::Json<User> {
    web::Json(User::from(caller.user))
}

/// Change your name, time zone or language.
#[utoipa::path(tag = "me", security(("bearer" = [])), request_body = UpdateMe, responses((status = 200, body = User)))]
#[patch("/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<UpdateMe>,
) -> ApiResult<web::Json<User>> {
    caller.require_sign_in()?;
    let body = body.0;
    let mut checks = Checks::new();
    let changes = ProfileChanges {
        display_name: checks.optional("display_name", body.display_name, validation::display_name),
        time_zone: checks.optional("time_zone", body.time_zone, validation::time_zone),
        locale: checks.optional("locale", body.locale, validation::locale),
        updated_at: Some(state.now().naive_utc()),
    };
    checks.finish()?;
    let changed = changed_fields(&[
        ("display_name", changes.display_name.is_some()),
        ("time_zone", changes.time_zone.is_some()),
        ("locale", changes.locale.is_some()),
    ]);
    if changed.is_empty() {
        return Ok(web::Json(User::from(caller.user)));
    }
    let now = state.now();
    let user = state
        .db
        .write(move |conn| {
            let id = caller.user.id.clone();
            store::update_profile(conn, &id, &changes)?;
            NewEvent::new(ev::UserUpdated { changed: changed.clone() }, &id).by(&id).record(conn, now)?;
            store::find(conn, &id)?.ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(web::Json(User::from(user)))
}

/// Delete your account and its personal data (profile, sign-ins, pending mail). Cannot be undone.
#[utoipa::path(tag = "me", security(("bearer" = [])), responses((status = 204, description = "Account deleted")))]
#[delete("/me")]
pub async fn delete_me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require_sign_in()?;
    let now = state.now();
    state
        .db
        .write(move |conn| {
            let id = caller.user.id.clone();
            // Places they held in upcoming skill shares go to the waitlists, and what they were to
            // present leaves the agendas, before the rows go with the account.
            crate::skillshares::roster::release_person(conn, &id, None, true, &id, now)?;
            store::delete(conn, &id)?;
            // The event keeps only the (now meaningless) id: no name, no address.
            NewEvent::new(ev::UserDeleted {}, &id).record(conn, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Your active sign-ins (devices and apps), oldest first.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = inline(Page<SignIn>)))
)]
#[get("/me/sign-ins")]
pub async fn list_sign_ins(
    state: web::Data<AppState>,
    caller: Caller,
    query: crate::http::Query<PageParams>,
) -> ApiResult<web::Json<Page<SignIn>>> {
    let current = caller.require_sign_in()?.to_string();
    let page = query.into_inner().validate()?;
    let user_id = caller.user.id.clone();
    let request = page.clone();
    let rows = state.db.read(move |conn| store::sign_ins(conn, &user_id, &request)).await?;
    Ok(web::Json(Page::from_rows(
        rows,
        &page,
        |row: &SignInRow| Cursor { created_at: row.created_at, id: row.id.clone() },
        |row| SignIn {
            current: row.id == current,
            id: row.id,
            method: row.method,
            user_agent: row.user_agent,
            created_at: row.created_at.and_utc(),
            last_used_at: row.last_used_at.and_utc(),
        },
    )))
}

/// End one of your sign-ins (e.g. a lost phone). Its tokens stop working at once.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(("sign_in_id" = String, Path, format = Uuid)),
    responses(
        (status = 204, description = "Signed out there"),
        (status = 404, response = NotFound),
    )
)]
#[delete("/me/sign-ins/{sign_in_id}")]
pub async fn end_sign_in(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require_sign_in()?;
    let sign_in_id = path.into_inner();
    let now = state.now();
    let user_id = caller.user.id;
    let ended = state.db.write(move |conn| auth_store::revoke_own_session(conn, &user_id, &sign_in_id, now)).await?;
    if ended { Ok(HttpResponse::NoContent().finish()) } else { Err(ApiError::NotFound) }
}
