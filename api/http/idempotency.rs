//! `Idempotency-Key` on any POST, so that a phone replaying its offline queue never does a thing
//! twice and never gets stuck.
//!
//! Rules:
//! - Keys are the caller's own (per user) and kept 24 hours; after that the key is new again.
//! - The first request with a key claims it for `LEASE_SECONDS` (a claim token in the row), then
//!   runs in ONE transaction with the saving of its answer (`Db::begin_request`): the change and
//!   the stored answer commit together or not at all. A crash in between therefore leaves either
//!   both (a retry gets the answer) or neither (a retry, once the lease ran out, runs again).
//! - A retry while the first still runs gets 409 `request_in_progress` with `Retry-After`.
//! - A retry with the same request gets the stored status, body, `Content-Type`, `Location` and
//!   `ETag`, marked `Idempotent-Replayed: true`, after the checks the first request passed are
//!   asked again of the caller (a member removed since gets 404, a read-only token 403).
//! - The same key with another request (method, path, query or body) is 422.
//! - Answers 5xx and 429 are not kept: the change is rolled back and the key freed, so a retry
//!   runs again.
//! - The answer is saved only by the claim's holder (the update matches the token): a request
//!   whose lease ran out and was taken over rolls back and answers 409 `request_superseded`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::auth::Caller;
use crate::auth::caller::{Check, CheckLog};
use crate::auth::secrets;
use crate::cohorts::access;
use crate::db::schema::idempotency_records as records;
use crate::db::{AnyConnection, UserId};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";
const KEEP_HOURS: i64 = 24;
/// How long a claim is held before a retry may take the key over. Handlers answer in
/// milliseconds; a holder that died (kill -9, a lost connection) frees its keys after this.
pub const LEASE_SECONDS: i64 = 10;
/// Response headers kept with the answer and replayed, besides `Content-Type`.
const KEPT_HEADERS: [HeaderName; 2] = [header::LOCATION, header::ETAG];

/// A stored record, as the claim sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub fingerprint: String,
    pub answered: bool,
    pub claim_token: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// What a new request with a key does, given the record of that key (pure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No record: insert one.
    Insert,
    /// The record is older than the keeping window: the key is new again (replace it).
    Renew { created_at: NaiveDateTime },
    /// Another request with this key: 422.
    Mismatch,
    /// Answered: replay it.
    Replay,
    /// Held by a request whose lease has not run out: 409, retry after this many seconds.
    InFlight { retry_after: i64 },
    /// Held by a request whose lease ran out (it died, or never finished): take it over. Safe,
    /// because that request's change commits only with its answer, under its own token.
    TakeOver { token: Option<String> },
}

pub fn decide(stored: Option<&Stored>, fingerprint: &str, now: DateTime<Utc>) -> Decision {
    let Some(stored) = stored else { return Decision::Insert };
    let now = now.naive_utc();
    if stored.created_at < now - Duration::hours(KEEP_HOURS) {
        return Decision::Renew { created_at: stored.created_at };
    }
    if stored.fingerprint != fingerprint {
        return Decision::Mismatch;
    }
    if stored.answered {
        return Decision::Replay;
    }
    match stored.locked_until {
        Some(until) if until > now => {
            let left = (until - now).num_milliseconds();
            Decision::InFlight { retry_after: ((left + 999) / 1000).max(1) }
        }
        // A record without a lease is from before leases existed: it can only be a dead claim.
        _ => Decision::TakeOver { token: stored.claim_token.clone() },
    }
}

/// A stored answer.
struct Answer {
    status: u16,
    content_type: Option<String>,
    headers: Vec<(String, String)>,
    body: String,
}

enum Claim {
    New,
    Replay { answer: Answer, checks: Vec<Check> },
    Mismatch,
    InFlight { retry_after: i64 },
}

