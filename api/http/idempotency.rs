//! `Idempotency-Key` on any POST: the first request with a key is handled and its answer stored;
//! a retry with the same key (by the same user, with the same request) gets the stored answer and
//! changes nothing; the same key with another request is 422; a retry while the first is still
//! running is 409. A phone that lost its connection can therefore replay its queue safely.
//! Answers of 5xx are not stored, so a retry after a failure runs again. Keys are kept 24 hours.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::auth::Caller;
use crate::auth::caller::{Check, CheckLog};
use crate::auth::secrets;
use crate::cohorts::access;
use crate::db::AnyConnection;
use crate::db::schema::idempotency_records as records;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";
const KEEP_HOURS: i64 = 24;

enum Claim {
    New,
    Replay { status: u16, content_type: Option<String>, body: String, checks: Vec<Check> },
    Mismatch,
    InFlight,
}

fn claim(conn: &mut AnyConnection, user: &str, key: &str, fingerprint: &str, now: DateTime<Utc>) -> ApiResult<Claim> {
    type Stored = (String, Option<i32>, Option<String>, Option<String>, Option<String>);
    let existing: Option<Stored> = records::table
        .find((user, key))
        .select((records::fingerprint, records::status, records::content_type, records::body, records::checks))
        .first(conn)
        .optional()?;
    match existing {
        Some((stored, ..)) if stored != fingerprint => Ok(Claim::Mismatch),
        Some((_, Some(status), content_type, body, checks)) => Ok(Claim::Replay {
            status: status as u16,
            content_type,
            body: body.unwrap_or_default(),
            checks: checks.as_deref().map(checks_from_text).unwrap_or_default(),
        }),
        Some(_) => Ok(Claim::InFlight),
        None => {
            let inserted = diesel::insert_into(records::table)
                .values((
                    records::user_id.eq(user),
                    records::idempotency_key.eq(key),
                    records::fingerprint.eq(fingerprint),
                    records::created_at.eq(now.naive_utc()),
                ))
                .execute(conn);
            match inserted {
                Ok(_) => Ok(Claim::New),
                // Another request with the key got there between our read and write.
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(Claim::InFlight),
                Err(other) => Err(other.into()),
            }
        }
    }
}

fn finish(
    conn: &mut AnyConnection,
    user: &str,
    key: &str,
    answer: Option<(u16, Option<String>, String)>,
    checks: &[Check],
) -> ApiResult<()> {
    let target = records::table.find((user, key));
    match answer {
        Some((status, content_type, body)) => diesel::update(target)
            .set((
                records::status.eq(i32::from(status)),
                records::content_type.eq(content_type),
                records::body.eq(body),
                records::checks.eq(checks_to_text(checks)),
            ))
            .execute(conn)?,
        None => diesel::delete(target).execute(conn)?,
    };
    Ok(())
}

/// One check a line: `scope <name>`, `sign_in`, `cohort <id> <Action>`.
fn checks_to_text(checks: &[Check]) -> String {
    checks
        .iter()
        .map(|check| match check {
            Check::Scope(scope) => format!("scope {}", scope.as_str()),
            Check::SignIn => "sign_in".to_string(),
            Check::Cohort { cohort_id, action } => format!("cohort {cohort_id} {action:?}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn checks_from_text(text: &str) -> Vec<Check> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split(' ');
            match (words.next()?, words.next(), words.next()) {
                ("scope", Some(name), None) => {
                    crate::auth::scopes::Scope::ALL.into_iter().find(|s| s.as_str() == name).map(Check::Scope)
                }
                ("sign_in", None, None) => Some(Check::SignIn),
                ("cohort", Some(id), Some(action)) => {
                    Some(Check::Cohort { cohort_id: id.to_string(), action: access::Action::from_name(action)? })
                }
                _ => None,
            }
        })
        .collect()
}

/// Forgets keys older than a day (run by the periodic sweep).
pub fn forget_old(conn: &mut AnyConnection, now: DateTime<Utc>) -> ApiResult<usize> {
    Ok(diesel::delete(records::table.filter(records::created_at.lt((now - Duration::hours(KEEP_HOURS)).naive_utc())))
        .execute(conn)?)
}

fn acceptable(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (Some(key), true) = (key, req.method() == Method::POST) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if !acceptable(&key) {
        let error = ApiError::invalid("Idempotency-Key", "invalid_format", "must be 1 to 255 visible ASCII characters");
        return Ok(req.error_response(error).map_into_boxed_body());
    }
    // The handler's checks are logged here as it runs, and kept with its answer.
    let log = CheckLog::default();
    req.extensions_mut().insert(log.clone());
    // Only signed-in requests are recorded; others go on and get their 401 from the handler.
    let (Some(state), Ok(caller)) = (req.app_data::<web::Data<AppState>>().cloned(), req.extract::<Caller>().await)
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let limit =
        req.app_data::<web::Data<crate::http::json::BodyLimit>>().map_or(crate::http::json::DEFAULT_LIMIT, |l| l.0);
    let body = match req.extract::<web::Bytes>().await {
        Ok(body) if body.len() <= limit => body,
        _ => return Ok(req.error_response(ApiError::PayloadTooLarge { limit }).map_into_boxed_body()),
    };
    let fingerprint = secrets::hash(&format!(
        "{} {}?{}\n{}",
        req.method(),
        req.path(),
        req.query_string(),
        String::from_utf8_lossy(&body)
    ));
    req.set_payload(Payload::from(body));
    let (user, now) = (caller.user.id.clone(), state.now());
    let (claim_user, claim_key) = (user.clone(), key.clone());
    match state.db.write(move |conn| claim(conn, &claim_user, &claim_key, &fingerprint, now)).await? {
        Claim::Replay { status, content_type, body, checks } => {
            // Authorise first, replay after: whoever replays must pass today what the first
            // request passed (a member removed since gets 404, a read-only token 403).
            if let Err(refused) = state.db.read(move |conn| access::recheck(conn, &caller, &checks)).await {
                return Ok(req.error_response(refused).map_into_boxed_body());
            }
            let mut replay = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
            if let Some(content_type) = content_type {
                replay.insert_header((header::CONTENT_TYPE, content_type));
            }
            replay.insert_header((REPLAYED, "true"));
            Ok(req.into_response(replay.body(body)).map_into_boxed_body())
        }
        Claim::Mismatch => {
            let error =
                ApiError::invalid("Idempotency-Key", "idempotency_key_reused", "was used for a different request");
            Ok(req.error_response(error).map_into_boxed_body())
        }
        Claim::InFlight => {
            let error = ApiError::conflict(
                "request_in_progress",
                "A request with this Idempotency-Key is still being handled.",
            );
            Ok(req.error_response(error).map_into_boxed_body())
        }
        Claim::New => {
            let response = next.call(req).await?;
            let status = response.status();
            let content_type =
                response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
            let (request, response) = response.into_parts();
            let bytes = actix_web::body::to_bytes(response.into_body())
                .await
                .map_err(|_| ApiError::Internal(anyhow::anyhow!("reading a response body")))?;
            let answer = (!status.is_server_error())
                .then(|| (status.as_u16(), content_type.clone(), String::from_utf8_lossy(&bytes).to_string()));
            let checks = log.taken();
            state.db.write(move |conn| finish(conn, &user, &key, answer.clone(), &checks)).await?;
            let mut rebuilt = HttpResponse::build(status);
            if let Some(content_type) = content_type {
                rebuilt.insert_header((header::CONTENT_TYPE, content_type));
            }
            Ok(ServiceResponse::new(request, rebuilt.body(bytes)).map_into_boxed_body())
        }
    }
}
