//! Enums stored as text.

/// Implements `as_str`, `parse_stored` and diesel's `ToSql`/`FromSql` for `Text` (on every
/// backend: SQLite, PostgreSQL and the `AnyConnection` multi-backend) for an enum kept as text
/// in the database. The enum itself derives `diesel::AsExpression` and `diesel::FromSqlRow` with
/// `#[diesel(sql_type = diesel::sql_types::Text)]`, so row structs hold the enum, not a `String`.
///
/// CHECK constraints keep other values out. Should one appear anyway (a hand edit, a newer
/// release's value read by an older one), reading it is an error: the query fails and the request
/// answers 500, with a log line that names the column and the value. It never reads as some other
/// variant.
macro_rules! stored_as_text {
    ($ty:ident, { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            #[allow(dead_code)]
            pub const ALL: &'static [$ty] = &[$(Self::$variant),+];

            /// The text stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// The variant stored as `text`, if it is one.
            pub fn parse_stored(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.as_str(), out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
                Self::parse_stored(&text).ok_or_else(|| $crate::db::text_enum::unknown_value(stringify!($ty), &text))
            }
        }
    };
}
pub(crate) use stored_as_text;

/// The error for a stored value no variant has. diesel wraps it in a `DeserializeFieldError`
/// that names the column, and `ApiError::Internal` logs the whole chain.
pub fn unknown_value(type_name: &str, text: &str) -> Box<dyn std::error::Error + Send + Sync> {
    format!("unknown {type_name} {text:?} stored in the database").into()
}