fn claim(
    conn: &mut AnyConnection,
    user: &UserId,
    key: &str,
    fingerprint: &str,
    token: &str,
    now: DateTime<Utc>,
) -> ApiResult<Claim> {
    type Row = (
        String,
        Option<i32>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<NaiveDateTime>,
        NaiveDateTime,
    );
    let until = (now + Duration::seconds(LEASE_SECONDS)).naive_utc();
    // Twice at most: a claim that lost a race reads the winner's record once more.
    for _ in 0..2 {
        let row: Option<Row> = records::table
            .find((user, key))
            .select((
                records::fingerprint,
                records::status,
                records::content_type,
                records::body,
                records::checks,
                records::headers,
                records::claim_token,
                records::locked_until,
                records::created_at,
            ))
            .first(conn)
            .optional()?;
        let stored = row.as_ref().map(|r| Stored {
            fingerprint: r.0.clone(),
            answered: r.1.is_some(),
            claim_token: r.6.clone(),
            locked_until: r.7,
            created_at: r.8,
        });
        let target = records::table.find((user, key));
        let fresh = (
            records::fingerprint.eq(fingerprint),
            records::status.eq(None::<i32>),
            records::content_type.eq(None::<String>),
            records::body.eq(None::<String>),
            records::checks.eq(None::<String>),
            records::headers.eq(None::<String>),
            records::claim_token.eq(token),
            records::locked_until.eq(until),
            records::created_at.eq(now.naive_utc()),
        );
        let taken = match decide(stored.as_ref(), fingerprint, now) {
            Decision::Insert => {
                // DO NOTHING when another request with the key got there between our read and
                // write (an error would abort the transaction on PostgreSQL); then read it again.
                let insert = diesel::insert_into(records::table)
                    .values((records::user_id.eq(user), records::idempotency_key.eq(key), fresh))
                    .on_conflict_do_nothing();
                crate::per_backend!(conn, |c| insert.execute(c))?
            }
            Decision::Renew { created_at } => {
                diesel::update(target.filter(records::created_at.eq(created_at))).set(fresh).execute(conn)?
            }
            Decision::TakeOver { token: held_by } => {
                let unanswered = target.filter(records::status.is_null());
                let set = (records::claim_token.eq(token), records::locked_until.eq(until));
                match held_by {
                    Some(held_by) => {
                        diesel::update(unanswered.filter(records::claim_token.eq(held_by))).set(set).execute(conn)?
                    }
                    None => diesel::update(unanswered.filter(records::claim_token.is_null())).set(set).execute(conn)?,
                }
            }
            Decision::Mismatch => return Ok(Claim::Mismatch),
            Decision::InFlight { retry_after } => return Ok(Claim::InFlight { retry_after }),
            Decision::Replay => {
                let (_, status, content_type, body, checks, headers, ..) = row.expect("a record to replay");
                let answer = Answer {
                    status: status.unwrap_or(200) as u16,
                    content_type,
                    headers: headers.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or_default(),
                    body: body.unwrap_or_default(),
                };
                return Ok(Claim::Replay {
                    answer,
                    checks: checks.as_deref().map(checks_from_text).unwrap_or_default(),
                });
            }
        };
        if taken == 1 {
            return Ok(Claim::New);
        }
    }
    Ok(Claim::InFlight { retry_after: 1 })
}

/// Saves the answer: the last step of the request's own transaction. Only the claim's holder
/// may; a request whose claim was taken over rolls back instead.
fn save(
    conn: &mut AnyConnection,
    user: &UserId,
    key: &str,
    token: &str,
    answer: &Answer,
    checks: &[Check],
) -> ApiResult<()> {
    let saved = diesel::update(records::table.find((user, key)).filter(records::claim_token.eq(token)))
        .set((
            records::status.eq(i32::from(answer.status)),
            records::content_type.eq(&answer.content_type),
            records::headers.eq(serde_json::to_string(&answer.headers).unwrap_or_default()),
            records::body.eq(&answer.body),
            records::checks.eq(checks_to_text(checks)),
            records::claim_token.eq(None::<String>),
            records::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    if saved == 1 {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "request_superseded",
            "This request took too long and a retry with the same Idempotency-Key took it over; nothing of it \
             was kept. Retry to get the other request's answer.",
        ))
    }
}

