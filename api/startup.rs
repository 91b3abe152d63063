//! Builds the application: database, state, routes and their OpenAPI document (registered
//! together, so the document cannot drift from the routes), background jobs, and the server.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use diesel::prelude::*;
use tokio_cron_scheduler::{Job, JobScheduler};
use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::JwtKeys;
use crate::auth::throttle::Throttle;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::schema::instance_settings;
use crate::db::{AnyConnection, Db};
use crate::error::{ApiError, ApiResult};
use crate::http::fallback::{self, KnownRoutes};
use crate::http::json::BodyLimit;
use crate::http::{guard, idempotency, request_id};
use crate::jobs::{Job as PeriodicJob, Jobs, Outcome};
use crate::mail::Mailer;
use crate::state::AppState;
use crate::{
    accounts, auth, charter, cohorts, experiments, feeds, health, invitations, notifications, openapi, rota, sessions,
    skillshares, tokens, webhooks,
};

/// Every route, in one place: the server and the OpenAPI document are both built from this.
fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .configure(notifications::link_pages::pages)
        .configure(feeds::routes::pages)
        .configure(crate::http::app::routes)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .configure(auth::routes::routes)
                .configure(accounts::routes::routes)
                .configure(notifications::preferences::routes)
                .configure(notifications::inbox::routes)
                .configure(notifications::routes::routes)
                .configure(notifications::link_pages::routes)
                .configure(tokens::routes::routes)
                .configure(cohorts::routes::routes)
                .configure(cohorts::members::routes)
                .configure(invitations::routes::routes)
                .configure(invitations::links::routes)
                .configure(charter::acceptance::routes)
                .configure(charter::routes::routes)
                .configure(sessions::series_routes::routes)
                .configure(sessions::routes::routes)
                .configure(rota::routes::routes)
                .configure(rota::swaps::routes)
                .configure(experiments::routes::routes)
                .configure(experiments::peers::routes)
                .configure(skillshares::routes::routes)
                .configure(webhooks::routes::routes)
                .configure(feeds::routes::routes),
        );
}

/// The OpenAPI document the server serves at `/api/openapi.json`.
pub fn openapi_spec() -> OpenApi {
    let (_, mut spec) = App::new().into_utoipa_app().openapi(openapi::base()).configure(routes).split_for_parts();
    openapi::SharedParts.modify(&mut spec);
    spec
}

pub struct Application {
    server: Server,
    address: SocketAddr,
    state: web::Data<AppState>,
    scheduler: Option<JobScheduler>,
    mail_worker: Option<tokio::task::JoinHandle<()>>,
}

impl Application {
    pub async fn build(config: &Config, clock: SharedClock) -> anyhow::Result<Self> {
        let db = {
            let (url, size) = (config.database_url.clone(), config.pool_size());
            tokio::task::spawn_blocking(move || Db::connect(&url, size)).await??
        };
        let secret = jwt_secret(config, &db).await?;
        let listener = TcpListener::bind(&config.bind).with_context(|| format!("binding {}", config.bind))?;
        let address = listener.local_addr()?;
        let mailer = Arc::new(Mailer::with_connections(
            db.clone(),
            clock.clone(),
            config.smtp_url.as_deref(),
            &config.mail_from,
            config.smtp_connections,
        )?);
        let throttle = Throttle::new(db.clone(), config.rate_limit_ip_per_minute, config.rate_limit_account_per_hour);
        let state = web::Data::new(AppState {
            db,
            clock,
            jwt: JwtKeys::new(secret.as_bytes()),
            mailer,
            throttle,
            base_url: config.base_url(address),
            trusted_proxies: config.trusted_proxies()?,
            signup: config.signup,
            webhook_allow_private: config.webhook_allow_private,
        });

        let cors_origins = config.cors_origins()?;
        let spec = openapi_spec();
        let known = web::Data::new(KnownRoutes::from_spec(&spec));
        let limit = web::Data::new(BodyLimit(config.max_body_bytes));
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(idempotency::middleware))
                .wrap(Condition::new(!cors_origins.is_empty(), cors(&cors_origins)))
                .wrap(from_fn(guard::middleware))
                .wrap(from_fn(request_id::middleware))
                .app_data(app_state.clone())
                .app_data(known.clone())
                .app_data(limit.clone())
                .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
                // Swagger UI before the /api scope: the scope would otherwise claim /api/openapi.json.
                .service(
                    SwaggerUi::new("/docs/{_:.*}")
                        .url("/api/openapi.json", spec.clone())
                        .config(utoipa_swagger_ui::Config::default().validator_url("none")),
                )
                .service(web::redirect("/docs", "/docs/"))
                .into_utoipa_app()
                .configure(routes)
                .into_app()
                .default_service(web::to(fallback::handler))
        })
        .shutdown_timeout(10)
        .listen(listener)?;
        if let Some(workers) = config.workers {
            server = server.workers(workers.max(1));
        }
        let server = server.run();

        let (scheduler, mail_worker) = if config.background_jobs {
            (Some(start_scheduler(&state, config).await?), Some(state.mailer.spawn_worker()))
        } else {
            (None, None)
        };
        Ok(Self { server, address, state, scheduler, mail_worker })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Handles for tests and admin tasks (e.g. to run a mail pass now).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM (in-flight requests get up to 10 s), then stops the jobs.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(mut scheduler) = self.scheduler
            && let Err(err) = scheduler.shutdown().await
        {
            tracing::warn!(error = %err, "stopping the scheduler");
        }
        if let Some(worker) = self.mail_worker {
            worker.abort();
        }
        tracing::info!("stopped");
        result
    }
}

