//! `Caller`: the authenticated user making the request, and how they proved it: a sign-in (JWT
//! access token, which may do everything its user may) or a personal access token (`rt_pat_…`,
//! limited to its scopes). Every protected handler takes one; the extractor answers 401
//! problem+json (with `WWW-Authenticate`) before the handler runs.

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::jwt::Rejection;
use super::scopes::Scope;
use super::store;
use crate::accounts::model::UserRow;
use crate::db::{CohortId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::tokens;

pub enum Credential {
    /// A sign-in (refresh-token family) and its access token.
    SignIn { session_id: String },
    /// A personal access token for a third party.
    Token { token_id: String, scopes: Vec<Scope> },
}

pub struct Caller {
    pub user: UserRow,
    pub credential: Credential,
    /// Every check this request passed through (scopes, sign-in, cohort access), so that an
    /// `Idempotency-Key` replay can ask them again of whoever replays (see `http::idempotency`).
    pub checks: CheckLog,
}

/// A check a request made of its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Scope(Scope),
    SignIn,
    /// `cohorts::access::authorize` for this cohort and action.
    Cohort {
        cohort_id: CohortId,
        action: crate::cohorts::access::Action,
    },
}

/// Shared between the request's extensions and every `Caller` extracted from it.
#[derive(Debug, Clone, Default)]
pub struct CheckLog(std::sync::Arc<std::sync::Mutex<Vec<Check>>>);

impl CheckLog {
    pub fn record(&self, check: Check) {
        let mut checks = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !checks.contains(&check) {
            checks.push(check);
        }
    }
    pub fn taken(&self) -> Vec<Check> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

impl Caller {
    pub fn user_id(&self) -> &UserId {
        &self.user.id
    }

    /// 403 `insufficient_scope` unless the credential carries `scope` (sign-ins carry all).
    pub fn require_scope(&self, scope: Scope) -> ApiResult<()> {
        self.checks.record(Check::Scope(scope));
        match &self.credential {
            Credential::SignIn { .. } => Ok(()),
            Credential::Token { scopes, .. } if scopes.contains(&scope) => Ok(()),
            Credential::Token { .. } => Err(ApiError::Forbidden {
                code: "insufficient_scope",
                detail: format!("This token lacks the `{}` scope.", scope.as_str()),
            }),
        }
    }

    /// 403 `email_unconfirmed` until the account's address is confirmed: an account anyone could
    /// have opened with someone else's address may not mint tokens or take invitations meant
    /// for that address.
    pub fn require_confirmed_address(&self) -> ApiResult<()> {
        if self.user.email_verified_at.is_some() {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                code: "email_unconfirmed",
                detail: "Confirm your email address first (the link in the mail we sent, or a sign-in link)."
                    .to_string(),
            })
        }
    }

    /// The recipient of a link in mail acting through it (`notifications::links`), who proved
    /// nothing but holding the link. It is no sign-in (`require_sign_in` refuses it) and carries
    /// only the scopes of its action's area (e.g. `rota:read` and `rota:write`), as a personal
    /// token would, so `cohorts::access::authorize` asks of it all it asks of any caller
    /// (membership, role, paused, archived).
    pub fn for_action_link(user: UserRow, link_id: &str, scopes: &[Scope]) -> Caller {
        Caller {
            user,
            credential: Credential::Token { token_id: format!("action_link:{link_id}"), scopes: scopes.to_vec() },
            checks: CheckLog::default(),
        }
    }

    /// The sign-in behind the request; 403 `sign_in_required` for personal access tokens, which
    /// may never manage the account itself (tokens, sign-ins, profile, deletion).
    pub fn require_sign_in(&self) -> ApiResult<&str> {
        self.checks.record(Check::SignIn);
        match &self.credential {
            Credential::SignIn { session_id } => Ok(session_id),
            Credential::Token { .. } => Err(ApiError::Forbidden {
                code: "sign_in_required",
                detail: "Personal access tokens cannot do this; sign in as the user.".to_string(),
            }),
        }
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

async fn from_access_token(state: &AppState, token: &str) -> ApiResult<Caller> {
    let claims = state.jwt.verify(token, state.now()).map_err(|rejection| match rejection {
        Rejection::Expired => ApiError::unauthorized("token_expired", "The access token has expired; refresh it."),
        Rejection::Invalid => ApiError::unauthorized("invalid_token", "The access token is not valid."),
    })?;
    let (user_id, session_id) = (UserId::from_untyped(claims.sub), claims.sid);
    let sid = session_id.clone();
    let user = state
        .db
        .read(move |conn| store::active_user(conn, &user_id, &sid))
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "This sign-in has ended; sign in again."))?;
    Ok(Caller { user, credential: Credential::SignIn { session_id }, checks: CheckLog::default() })
}

async fn from_personal_token(state: &AppState, token: String) -> ApiResult<Caller> {
    let now = state.now();
    let (user, found) = state
        .db
        .read(move |conn| tokens::store::authenticate(conn, &token, now))
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "The token is unknown, revoked or expired."))?;
    if tokens::store::last_use_is_stale(found.last_used_at, now) {
        let token_id = found.id.clone();
        state.db.write(move |conn| tokens::store::record_use(conn, &token_id, now)).await?;
    }
    Ok(Caller {
        user,
        credential: Credential::Token { token_id: found.id, scopes: found.scopes },
        checks: CheckLog::default(),
    })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let log = req.extensions().get::<CheckLog>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState missing")))?;
            let token = token?;
            let mut caller = if token.starts_with(tokens::store::PREFIX) {
                from_personal_token(&state, token).await?
            } else {
                from_access_token(&state, &token).await?
            };
            if let Some(log) = log {
                caller.checks = log;
            }
            Ok(caller)
        })
    }
}
