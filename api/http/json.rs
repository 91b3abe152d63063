//! `JsonBody<T>`: the JSON body extractor every handler uses. It answers the client in the
//! API's own terms: 415 for another content type, 413 past the size limit, 400 for text that is
//! not JSON, and 422 naming the field when the JSON has the wrong shape.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::error::{ApiError, ApiResult, FieldError};

pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// The body limit, set as app data by `startup`.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

pub struct JsonBody<T>(pub T);

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<web::Data<BodyLimit>>().map_or(DEFAULT_LIMIT, |l| l.0);
        let json = is_json(req);
        let too_long = declared_length(req).is_some_and(|len| len > limit);
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(ApiError::UnsupportedMediaType);
            }
            if too_long {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::BadRequest {
                    code: "unreadable_body",
                    detail: format!("The request body could not be read: {e}"),
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            parse(&body).map(JsonBody)
        })
    }
}

/// Parses a JSON document into `T`, sorting failures into 400 (not JSON) and 422 (wrong shape).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        classify(err.into_inner(), path)
    })?;
    de.end().map_err(|e| classify(e, String::new()))?;
    Ok(value)
}

fn classify(err: serde_json::Error, path: String) -> ApiError {
    match err.classify() {
        Category::Data => {
            let field = if path.is_empty() || path == "." { "body".to_string() } else { path };
            ApiError::Validation(vec![FieldError::new(field, "invalid_type", without_position(&err))])
        }
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::BadRequest { code: "malformed_json", detail: format!("The body is not valid JSON: {err}") }
        }
    }
}

/// serde_json appends " at line L column C" to data errors; the field name says more.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Probe {
        #[allow(dead_code)]
        name: Option<String>,
        #[allow(dead_code)]
        inner: Option<Inner>,
    }
    #[derive(serde::Deserialize, Debug)]
    struct Inner {
        #[allow(dead_code)]
        count: Option<u32>,
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        let err = parse::<Probe>(b"{\"name\": ").unwrap_err();
        assert_eq!(err.code(), "malformed_json");
        let err = parse::<Probe>(b"{} trailing").unwrap_err();
        assert_eq!(err.code(), "malformed_json");
    }

    #[test]
    fn wrong_types_name_the_field() {
        let err = parse::<Probe>(br#"{"inner": {"count": "three"}}"#).unwrap_err();
        match err {
            ApiError::Validation(errors) => {
                assert_eq!(errors[0].field, "inner.count");
                assert!(!errors[0].message.contains("line"));
            }
            other => panic!("expected validation, got {other:?}"),
        }
    }
}