/// Frees a key whose request failed (5xx, 429), so that a retry runs again.
fn release(conn: &mut AnyConnection, user: &UserId, key: &str, token: &str) -> ApiResult<()> {
    diesel::delete(
        records::table.find((user, key)).filter(records::claim_token.eq(token)).filter(records::status.is_null()),
    )
    .execute(conn)?;
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
                ("cohort", Some(id), Some(action)) => Some(Check::Cohort {
                    cohort_id: crate::db::CohortId::from_untyped(id),
                    action: access::Action::from_name(action)?,
                }),
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
    let token = crate::db::new_id();
    let claimed = {
        let (user, key, token) = (user.clone(), key.clone(), token.clone());
        state.db.write(move |conn| claim(conn, &user, &key, &fingerprint, &token, now)).await
    };
    let claimed = match claimed {
        Ok(claimed) => claimed,
        Err(error) => return Ok(req.error_response(error).map_into_boxed_body()),
    };
    match claimed {
        Claim::Replay { answer, checks } => {
            // Authorise first, replay after: whoever replays must pass today what the first
            // request passed (a member removed since gets 404, a read-only token 403).
            if let Err(refused) = state.db.read(move |conn| access::recheck(conn, &caller, &checks)).await {
                return Ok(req.error_response(refused).map_into_boxed_body());
            }
            let mut replay = HttpResponse::build(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK));
            if let Some(content_type) = answer.content_type {
                replay.insert_header((header::CONTENT_TYPE, content_type));
            }
            for (name, value) in answer.headers {
                if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                    replay.insert_header((name, value));
                }
            }
            replay.insert_header((REPLAYED, "true"));
            Ok(req.into_response(replay.body(answer.body)).map_into_boxed_body())
        }
        Claim::Mismatch => {
            let error =
                ApiError::invalid("Idempotency-Key", "idempotency_key_reused", "was used for a different request");
            Ok(req.error_response(error).map_into_boxed_body())
        }
        Claim::InFlight { retry_after } => {
            let error = ApiError::conflict(
                "request_in_progress",
                "A request with this Idempotency-Key is still being handled; retry after the time in Retry-After.",
            );
            let mut response = req.error_response(error);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            Ok(response.map_into_boxed_body())
        }
        Claim::New => {
            let held = match state.db.begin_request().await {
                Ok(held) => held,
                Err(error) => {
                    free(&state, &user, &key, &token).await;
                    return Ok(req.error_response(error).map_into_boxed_body());
                }
            };
            let response = match held.scope(next.call(req)).await {
                Ok(response) => response,
                Err(error) => {
                    let _ = held.rollback().await;
                    free(&state, &user, &key, &token).await;
                    return Err(error);
                }
            };
            let status = response.status();
            let content_type =
                response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
            let headers: Vec<(String, String)> = KEPT_HEADERS
                .iter()
                .filter_map(|name| {
                    let value = response.headers().get(name)?.to_str().ok()?;
                    Some((name.as_str().to_string(), value.to_string()))
                })
                .collect();
            let (request, response) = response.into_parts();
            let bytes = match actix_web::body::to_bytes(response.into_body()).await {
                Ok(bytes) => bytes,
                Err(_) => {
                    let _ = held.rollback().await;
                    free(&state, &user, &key, &token).await;
                    let error = ApiError::Internal(anyhow::anyhow!("reading a response body"));
                    return Ok(ServiceResponse::from_err(error, request).map_into_boxed_body());
                }
            };
            let rebuild = |status: StatusCode| {
                let mut rebuilt = HttpResponse::build(status);
                if let Some(content_type) = &content_type {
                    rebuilt.insert_header((header::CONTENT_TYPE, content_type.clone()));
                }
                for (name, value) in &headers {
                    rebuilt.insert_header((name.as_str(), value.as_str()));
                }
                rebuilt
            };
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                // Nothing of a failed request is kept, its key included: a retry runs again.
                let _ = held.rollback().await;
                free(&state, &user, &key, &token).await;
                return Ok(ServiceResponse::new(request, rebuild(status).body(bytes)).map_into_boxed_body());
            }
            let answer = Answer {
                status: status.as_u16(),
                content_type: content_type.clone(),
                headers: headers.clone(),
                body: String::from_utf8_lossy(&bytes).to_string(),
            };
            let checks = log.taken();
            let saved = {
                let (user, key, token) = (user.clone(), key.clone(), token.clone());
                held.commit(move |conn| save(conn, &user, &key, &token, &answer, &checks)).await
            };
            match saved {
                Ok(()) => {
                    // Handlers wake the mail worker before this commit; wake it again now that
                    // whatever they queued can be seen.
                    state.mailer.wake();
                    Ok(ServiceResponse::new(request, rebuild(status).body(bytes)).map_into_boxed_body())
                }
                Err(error) => {
                    free(&state, &user, &key, &token).await;
                    Ok(ServiceResponse::from_err(error, request).map_into_boxed_body())
                }
            }
        }
    }
}

