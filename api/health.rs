//! `/healthz`: the process answers. `/readyz`: the database answers and is fully migrated, so a
//! load balancer sends traffic only to replicas that can serve it.

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Backend;
use crate::error::{ApiError, ApiResult};
use crate::openapi::NotReady;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: &'static str,
    pub backend: Backend,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// The database is reachable and every migration is applied.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, body = Readiness),
        (status = 503, response = NotReady),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<web::Json<Readiness>> {
    let database = state.db.clone();
    let check =
        tokio::task::spawn_blocking(move || database.readiness()).await.map_err(|e| ApiError::Internal(e.into()))?;
    match check {
        Ok(()) => Ok(web::Json(Readiness { status: "ready", backend: state.db.backend() })),
        Err(reason) => {
            tracing::warn!(reason, "not ready");
            Err(ApiError::ServiceUnavailable { code: "not_ready", detail: reason.to_string() })
        }
    }
}
