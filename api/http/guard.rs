//! What every request and response gets, before any route sees it.
//!
//! - A path holding an encoded NUL (`%00`) is answered 404 at once: no id contains one, and
//!   PostgreSQL refuses NUL in text (it would be a 500 otherwise).
//! - Security headers on every response: `X-Content-Type-Options: nosniff`,
//!   `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY` and a `Content-Security-Policy`
//!   (`frame-ancestors 'none'` everywhere; on HTML pages also no script, style, image or
//!   connection from another origin).
//! - `Cache-Control: no-store` on every API answer unless the handler chose otherwise: they carry
//!   tokens or personal data, which no shared cache may keep.

use actix_web::ResponseError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

use crate::error::ApiError;

/// The policy for HTML pages (Swagger UI, the app): everything from this origin only. Swagger UI
/// sets inline styles, so styles may be inline; scripts may not.
pub const HTML_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";
/// The policy for everything else (JSON): nothing may be framed or run.
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Whether a raw (still percent-encoded) path holds a NUL.
pub fn holds_nul(path: &str) -> bool {
    path.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0') || path.contains('\0')
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if holds_nul(req.path()) {
        let response = ApiError::NotFound.error_response();
        let mut res = req.into_response(response).map_into_right_body();
        secure(&mut res);
        return Ok(res);
    }
    let is_api = req.path().starts_with("/api/");
    let mut res = next.call(req).await?.map_into_left_body();
    secure(&mut res);
    if is_api && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

fn secure<B>(res: &mut ServiceResponse<B>) {
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = res.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = if html { HTML_POLICY } else { API_POLICY };
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    }
}

#[cfg(test)]
mod tests {
    use super::holds_nul;

    #[test]
    fn finds_encoded_nul() {
        assert!(holds_nul("/api/v1/cohorts/%00"));
        assert!(holds_nul("/api/v1/experiments/ab%00cd"));
        assert!(!holds_nul("/api/v1/cohorts/0193a5a0-7c1e-7d2a-9a51-2b1f3c4d5e6f"));
        assert!(!holds_nul("/api/v1/x%200"));
    }
}