/// Frees the key of a request that failed; a failure to free it only delays a retry until the
/// lease runs out.
async fn free(state: &AppState, user: &UserId, key: &str, token: &str) {
    let (user, key, token) = (user.clone(), key.to_string(), token.to_string());
    if let Err(err) = state.db.write(move |conn| release(conn, &user, &key, &token)).await {
        tracing::warn!(error = %err, "freeing an idempotency key");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn stored(answered: bool, locked_until: Option<i64>, created: i64) -> Stored {
        Stored {
            fingerprint: "f".into(),
            answered,
            claim_token: Some("t".into()),
            locked_until: locked_until.map(|s| at(s).naive_utc()),
            created_at: at(created).naive_utc(),
        }
    }

    #[test]
    fn a_key_is_claimed_answered_held_or_taken_over() {
        assert_eq!(decide(None, "f", at(0)), Decision::Insert);
        assert_eq!(decide(Some(&stored(true, None, 0)), "f", at(5)), Decision::Replay);
        assert_eq!(decide(Some(&stored(true, None, 0)), "other", at(5)), Decision::Mismatch);
        assert_eq!(decide(Some(&stored(false, Some(10), 0)), "f", at(3)), Decision::InFlight { retry_after: 7 });
        // Part of a second left still says "retry after 1", never 0.
        let nearly =
            Stored { locked_until: Some(at(10).naive_utc() - Duration::milliseconds(300)), ..stored(false, None, 0) };
        assert_eq!(decide(Some(&nearly), "f", at(9)), Decision::InFlight { retry_after: 1 });
        assert_eq!(
            decide(Some(&stored(false, Some(10), 0)), "f", at(10)),
            Decision::TakeOver { token: Some("t".into()) },
            "a lease that ran out frees the key"
        );
        assert_eq!(
            decide(Some(&stored(false, None, 0)), "f", at(1)),
            Decision::TakeOver { token: Some("t".into()) },
            "a claim from before leases existed is a dead one"
        );
    }

    #[test]
    fn after_24_hours_a_key_is_new_again_whatever_it_held() {
        let day = KEEP_HOURS * 3600;
        for record in [stored(true, None, 0), stored(false, Some(day + 50), 0)] {
            assert_eq!(decide(Some(&record), "other", at(day + 1)), Decision::Renew { created_at: at(0).naive_utc() });
        }
        assert_eq!(decide(Some(&stored(true, None, 0)), "other", at(day)), Decision::Mismatch, "not a second early");
    }
}
