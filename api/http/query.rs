//! `Query<T>`: the query-string extractor every handler uses instead of `web::Query`. It answers a
//! bad parameter with a 422 that names it and says in plain words what is expected (actix's own
//! extractor says only "Query deserialize error: invalid digit found in string").
//!
//! A parameter given with an empty value (`?cursor=`, `?limit=`) counts as not given, as HTML
//! forms and many clients send every parameter they know.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult, FieldError};

pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse(req.query_string()).map(Query))
    }
}

/// Parses a query string into `T`, naming the parameter that does not fit.
pub fn parse<T: DeserializeOwned>(query: &str) -> ApiResult<T> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(_, value)| !value.is_empty())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Some((name, _)) = pairs.iter().find(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(ApiError::invalid(
            &name.replace('\0', ""),
            "invalid_characters",
            "must not contain NUL characters",
        ));
    }
    let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        let (field, error) = super::words::field_error(&path, &message, "query");
        ApiError::Validation(vec![FieldError::new(field, error.0, error.1)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Params {
        limit: Option<u32>,
        cursor: Option<String>,
        state: Option<Kind>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Open,
        Closed,
    }

    fn error(query: &str) -> FieldError {
        match parse::<Params>(query).unwrap_err() {
            ApiError::Validation(errors) => errors[0].clone(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn empty_values_count_as_absent() {
        let p: Params = parse("cursor=&limit=").unwrap();
        assert!(p.cursor.is_none() && p.limit.is_none());
    }

    #[test]
    fn bad_numbers_name_the_parameter_in_plain_words() {
        let e = error("limit=ten");
        assert_eq!(e.field, "limit");
        assert_eq!(e.message, "must be a whole number");
        let e = error("limit=-3");
        assert_eq!(e.field, "limit");
    }

    #[test]
    fn bad_choices_list_the_choices() {
        let e = error("state=maybe");
        assert_eq!(e.field, "state");
        assert_eq!(e.message, "must be one of: open, closed");
    }

    #[test]
    fn nul_is_refused() {
        let e = error("cursor=a%00b");
        assert_eq!(e.field, "cursor");
    }
}
