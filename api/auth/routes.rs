//! `/api/v1/auth/*`: sign up, sign in (password or magic link), refresh, sign out, password reset
//! and email verification.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};

use super::caller::Credential;
use super::model::{
    Accepted, ChangePasswordRequest, EmailRequest, LoginRequest, RedeemRequest, RefreshRequest, ResetPasswordRequest,
    SignupRequest, TokenResponse,
};
use super::store::{self, LinkPurpose, Rotation};
use super::{Caller, jwt, password};
use crate::accounts::model::{User, UserRow};
use crate::accounts::store as accounts;
use crate::config::SignupMode;
use crate::db::{AnyConnection, UserId};
use crate::error::{ApiError, ApiResult, Problem};
use crate::events::{EventPayload, NewEvent, kind as ev};
use crate::http::client_ip;
use crate::http::json::JsonBody;
use crate::mail::{OutgoingMail, outbox, templates};
use crate::openapi::{Conflict, InvalidLink, RateLimited};
use crate::state::AppState;
use crate::validation::{self, Checks, Invalid};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(super::instance::instance)
        .service(signup)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(request_magic_link)
        .service(redeem_magic_link)
        .service(request_password_reset)
        .service(redeem_password_reset)
        .service(change_password)
        .service(resend_email_verification)
        .service(redeem_email_verification);
}

fn present(raw: String) -> Result<String, Invalid> {
    if raw.is_empty() { Err(Invalid::new("required", "must not be empty")) } else { Ok(raw) }
}

async fn hash_password(plain: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || password::hash(&plain))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(ApiError::Internal)
}

fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// An event about a user, done by that user.
fn user_event(payload: impl Into<EventPayload>, user_id: &UserId) -> NewEvent<'_> {
    NewEvent::new(payload, user_id.as_str()).by(user_id)
}

/// How the owner of an address proved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof<'a> {
    /// A link from a mail, used while signed in to this account with its password (or a link):
    /// whoever set the password is whoever holds the address.
    SignedIn(&'a str),
    /// A link from a mail, used by someone not signed in to this account.
    Link,
    /// A password-reset link: the owner sets the password now.
    Reset,
}

/// Marks the address confirmed (whoever used a link sent to it owns it), recording it the first
/// time. That first time the account may have been opened by someone else with this address (a
/// squatter who signed up first and chose the password), so nothing they started may outlive the
/// owner's proof: every other sign-in and every personal token ends, and when the proof came
/// without a sign-in of this account (`Proof::Link`), the password set at sign-up stops working
/// too (the owner signs in with links, or sets one with a reset).
pub fn confirm_email(
    conn: &mut AnyConnection,
    user_id: &UserId,
    proof: Proof<'_>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if accounts::mark_email_verified(conn, user_id, now)? {
        let keep = match proof {
            Proof::SignedIn(session_id) => Some(session_id),
            Proof::Link | Proof::Reset => None,
        };
        store::revoke_all_sessions(conn, user_id, keep, "address_proven", now)?;
        crate::tokens::store::revoke_all(conn, user_id, now)?;
        if proof == Proof::Link {
            accounts::set_password(conn, user_id, UNPROVEN_PASSWORD, now)?;
        }
        user_event(ev::UserEmailVerified {}, user_id).record(conn, now)?;
    }
    Ok(())
}

/// What replaces a password nobody proved: no password matches it (it is not a hash).
const UNPROVEN_PASSWORD: &str = "!unproven";

/// After a password reset or change: every personal token ends too, and the owner is told.
fn password_replaced(conn: &mut AnyConnection, user_id: &UserId, base_url: &str, now: DateTime<Utc>) -> ApiResult<()> {
    crate::tokens::store::revoke_all(conn, user_id, now)?;
    let user = accounts::find(conn, user_id)?.ok_or(ApiError::NotFound)?;
    let reset = format!("{base_url}/app/reset-password");
    outbox::enqueue(conn, &templates::password_changed(&user, &reset), now)?;
    Ok(())
}

/// Starts a sign-in for the user and answers with its first tokens.
async fn sign_in(
    state: &AppState,
    user_id: UserId,
    method: &'static str,
    agent: Option<String>,
) -> ApiResult<TokenResponse> {
    let now = state.now();
    let uid = user_id.clone();
    let (session_id, refresh_secret) =
        state.db.write(move |conn| store::start_session(conn, &uid, method, agent.as_deref(), now)).await?;
    tokens(state, &user_id, &session_id, refresh_secret.plain)
}

fn tokens(state: &AppState, user_id: &UserId, session_id: &str, refresh_token: String) -> ApiResult<TokenResponse> {
    let access_token = state.jwt.issue(user_id, session_id, state.now())?;
    Ok(TokenResponse { access_token, refresh_token, token_type: "Bearer", expires_in: jwt::ACCESS_TOKEN_SECONDS })
}

