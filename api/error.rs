//! One error type for every handler, rendered as RFC 9457 `application/problem+json`.
//!
//! Each variant fixes its HTTP status; `code` is a stable, machine-readable name that clients may
//! switch on (it never changes once published). Unexpected errors are logged in full and answered
//! with a generic 500 that reveals nothing about the internals.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field, e.g. `email` or `goals[2]`.
    #[schema(example = "email")]
    pub field: String,
    /// Stable reason, e.g. `required`, `invalid_format`, `too_short`.
    #[schema(example = "invalid_format")]
    pub code: String,
    #[schema(example = "must be an email address")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self { field: field.into(), code: code.to_string(), message: message.into() }
    }
}

/// RFC 9457 problem details, with Roundtable's `code`, `request_id` and field `errors`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:roundtable:problem:validation_failed",
    "title": "Unprocessable Content",
    "status": 422,
    "detail": "2 fields are invalid",
    "code": "validation_failed",
    "request_id": "0193a5a0-7c1e-7d2a-9a51-2b1f3c4d5e6f",
    "errors": [
        {"field": "email", "code": "invalid_format", "message": "must be an email address"},
        {"field": "password", "code": "too_short", "message": "must be at least 8 characters"}
    ]
}))]
pub struct Problem {
    /// `urn:roundtable:problem:{code}`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    /// The request's `x-request-id`, also found in the server log.
    pub request_id: Option<String>,
    /// Present on `validation_failed`: every invalid field at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422 `validation_failed`, naming every invalid field.
    #[error("{} invalid field(s)", .0.len())]
    Validation(Vec<FieldError>),
    /// 400, e.g. `malformed_json`.
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// 401 with `WWW-Authenticate`, e.g. `missing_token`, `invalid_token`, `invalid_credentials`.
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    /// 403, e.g. `forbidden`, `insufficient_scope`.
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    /// 404 `not_found`: also what a caller gets for objects it may not know exist.
    #[error("not found")]
    NotFound,
    /// 405 `method_not_allowed`, with the `Allow` header.
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<String> },
    /// 409, e.g. `email_taken`.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// 410, e.g. `invitation_invalid`: a link that no longer works.
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    /// 413 `payload_too_large`.
    #[error("body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415 `unsupported_media_type`.
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// 429 `rate_limited`, with `Retry-After`.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503, e.g. `not_ready`, `database_unavailable`.
    #[error("{detail}")]
    ServiceUnavailable { code: &'static str, detail: String },
    /// 500 `internal`: logged, never described to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unauthorized { code, detail: detail.into() }
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict { code, detail: detail.into() }
    }
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. }
            | Self::Gone { code, .. }
            | Self::ServiceUnavailable { code, .. } => code,
            Self::NotFound => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Internal(_) => "internal",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Validation(errors) if errors.len() == 1 => "1 field is invalid".to_string(),
            Self::Validation(errors) => format!("{} fields are invalid", errors.len()),
            Self::NotFound => "No such resource, or it is not visible to you.".to_string(),
            Self::MethodNotAllowed { allow } => format!("Allowed methods: {}", allow.join(", ")),
            Self::TooManyRequests { retry_after_secs } => {
                format!("Too many attempts; retry in {retry_after_secs} s.")
            }
            Self::Internal(_) => "An unexpected error occurred. Quote the request_id when reporting it.".to_string(),
            other => other.to_string(),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            problem_type: format!("urn:roundtable:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code().to_string(),
            request_id: crate::http::request_id::current(),
            errors: match self {
                Self::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Gone { .. } => StatusCode::GONE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(err) = self {
            tracing::error!(error = ?err, "unexpected error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            Self::Unauthorized { code, detail } => {
                let challenge = match *code {
                    "missing_token" | "invalid_credentials" | "invalid_link" => {
                        r#"Bearer realm="roundtable""#.to_string()
                    }
                    _ => format!(
                        r#"Bearer realm="roundtable", error="invalid_token", error_description="{}""#,
                        detail.replace('"', "'")
                    ),
                };
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.join(", ")));
            }
            Self::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::ServiceUnavailable { .. } => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        response.json(self.to_problem())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => Self::NotFound,
            // PostgreSQL gave up one of two transactions that crossed (40001, or a deadlock,
            // 40P01): nothing was written, and the same request will go through when retried.
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => Self::busy(),
            Error::DatabaseError(_, ref info) if info.message().contains("deadlock detected") => {
                tracing::warn!(error = %err, "transaction crossed another; answered 503 for a retry");
                Self::busy()
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl ApiError {
    /// 503 `database_busy`: nothing was written; retry (the client's Idempotency-Key makes that safe).
    pub fn busy() -> Self {
        Self::ServiceUnavailable {
            code: "database_busy",
            detail: "This change crossed another one at the same moment and was not made; retry it.".to_string(),
        }
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(err: r2d2::Error) -> Self {
        tracing::error!(error = %err, "database pool");
        Self::ServiceUnavailable {
            code: "database_unavailable",
            detail: "The database cannot be reached; try again shortly.".to_string(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    struct Info(&'static str);
    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    #[test]
    fn crossed_transactions_are_503_to_retry_not_500() {
        use diesel::result::{DatabaseErrorKind, Error};
        let serialization = Error::DatabaseError(DatabaseErrorKind::SerializationFailure, Box::new(Info("x")));
        assert_eq!(ApiError::from(serialization).code(), "database_busy");
        let deadlock = Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(Info("deadlock detected")));
        let err = ApiError::from(deadlock);
        assert_eq!(err.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(err.error_response().headers().get(header::RETRY_AFTER).unwrap(), "1");
        let other = Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(Info("disk full")));
        assert_eq!(ApiError::from(other).code(), "internal");
    }
}
