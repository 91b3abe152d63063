//! `Caller`: the authenticated user making the request. Every protected handler takes one; the
//! extractor answers 401 problem+json (with `WWW-Authenticate`) before the handler runs.

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::jwt::Rejection;
use super::store;
use crate::accounts::model::UserRow;
use crate::error::ApiError;
use crate::state::AppState;

pub struct Caller {
    pub user: UserRow,
    /// The sign-in (refresh-token family) the access token belongs to.
    pub session_id: String,
}

impl Caller {
    pub fn user_id(&self) -> &str {
        &self.user.id
    }
}

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing_token", "Send Authorization: Bearer <token>."))?;
    let text = value.to_str().unwrap_or("");
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(token.trim().to_string())
        }
        _ => Err(ApiError::unauthorized("invalid_token", "The Authorization header must be `Bearer <token>`.")),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState missing")))?;
            let token = token?;
            let claims = state.jwt.verify(&token, state.now()).map_err(|rejection| match rejection {
                Rejection::Expired => {
                    ApiError::unauthorized("token_expired", "The access token has expired; refresh it.")
                }
                Rejection::Invalid => ApiError::unauthorized("invalid_token", "The access token is not valid."),
            })?;
            let (user_id, session_id) = (claims.sub, claims.sid);
            let sid = session_id.clone();
            let user = state
                .db
                .read(move |conn| store::active_user(conn, &user_id, &sid))
                .await?
                .ok_or_else(|| ApiError::unauthorized("invalid_token", "This sign-in has ended; sign in again."))?;
            Ok(Caller { user, session_id })
        })
    }
}