/// Create an account. A mail asks to confirm the address; signing in works before that. On an
/// instance that admits only invited people (`ROUNDTABLE_SIGNUP=invite-only`, shown by `GET
/// /api/v1/instance`), only an address with a pending invitation to a cohort, or someone giving
/// a usable invite link's code in `invite_code`, may sign up; anyone else gets 403
/// `signup_invite_only` (no account is made, no mail sent).
#[utoipa::path(
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Account created", body = User, headers(("location" = String))),
        (status = 403, description = "`signup_invite_only`: this instance admits only invited people, and the address has no pending invitation (nor was a usable invite link's code given)", body = Problem, content_type = "application/problem+json"),
        (status = 409, response = Conflict),
        (status = 429, response = RateLimited),
    )
)]
#[post("/auth/signup")]
pub async fn signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<SignupRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut checks = Checks::new();
    let email = checks.require("email", body.email, validation::email);
    let plain_password = checks.require("password", body.password, validation::password);
    let display_name = checks.require("display_name", body.display_name, validation::display_name);
    let time_zone = checks.require("time_zone", body.time_zone, validation::time_zone);
    let locale = checks.optional("locale", body.locale, validation::locale).unwrap_or_else(|| "en".to_string());
    let invite_only = state.signup == SignupMode::InviteOnly;
    let invite_code = if invite_only {
        checks.optional("invite_code", body.invite_code, crate::invitations::links::code_from)
    } else {
        None
    };
    checks.finish()?;
    let email_key = validation::email_key(&email);
    state.throttle.mail(client_ip(&req), &email_key, state.now()).await?;

    let password_hash = hash_password(plain_password).await?;
    let now = state.now().naive_utc();
    let row = UserRow {
        id: UserId::new(),
        email,
        email_lower: email_key,
        password_hash,
        display_name,
        time_zone,
        locale,
        email_verified_at: None,
        created_at: now,
        updated_at: now,
    };
    let base_url = state.base_url.clone();
    let now = state.now();
    let user = state
        .db
        .write(move |conn| {
            if invite_only {
                let code_hash = invite_code.as_deref().map(super::secrets::hash);
                if !crate::invitations::store::admits_signup(conn, &row.email_lower, code_hash.as_deref(), now)? {
                    return Err(invite_only_refusal(invite_code.is_some()));
                }
            }
            accounts::insert(conn, &row)?;
            let secret = store::create_link(conn, &row.id, LinkPurpose::EmailVerification, now)?;
            let link = templates::link(&base_url, "verify-email", &secret.plain);
            outbox::enqueue(conn, &templates::verify_email(&row, &link), now)?;
            user_event(ev::UserSignedUp {}, &row.id).record(conn, now)?;
            Ok(row.clone())
        })
        .await?;
    state.mailer.wake();
    Ok(HttpResponse::Created().insert_header((header::LOCATION, "/api/v1/me")).json(User::from(user)))
}

/// Why an invite-only instance refused a sign-up.
fn invite_only_refusal(gave_code: bool) -> ApiError {
    let detail = if gave_code {
        "This server admits only invited people, and the invite link (invite_code) is unknown, has expired, was \
         revoked or is used up. Ask the cohort's organizer for a new one."
    } else {
        "This server admits only invited people: sign up with the address your invitation was mailed to, or \
         give the code of an invite link in invite_code."
    };
    ApiError::Forbidden { code: "signup_invite_only", detail: detail.to_string() }
}

