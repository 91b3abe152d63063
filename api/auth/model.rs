use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// Request fields are `Option` so that one 422 can name every missing field at once; the
// schema still marks them required.

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({
    "email": "ada@example.com", "password": "correct horse battery",
    "display_name": "Ada", "time_zone": "Europe/Berlin", "locale": "en"
}))]
pub struct SignupRequest {
    #[schema(value_type = String, required = true)]
    pub email: Option<String>,
    /// 8 to 128 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128)]
    pub password: Option<String>,
    #[schema(value_type = String, required = true, max_length = 80)]
    pub display_name: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin`.
    #[schema(value_type = String, required = true)]
    pub time_zone: Option<String>,
    /// BCP 47 language tag (default `en`).
    pub locale: Option<String>,
    /// On an instance that admits only invited people (`GET /api/v1/instance` says `signup:
    /// "invite-only"`): the code of an invite link (`rt_join_…`, or the whole link as pasted).
    /// Not needed with a pending invitation mailed to `email`. Signing up does not use the link
    /// up; joining with it does. Ignored when sign-up is open.
    #[schema(example = "rt_join_…")]
    pub invite_code: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    #[schema(value_type = String, required = true)]
    pub email: Option<String>,
    #[schema(value_type = String, required = true)]
    pub password: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RefreshRequest {
    #[schema(value_type = String, required = true)]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct EmailRequest {
    #[schema(value_type = String, required = true)]
    pub email: Option<String>,
}

/// The secret from a link in a mail.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RedeemRequest {
    #[schema(value_type = String, required = true)]
    pub token: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ResetPasswordRequest {
    #[schema(value_type = String, required = true)]
    pub token: Option<String>,
    /// The new password, 8 to 128 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128)]
    pub password: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String, required = true)]
    pub current_password: Option<String>,
    /// The new password, 8 to 128 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128)]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiJ9...", "refresh_token": "rt_rf_Q2hhbmdlIG1l...",
    "token_type": "Bearer", "expires_in": 900
}))]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Single use: each refresh returns a new one. Using one twice ends the sign-in.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// Always true; the answer is the same whether or not the address has an account.
    pub accepted: bool,
}
