//! Ids as types: a user's id, a cohort's id and a session's id are all UUIDv7 text in the
//! database, but they are not interchangeable in the code. Each kind of id is its own newtype,
//! read from and written to a `Text` column like a string (diesel `ToSql`/`FromSql`, through
//! `AnyConnection`'s MultiBackend), serialised as the bare string (`#[serde(transparent)]`) and
//! documented in the OpenAPI document as a `uuid`-formatted string (a field of one of these types
//! says `#[schema(value_type = String, format = Uuid)]`), so neither the wire nor the schema
//! changes.
//!
//! Where they are used: every row struct field that holds one of these ids (`cohort_id`,
//! `user_id`, `created_by`, `owner_id`, `sessions.id`, `session_id`, ...), every store function
//! that takes one, the views that show one, `NewEvent`'s actor and cohort, and the path segments
//! and body fields that name one (deserialised straight into the type). Event payloads keep
//! their ids as text, and ids of other kinds (charter versions, experiments, duties, swap
//! requests, ...) are still `String`.
//!
//! What this prevents: a function that takes a `&CohortId` does not accept a `&UserId` (nor a bare
//! `&str`), so swapping two ids at a call site (`is_member(user_id, cohort_id)` for
//! `is_member(cohort_id, user_id)`) is a compile error rather than a query that quietly finds
//! nothing. An id is not text either: there is no `Deref<Target = str>` and no comparison with
//! `str`/`String`, so handing one to code that takes text says so (`as_str()`, `AsRef<str>`,
//! `Display`, `String::from`), which only ever forgets the kind, never mistakes it.
//!
//! An id comes into being in three ways only: freshly made (`new`), read from its column (or
//! deserialised from a request), or taken from untyped text at an edge (`from_untyped`). The
//! edges left, by design: a token's `sub` claim, the checks stored as text with an idempotency
//! record, the rota planner's output (`rota::plan` is pure and works on text labels), an event's
//! `subject_id` (any kind of id), a body field checked by `Checks::require` (which needs a
//! `Default`), and a test fixture written as raw SQL.
//!
//! The examples below are the guarantee (`cargo test --doc` runs them; nextest does not, so
//! `tests/api/typed_columns.rs` also checks that the ids round-trip through their columns on both
//! backends and that row structs hold them typed).
//!
//! ```compile_fail
//! use roundtable::db::{CohortId, UserId};
//! fn cohort_only(_: &CohortId) {}
//! // A user's id where a cohort's is expected does not compile.
//! cohort_only(&UserId::new());
//! ```
//!
//! ```compile_fail
//! use roundtable::db::SessionId;
//! fn text_only(_: &str) {}
//! // Nor does an id where text is expected: no `Deref<Target = str>`; say `.as_str()`.
//! text_only(&SessionId::new());
//! ```
//!
//! ```compile_fail
//! use roundtable::db::UserId;
//! // Nor does comparing an id with untyped text.
//! let _ = UserId::new() == "0193a5a0-7c1e-7d2a-9a51-2b1f3c4d5e6f".to_string();
//! ```
//!
//! ```
//! use roundtable::db::{CohortId, UserId};
//! fn cohort_only(_: &CohortId) {}
//! // The same call with the right kind compiles, so the examples above fail for the kind only.
//! cohort_only(&CohortId::new());
//! let user = UserId::new();
//! assert_eq!(user.as_str(), user.to_string());
//! ```

use std::fmt;

macro_rules! text_id {
    ($(#[$meta:meta])* $ty:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            serde::Serialize,
            serde::Deserialize,
            diesel::AsExpression,
            diesel::FromSqlRow,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $ty(String);

        impl $ty {
            /// A fresh id (UUIDv7, so ids sort by creation time).
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(super::new_id())
            }

            #[doc = concat!("Text that names a ", $what, " but comes from somewhere untyped: a request's path segment or")]
            /// body field (the query then finds whether it exists), a token claim, stored text.
            /// Grep for it to find the untyped edges (the module doc lists them).
            pub fn from_untyped(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<&$ty> for $ty {
            fn eq(&self, other: &&$ty) -> bool {
                self.0 == other.0
            }
        }

        impl From<$ty> for String {
            fn from(id: $ty) -> String {
                id.0
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(&self.0, out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes).map(Self)
            }
        }
    };
}

text_id!(
    /// A user's id (`users.id`, and every column that names a user: `memberships.user_id`,
    /// `cohorts.created_by`, ...). Not a `CohortId`: see the module doc.
    UserId,
    "user"
);

text_id!(
    /// A cohort's id (`cohorts.id`, and every `cohort_id` column). Not a `UserId`: see the module
    /// doc.
    CohortId,
    "cohort"
);

text_id!(
    /// A session's id (`sessions.id`, and every `session_id` column). Not a `CohortId` nor a
    /// `UserId`: see the module doc.
    SessionId,
    "session"
);
