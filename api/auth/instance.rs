//! `GET /api/v1/instance`: what a client needs to know about this server before anyone signs in
//! (today: who may sign up), so the app can say "invited people only" before the form.

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::SignupMode;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Instance {
    /// `open`: anyone may sign up. `invite-only`: only an address with a pending invitation to
    /// a cohort, or someone giving an invite link's code in the sign-up's `invite_code`.
    pub signup: SignupMode,
}

/// This server's sign-up rule; no sign-in needed.
#[utoipa::path(tag = "auth", responses((status = 200, body = Instance)))]
#[get("/instance")]
pub async fn instance(state: web::Data<AppState>) -> web::Json<Instance> {
    web::Json(Instance { signup: state.signup })
}