/// Sign in with email and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 429, response = RateLimited),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<LoginRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let body = body.0;
    let mut checks = Checks::new();
    let email = checks.require("email", body.email, present);
    let plain_password = checks.require("password", body.password, present);
    checks.finish()?;
    let email_key = validation::email_key(&email);
    state.throttle.password(client_ip(&req), &email_key, state.now()).await?;

    let user = state.db.read(move |conn| accounts::find_by_email_key(conn, &email_key)).await?;
    let user_id = tokio::task::spawn_blocking(move || match user {
        Some(user) if password::verify(&plain_password, &user.password_hash) => Some(user.id),
        Some(_) => None,
        None => {
            password::spend_equal_time(&plain_password);
            None
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .ok_or_else(|| ApiError::unauthorized("invalid_credentials", "The email address or the password is wrong."))?;
    Ok(web::Json(sign_in(&state, user_id, "password", user_agent(&req)).await?))
}

/// Trade a refresh token for new tokens. Each refresh token works once; presenting a used one
/// ends the whole sign-in, since a copy of it is in someone else's hands.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the old refresh token is used up", body = TokenResponse),
        (status = 401, description = "`invalid_refresh_token` or `refresh_token_reused`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: JsonBody<RefreshRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let mut checks = Checks::new();
    let presented = checks.require("refresh_token", body.0.refresh_token, present);
    checks.finish()?;
    let now = state.now();
    match state.db.write(move |conn| store::rotate_refresh(conn, &presented, now)).await? {
        Rotation::Rotated(r) => Ok(web::Json(tokens(&state, &r.user_id, &r.session_id, r.refresh.plain)?)),
        Rotation::Reused => Err(ApiError::unauthorized(
            "refresh_token_reused",
            "This refresh token was already used; the sign-in has been ended. Sign in again.",
        )),
        Rotation::Invalid => Err(ApiError::unauthorized("invalid_refresh_token", "The refresh token is not valid.")),
    }
}

/// Sign out: ends the sign-in the refresh token belongs to, including its access tokens.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Signed out (also when the token was unknown or already ended)"))
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, body: JsonBody<RefreshRequest>) -> ApiResult<HttpResponse> {
    let mut checks = Checks::new();
    let presented = checks.require("refresh_token", body.0.refresh_token, present);
    checks.finish()?;
    let now = state.now();
    state
        .db
        .write(move |conn| {
            if let Some(session_id) = store::session_of_refresh(conn, &presented)? {
                store::revoke_session(conn, &session_id, "signed_out", now)?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Queues a link mail for the address if it has an account; answers the same either way.
async fn mail_link(
    state: &AppState,
    req: &HttpRequest,
    body: EmailRequest,
    purpose: LinkPurpose,
    path: &'static str,
    template: fn(&UserRow, &str) -> OutgoingMail,
) -> ApiResult<HttpResponse> {
    let mut checks = Checks::new();
    let email = checks.require("email", body.email, validation::email);
    checks.finish()?;
    let email_key = validation::email_key(&email);
    state.throttle.mail(client_ip(req), &email_key, state.now()).await?;
    let (now, base_url) = (state.now(), state.base_url.clone());
    state
        .db
        .write(move |conn| {
            if let Some(user) = accounts::find_by_email_key(conn, &email_key)? {
                let secret = store::create_link(conn, &user.id, purpose, now)?;
                outbox::enqueue(conn, &template(&user, &templates::link(&base_url, path, &secret.plain)), now)?;
            }
            Ok(())
        })
        .await?;
    state.mailer.wake();
    Ok(HttpResponse::Accepted().json(Accepted { accepted: true }))
}

/// Mail a single-use sign-in link (valid 15 minutes). The answer never says whether the address
/// has an account.
#[utoipa::path(
    tag = "auth",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "If the address has an account, a link is on its way", body = Accepted),
        (status = 429, response = RateLimited),
    )
)]
#[post("/auth/magic-links")]
pub async fn request_magic_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<EmailRequest>,
) -> ApiResult<HttpResponse> {
    mail_link(&state, &req, body.0, LinkPurpose::MagicLink, "magic-link", templates::magic_link).await
}

/// Sign in with the secret from a magic-link mail. It also confirms the address.
#[utoipa::path(
    tag = "auth",
    request_body = RedeemRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, response = InvalidLink),
    )
)]
#[post("/auth/magic-links/redeem")]
pub async fn redeem_magic_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<RedeemRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let mut checks = Checks::new();
    let token = checks.require("token", body.0.token, present);
    checks.finish()?;
    let now = state.now();
    let agent = user_agent(&req);
    let (user_id, session_id, secret) = state
        .db
        .write(move |conn| {
            let user_id = store::redeem_link(conn, &token, LinkPurpose::MagicLink, now)?;
            confirm_email(conn, &user_id, Proof::Link, now)?;
            let (session_id, secret) = store::start_session(conn, &user_id, "magic_link", agent.as_deref(), now)?;
            Ok((user_id, session_id, secret))
        })
        .await?;
    Ok(web::Json(tokens(&state, &user_id, &session_id, secret.plain)?))
}

/// Mail a single-use password-reset link (valid 15 minutes). The answer never says whether the
/// address has an account.
#[utoipa::path(
    tag = "auth",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "If the address has an account, a link is on its way", body = Accepted),
        (status = 429, response = RateLimited),
    )
)]
#[post("/auth/password-resets")]
pub async fn request_password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<EmailRequest>,
) -> ApiResult<HttpResponse> {
    mail_link(&state, &req, body.0, LinkPurpose::PasswordReset, "reset-password", templates::password_reset).await
}

