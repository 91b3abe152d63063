//! Ids as types: a user's id and a cohort's id are both UUIDv7 text in the database, but they are
//! not interchangeable in the code. Each kind of id is its own newtype, read from and written to a
//! `Text` column like a string (diesel `ToSql`/`FromSql`, through `AnyConnection`'s MultiBackend),
//! serialised as the bare string (`#[serde(transparent)]`) and documented in the OpenAPI document as
//! a `uuid`-formatted string, so neither the wire nor the schema changes.
//!
//! What this prevents: a function that takes a `&CohortId` does not accept a `&UserId` (nor a bare
//! `&str`), so swapping two ids at a call site (`is_member(user_id, cohort_id)` for
//! `is_member(cohort_id, user_id)`) is a compile error rather than a query that quietly finds
//! nothing. An id comes into being in three ways only: freshly made (`new`), read from its column,
//! or taken from untyped text at an edge (`from_untyped`: a path segment, a body field, a
//! column of a row struct not converted yet). Each type derefs to `str` so it can still be handed to code that takes untyped
//! text (a log field, a `format!`), which only ever forgets the kind, never mistakes it.

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
            /// body field (the query then finds whether it exists), or a column of a row struct
            /// that still holds a `String`. Grep for it to find the remaining untyped edges.
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

        impl std::ops::Deref for $ty {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $ty {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        // Untyped text (a row struct not converted yet) compared with a typed id.
        impl PartialEq<$ty> for String {
            fn eq(&self, other: &$ty) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<&$ty> for String {
            fn eq(&self, other: &&$ty) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$ty> for str {
            fn eq(&self, other: &$ty) -> bool {
                self == other.0
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
