//! Comment threads. Several objects carry one (charter drafts, experiments); each has its own
//! table of the same shape — (id, <parent>, author_id, body, created_at) — and this macro gives
//! each the same three queries, with the author's name joined in.

/// A comment with its author's name: (id, author_id, author_name, body, created_at).
pub type CommentRow = (String, Option<String>, Option<String>, String, chrono::NaiveDateTime);

macro_rules! comment_thread {
    ($table:ident, $parent:ident) => {
        /// Adds a comment; returns its id.
        pub fn add_comment(
            conn: &mut $crate::db::AnyConnection,
            parent_id: &str,
            author_id: &str,
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