/// Set a new password with the secret from a reset mail. Every existing sign-in is ended.
#[utoipa::path(
    tag = "auth",
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password changed; sign in again"),
        (status = 401, response = InvalidLink),
        (status = 429, response = RateLimited),
    )
)]
#[post("/auth/password-resets/redeem")]
pub async fn redeem_password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<ResetPasswordRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut checks = Checks::new();
    let token = checks.require("token", body.token, present);
    let new_password = checks.require("password", body.password, validation::password);
    checks.finish()?;
    // Hashing is costly: budget it per IP like a sign-in attempt.
    state.throttle.client(client_ip(&req), state.now()).await?;
    let password_hash = hash_password(new_password).await?;
    let (now, base_url) = (state.now(), state.base_url.clone());
    state
        .db
        .write(move |conn| {
            let user_id = store::redeem_link(conn, &token, LinkPurpose::PasswordReset, now)?;
            accounts::set_password(conn, &user_id, &password_hash, now)?;
            store::revoke_all_sessions(conn, &user_id, None, "password_reset", now)?;
            confirm_email(conn, &user_id, Proof::Reset, now)?;
            password_replaced(conn, &user_id, &base_url, now)?;
            user_event(ev::UserPasswordReset {}, &user_id).record(conn, now)?;
            Ok(())
        })
        .await?;
    state.mailer.wake();
    Ok(HttpResponse::NoContent().finish())
}

/// Change your password, knowing the current one. Every other sign-in is ended; this one stays.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed"),
        (status = 429, response = RateLimited),
    )
)]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let current_session = caller.require_sign_in()?.to_string();
    let body = body.0;
    let mut checks = Checks::new();
    let current = checks.require("current_password", body.current_password, present);
    let new_password = checks.require("password", body.password, validation::password);
    checks.finish()?;
    state.throttle.password(client_ip(&req), &caller.user.email_lower, state.now()).await?;
    let stored = caller.user.password_hash.clone();
    let matches = tokio::task::spawn_blocking(move || password::verify(&current, &stored))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    if !matches {
        return Err(ApiError::invalid("current_password", "incorrect", "is not your current password"));
    }
    let password_hash = hash_password(new_password).await?;
    let (user_id, now, base_url) = (caller.user.id, state.now(), state.base_url.clone());
    state
        .db
        .write(move |conn| {
            accounts::set_password(conn, &user_id, &password_hash, now)?;
            store::revoke_all_sessions(conn, &user_id, Some(&current_session), "password_changed", now)?;
            password_replaced(conn, &user_id, &base_url, now)?;
            user_event(ev::UserPasswordChanged {}, &user_id).record(conn, now)
        })
        .await?;
    state.mailer.wake();
    Ok(HttpResponse::NoContent().finish())
}

/// Send the confirmation mail again.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new confirmation link is on its way", body = Accepted),
        (status = 409, response = Conflict),
        (status = 429, response = RateLimited),
    )
)]
#[post("/auth/email-verifications")]
pub async fn resend_email_verification(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    caller.require_sign_in()?;
    let user = caller.user;
    if user.email_verified_at.is_some() {
        return Err(ApiError::conflict("already_verified", "This email address is already confirmed."));
    }
    state.throttle.mail(client_ip(&req), &user.email_lower, state.now()).await?;
    let (now, base_url) = (state.now(), state.base_url.clone());
    state
        .db
        .write(move |conn| {
            let secret = store::create_link(conn, &user.id, LinkPurpose::EmailVerification, now)?;
            let link = templates::link(&base_url, "verify-email", &secret.plain);
            outbox::enqueue(conn, &templates::verify_email(&user, &link), now)
        })
        .await?;
    state.mailer.wake();
    Ok(HttpResponse::Accepted().json(Accepted { accepted: true }))
}

/// Confirm an email address with the secret from the confirmation mail. Send your bearer token
/// too when you are signed in to that account (the app does): the first confirmation ends every
/// other sign-in and token, and when it comes without a sign-in of the account, the password
/// chosen at sign-up stops working as well (someone else may have chosen it), so sign in with a
/// link or set a password with a reset.
#[utoipa::path(
    tag = "auth",
    request_body = RedeemRequest,
    responses(
        (status = 204, description = "Address confirmed"),
        (status = 401, response = InvalidLink),
    )
)]
#[post("/auth/email-verifications/redeem")]
pub async fn redeem_email_verification(
    state: web::Data<AppState>,
    caller: Option<Caller>,
    body: JsonBody<RedeemRequest>,
) -> ApiResult<HttpResponse> {
    let mut checks = Checks::new();
    let token = checks.require("token", body.0.token, present);
    checks.finish()?;
    let now = state.now();
    // Signed in to the account the link is for: that sign-in (and its password) is the owner's.
    let signed_in = caller.and_then(|c| match c.credential {
        Credential::SignIn { session_id } => Some((c.user.id, session_id)),
        Credential::Token { .. } => None,
    });
    state
        .db
        .write(move |conn| {
            let user_id = store::redeem_link(conn, &token, LinkPurpose::EmailVerification, now)?;
            let proof = match &signed_in {
                Some((id, session_id)) if *id == user_id => Proof::SignedIn(session_id),
                _ => Proof::Link,
            };
            confirm_email(conn, &user_id, proof, now)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
