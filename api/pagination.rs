//! Keyset pagination with opaque cursors, shared by every list.
//!
//! Lists are ordered by `(created_at, id)`. A page is fetched with `limit + 1` rows: the extra
//! row only says whether another page exists. The cursor names the last row returned; it is
//! opaque to clients (base64url) and carries a version so its format can change later.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// `?limit=&cursor=` on every list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// The position after which the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: NaiveDateTime,
    pub id: String,
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Rows to fetch: one more than the page, to learn whether there is a next one.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

impl PageParams {
    pub fn validate(self) -> ApiResult<PageRequest> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid("limit", "out_of_range", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let after = self.cursor.as_deref().map(decode).transpose()?;
        Ok(PageRequest { limit, after })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows in list order; `key` gives a row's position.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        request: &PageRequest,
        key: impl Fn(&R) -> Cursor,
        into: impl FnMut(R) -> T,
    ) -> Self {
        let limit = request.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode(&key(last)))
        } else {
            None
        };
        Self { items: rows.into_iter().map(into).collect(), next_cursor }
    }

    /// A list that is a complete, bounded set (a cohort's roles, an agenda's phases): every item
    /// in one answer, `next_cursor` always null. The same envelope as a paged list, so clients
    /// read every collection alike; each such route documents its bound.
    pub fn complete(items: Vec<T>) -> Self {
        Self { items, next_cursor: None }
    }
}

/// Narrows a boxed query, ordered by (`$at`, `$id`), to the rows after the page's cursor.
macro_rules! after_cursor {
    ($query:expr, $page:expr, $at:expr, $id:expr) => {
        match &$page.after {
            Some(after) => {
                $query.filter($at.gt(after.created_at).or($at.eq(after.created_at).and($id.gt(after.id.clone()))))
            }
            None => $query,
        }
    };
}
pub(crate) use after_cursor;

const VERSION: &str = "v1";

pub fn encode(cursor: &Cursor) -> String {
    let micros = cursor.created_at.and_utc().timestamp_micros();
    URL_SAFE_NO_PAD.encode(format!("{VERSION}|{micros}|{}", cursor.id))
}

pub fn decode(text: &str) -> ApiResult<Cursor> {
    let bad = || ApiError::invalid("cursor", "invalid_cursor", "is not a cursor returned by this list");
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let plain = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = plain.splitn(3, '|');
    let (Some(VERSION), Some(micros), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let created_at = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(bad)?.naive_utc();
    if id.is_empty() {
        return Err(bad());
    }
    Ok(Cursor { created_at, id: id.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cursor_at(micros: i64, id: &str) -> Cursor {
        Cursor { created_at: chrono::DateTime::from_timestamp_micros(micros).unwrap().naive_utc(), id: id.into() }
    }

    #[test]
    fn pages_split_rows_and_point_past_the_last_item() {
        let request = PageRequest { limit: 2, after: None };
        let rows = vec![(1, "a"), (2, "b"), (3, "c")];
        let page = Page::from_rows(rows, &request, |r| cursor_at(r.0, r.1), |r| r.1);
        assert_eq!(page.items, vec!["a", "b"]);
        assert_eq!(decode(page.next_cursor.as_deref().unwrap()).unwrap(), cursor_at(2, "b"));

        let last = Page::from_rows(vec![(3, "c")], &request, |r| cursor_at(r.0, r.1), |r| r.1);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn limits_are_checked() {
        assert!(PageParams { limit: Some(0), cursor: None }.validate().is_err());
        assert!(PageParams { limit: Some(201), cursor: None }.validate().is_err());
        assert_eq!(PageParams::default().validate().unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn garbage_cursors_are_422_on_the_cursor_field() {
        for text in ["", "!!!", "djF8eHx5", &URL_SAFE_NO_PAD.encode("v2|1|a"), &URL_SAFE_NO_PAD.encode("v1|1|")] {
            match decode(text) {
                Err(ApiError::Validation(errors)) => assert_eq!(errors[0].field, "cursor"),
                other => panic!("{text:?} gave {other:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn cursors_round_trip(micros in -62_000_000_000_000_000i64..250_000_000_000_000_000i64, id in "[a-zA-Z0-9|-]{1,40}") {
            let cursor = cursor_at(micros, &id);
            prop_assert_eq!(decode(&encode(&cursor)).unwrap(), cursor);
        }

        #[test]
        fn decoding_never_panics(text in any::<String>()) {
            let _ = decode(&text);
        }

        #[test]
        fn paging_visits_every_row_once(n in 0usize..60, limit in 1u32..10) {
            let rows: Vec<(i64, String)> = (0..n).map(|i| (i as i64 / 3, format!("{i:03}"))).collect();
            let mut seen = Vec::new();
            let mut after: Option<Cursor> = None;
            loop {
                let request = PageRequest { limit, after: after.clone() };
                let remaining: Vec<_> = rows.iter().filter(|(t, id)| match &after {
                    None => true,
                    Some(c) => (cursor_at(*t, id).created_at, id.as_str()) > (c.created_at, c.id.as_str()),
                }).take(request.fetch_limit() as usize).cloned().collect();
                let page = Page::from_rows(remaining, &request, |r| cursor_at(r.0, &r.1), |r| r.1);
                seen.extend(page.items);
                match page.next_cursor {
                    Some(next) => after = Some(decode(&next).unwrap()),
                    None => break,
                }
            }
            prop_assert_eq!(seen, rows.into_iter().map(|r| r.1).collect::<Vec<_>>());
        }
    }
}