/// Periodic work, on UTC intervals only: the sweep (every `every_seconds`) wakes the mail worker,
/// forgets the throttle's ended windows, forgets old idempotency keys, records charter reviews
/// that fell due and forms coaching cycles that are due; a slower job keeps sessions stored 26
/// weeks ahead (also once at start). Each job but the first two runs under its lease
/// (`jobs::Jobs`), so of several replicas only one runs it per period.
async fn start_scheduler(state: &web::Data<AppState>, config: &Config) -> anyhow::Result<JobScheduler> {
    let scheduler = JobScheduler::new().await.context("creating the scheduler")?;
    let jobs = Jobs::new(state.clone());
    tracing::debug!(holder = jobs.holder(), "periodic jobs start");
    let every = config.mail_sweep_seconds.max(1);
    let sweep_jobs = jobs.clone();
    let sweep = Job::new_repeated_async(Duration::from_secs(every), move |_, _| {
        let jobs = sweep_jobs.clone();
        Box::pin(async move {
            jobs.sweep(chrono::Duration::seconds(every as i64)).await;
        })
    })
    .context("creating the sweep job")?;
    scheduler.add(sweep).await.context("adding the sweep job")?;
    // Reminders: planned ahead under a lease every ROUNDTABLE_REMINDER_SWEEP_SECONDS; every
    // process reads new events and queues what is due every ROUNDTABLE_NOTIFY_POLL_SECONDS.
    let plan_every = config.reminder_sweep_seconds.max(1);
    let reminder_jobs = jobs.clone();
    let reminders = Job::new_repeated_async(Duration::from_secs(plan_every), move |_, _| {
        let jobs = reminder_jobs.clone();
        Box::pin(async move {
            jobs.reminders(chrono::Duration::seconds(plan_every as i64)).await;
        })
    })
    .context("creating the reminder job")?;
    scheduler.add(reminders).await.context("adding the reminder job")?;
    let notify_jobs = jobs.clone();
    let notify = Job::new_repeated_async(Duration::from_secs(config.notify_poll_seconds.max(1)), move |_, _| {
        let jobs = notify_jobs.clone();
        Box::pin(async move {
            jobs.notify_logged().await;
        })
    })
    .context("creating the notifier job")?;
    scheduler.add(notify).await.context("adding the notifier job")?;
    // Webhooks: every process reads new events into deliveries and sends what is due, on the
    // notifier's period (each delivery is claimed on its own, so replicas share the work).
    let webhook_state = state.clone();
    let webhook_pass = Job::new_repeated_async(Duration::from_secs(config.notify_poll_seconds.max(1)), move |_, _| {
        let state = webhook_state.clone();
        Box::pin(async move {
            webhooks::deliver::run_pass_logged(&state).await;
        })
    })
    .context("creating the webhook job")?;
    scheduler.add(webhook_pass).await.context("adding the webhook job")?;
    // Sessions are stored 26 weeks ahead; moving that horizon on a few times a day is plenty.
    let horizon_jobs = jobs.clone();
    let horizon = Job::new_repeated_async(HORIZON_PERIOD, move |_, _| {
        let jobs = horizon_jobs.clone();
        Box::pin(async move { extend_sessions(&jobs).await })
    })
    .context("creating the session horizon job")?;
    scheduler.add(horizon).await.context("adding the session horizon job")?;
    tokio::spawn(async move { extend_sessions(&jobs).await });
    scheduler.start().await.context("starting the scheduler")?;
    Ok(scheduler)
}

const HORIZON_PERIOD: Duration = Duration::from_secs(6 * 3600);

async fn extend_sessions(jobs: &Jobs) {
    let period = chrono::Duration::from_std(HORIZON_PERIOD).unwrap_or(chrono::Duration::hours(6));
    if let Outcome::Done(added) = jobs.run_logged(PeriodicJob::SessionHorizon, period).await {
        tracing::info!(added, "stored upcoming sessions");
    }
}

/// Cross-origin calls from the configured web origins only: bearer tokens in the
/// `Authorization` header, never cookies, so no credentials mode and no wildcard.
fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::HeaderName::from_static(idempotency::HEADER),
            actix_web::http::header::HeaderName::from_static(request_id::HEADER),
        ])
        .expose_headers(["x-request-id", "location", "retry-after", "idempotent-replayed"])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

const JWT_SECRET_SETTING: &str = "jwt_secret";

/// The configured secret, or the one this instance generated on its first run. It lives in the
/// database, so every replica signs and checks tokens with the same key.
async fn jwt_secret(config: &Config, db: &Db) -> anyhow::Result<String> {
    if let Some(secret) = &config.jwt_secret {
        anyhow::ensure!(secret.len() >= 32, "ROUNDTABLE_JWT_SECRET must be at least 32 bytes long");
        return Ok(secret.clone());
    }
    Ok(db.read(stored_jwt_secret).await?)
}

fn stored_jwt_secret(conn: &mut AnyConnection) -> ApiResult<String> {
    let read = |conn: &mut AnyConnection| {
        instance_settings::table
            .find(JWT_SECRET_SETTING)
            .select(instance_settings::value)
            .first::<String>(conn)
            .optional()
    };
    if let Some(secret) = read(conn)? {
        return Ok(secret);
    }
    let generated = crate::auth::secrets::generate("").plain;
    // A replica starting at the same moment may insert first; then its secret is the one read back.
    let inserted = diesel::insert_into(instance_settings::table)
        .values((instance_settings::name.eq(JWT_SECRET_SETTING), instance_settings::value.eq(&generated)))
        .execute(conn);
    match inserted {
        Ok(_) => tracing::info!("generated the access-token secret (kept in the database)"),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {}
        Err(other) => return Err(other.into()),
    }
    read(conn)?.ok_or(ApiError::NotFound)
}
