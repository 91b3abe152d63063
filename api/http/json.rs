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

use super::words;
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

/// `JsonBody<T>` for a body that may be left out: a request with no body at all (no
/// Content-Type and no bytes, as `curl -X POST` sends) reads as `T::default()`; any body sent is
/// held to `JsonBody`'s rules.
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let no_type = req.headers().get(header::CONTENT_TYPE).is_none();
        let no_length =
            declared_length(req).unwrap_or(0) == 0 && !req.headers().contains_key(header::TRANSFER_ENCODING);
        if no_type && no_length {
            return Box::pin(async { Ok(OptionalJsonBody(T::default())) });
        }
        let body = JsonBody::<T>::from_request(req, payload);
        Box::pin(async move { body.await.map(|b| OptionalJsonBody(b.0)) })
    }
}

/// For `#[serde(default, deserialize_with = "crate::http::json::present")]` on an
/// `Option<Option<T>>`: a field given as null (to clear it) is `Some(None)`, told apart from a
/// field left out (`None`).
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// Parses a JSON document into `T`: 400 when it is not JSON; 422 naming every field that does not
/// fit `T`, every field `T` does not have (unknown fields are refused, not silently dropped) and
/// every text holding a NUL character (which PostgreSQL cannot store).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| not_json(&e))?;
    let mut errors = Vec::new();
    find_nul(&value, &mut String::new(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut unknown = Vec::new();
    let mut note = |path: serde_ignored::Path<'_>| {
        unknown.push(FieldError::new(path_text(&path), "unknown_field", words::UNKNOWN_FIELD))
    };
    let result = serde_path_to_error::deserialize::<_, T>(serde_ignored::Deserializer::new(value, &mut note));
    match result {
        Ok(value) if unknown.is_empty() => Ok(value),
        Ok(_) => Err(ApiError::Validation(unknown)),
        Err(err) => {
            let path = err.path().to_string();
            let (field, (code, message)) = words::field_error(&path, &err.inner().to_string(), "body");
            let mut errors = vec![FieldError::new(field, code, message)];
            errors.extend(unknown);
            Err(ApiError::Validation(errors))
        }
    }
}

/// `metric.unit`, `records[2].user_id`: the same notation as serde_path_to_error's.
fn path_text(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", path_text(parent)),
        Path::Map { parent, key } => match path_text(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => path_text(parent),
    }
}

fn find_nul(value: &serde_json::Value, path: &mut String, errors: &mut Vec<FieldError>) {
    use serde_json::Value;
    let nul = |path: &str| {
        let field = if path.is_empty() { "body".to_string() } else { path.to_string() };
        FieldError::new(field, "invalid_characters", "must not contain NUL characters (\\u0000)")
    };
    match value {
        Value::String(text) if text.contains('\0') => errors.push(nul(path)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                find_nul(item, path, errors);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&key.replace('\0', ""));
                if key.contains('\0') {
                    errors.push(nul(path));
                } else {
                    find_nul(item, path, errors);
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// 400 for a body that is not JSON, saying what is wrong and where in plain words.
fn not_json(err: &serde_json::Error) -> ApiError {
    let text = err.to_string();
    let what = text.split(" at line ").next().unwrap_or(&text);
    let detail = if err.classify() == Category::Eof && err.line() == 1 && err.column() == 0 {
        "The body is empty; send a JSON object.".to_string()
    } else {
        let said = if err.classify() == Category::Eof {
            "it ends too early (a bracket, brace or quote is not closed)".to_string()
        } else if what == "trailing characters" {
            "there is more text after the JSON value".to_string()
        } else {
            what.to_string()
        };
        format!("The body is not valid JSON: {said} (line {}, column {}).", err.line(), err.column())
    };
    ApiError::BadRequest { code: "malformed_json", detail }
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
                assert_eq!(errors[0].message, "must be a whole number, 0 or more");
            }
            other => panic!("expected validation, got {other:?}"),
        }
    }

    fn fields(body: &[u8]) -> Vec<(String, String)> {
        match parse::<Probe>(body).unwrap_err() {
            ApiError::Validation(errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        assert_eq!(fields(br#"{"name": "a", "colour": 1}"#), vec![("colour".into(), "unknown_field".into())]);
        assert_eq!(
            fields(br#"{"inner": {"count": 1, "cuont": 2}}"#),
            vec![("inner.cuont".into(), "unknown_field".into())]
        );
    }

    #[test]
    fn nul_characters_are_refused_by_name() {
        assert_eq!(fields(br#"{"name": "a\u0000b"}"#), vec![("name".into(), "invalid_characters".into())]);
        assert_eq!(fields(br#"{"inner": {"x\u0000": 1}}"#), vec![("inner.x".into(), "invalid_characters".into())]);
    }

    #[test]
    fn empty_and_truncated_bodies_say_so() {
        let detail = |body: &[u8]| match parse::<Probe>(body).unwrap_err() {
            ApiError::BadRequest { detail, .. } => detail,
            other => panic!("{other:?}"),
        };
        assert!(detail(b"").contains("empty"));
        assert!(detail(b"{\"name\": ").contains("ends too early"));
    }
}
