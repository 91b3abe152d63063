//! Comment threads. Several objects carry one (charter drafts, experiments); each has its own
//! table of the same shape — (id, <parent>, author_id, body, created_at) — and this macro gives
//! each the same three queries, with the author's name joined in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::UserId;
use crate::people::Person;

/// A comment with its author's name: (id, author_id, author_name, body, created_at).
pub type CommentRow = (String, Option<UserId>, Option<String>, String, chrono::NaiveDateTime);

/// The longest comment, in characters, on every thread.
pub const MAX_COMMENT_CHARS: usize = 4000;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NewComment {
    /// Markdown, 1 to 4000 characters.
    #[schema(value_type = String, required = true)]
    pub body: Option<String>,
}

/// A comment on any thread (charter drafts, experiments): the Markdown as written and rendered
/// to safe HTML, with its author.
#[derive(Debug, Serialize, ToSchema)]
pub struct Comment {
    #[schema(format = Uuid)]
    pub id: String,
    /// Null once the author has deleted their account.
    #[schema(value_type = Option<String>)]
    pub author_id: Option<UserId>,
    pub author: Option<Person>,
    /// The same as `author.display_name`.
    pub author_name: Option<String>,
    pub body: String,
    /// `body` rendered and sanitised.
    pub body_html: String,
    pub created_at: DateTime<Utc>,
}

impl From<CommentRow> for Comment {
    fn from((id, author_id, author_name, body, created_at): CommentRow) -> Self {
        Self {
            id,
            author: Person::maybe(author_id.clone(), author_name.clone()),
            author_id,
            author_name,
            body_html: crate::charter::markdown::to_safe_html(&body),
            body,
            created_at: created_at.and_utc(),
        }
    }
}

/// Checks a new comment's body: the same rule on every thread.
pub fn body(checks: &mut crate::validation::Checks, new: NewComment) -> String {
    checks.require("body", new.body, crate::validation::nonblank_text_up_to(MAX_COMMENT_CHARS))
}

macro_rules! comment_thread {
    ($table:ident, $parent:ident) => {
        /// Adds a comment; returns its id.
        pub fn add_comment(
            conn: &mut $crate::db::AnyConnection,
            parent_id: &str,
            author_id: &$crate::db::UserId,
            body: &str,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::error::ApiResult<String> {
            use diesel::prelude::*;
            let id = $crate::db::new_id();
            diesel::insert_into($table::table)
                .values((
                    $table::id.eq(&id),
                    $table::$parent.eq(parent_id),
                    $table::author_id.eq(author_id),
                    $table::body.eq(body),
                    $table::created_at.eq(now.naive_utc()),
                ))
                .execute(conn)?;
            Ok(id)
        }

        /// One page of the thread, oldest first, in one query.
        pub fn comments(
            conn: &mut $crate::db::AnyConnection,
            parent_id: &str,
            page: &$crate::pagination::PageRequest,
        ) -> $crate::error::ApiResult<Vec<$crate::comments::CommentRow>> {
            use diesel::prelude::*;
            use $crate::db::schema::users;
            let mut query = $table::table
                .left_join(users::table.on(users::id.nullable().eq($table::author_id)))
                .filter($table::$parent.eq(parent_id))
                .order(($table::created_at.asc(), $table::id.asc()))
                .limit(page.fetch_limit())
                .select((
                    $table::id,
                    $table::author_id,
                    users::display_name.nullable(),
                    $table::body,
                    $table::created_at,
                ))
                .into_boxed();
            query = $crate::pagination::after_cursor!(query, page, $table::created_at, $table::id);
            Ok(query.load(conn)?)
        }

        pub fn find_comment(
            conn: &mut $crate::db::AnyConnection,
            id: &str,
        ) -> $crate::error::ApiResult<$crate::comments::CommentRow> {
            use diesel::prelude::*;
            use $crate::db::schema::users;
            Ok($table::table
                .left_join(users::table.on(users::id.nullable().eq($table::author_id)))
                .filter($table::id.eq(id))
                .select((
                    $table::id,
                    $table::author_id,
                    users::display_name.nullable(),
                    $table::body,
                    $table::created_at,
                ))
                .first(conn)?)
        }
    };
}
pub(crate) use comment_thread;
