//! Enums stored as text.

/// Implements `as_str` and `from_stored` for an enum kept as text in the database. CHECK
/// constraints keep other values out; should one appear anyway (a hand edit), it reads as the least-privileged variant.
macro_rules! stored_as_text {
    ($ty:ident, fallback = $fallback:ident, { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            pub fn from_stored(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => {
                        tracing::error!(value = other, concat!("unknown ", stringify!($ty), " in the database"));
                        Self::$fallback
                    }
                }
            }
        }
    };
}
pub(crate) use stored_as_text;
