//! Column types that are more than their text: a value is checked once, when it is read, so code
//! past the row struct never parses it again (nor falls back to a default when it does not parse).

use std::fmt;
use std::str::FromStr;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// An IANA time zone (`Europe/Berlin`), stored as its name in a `Text` column: `cohorts.time_zone`
/// and `users.time_zone`. A stored name chrono-tz does not know is a deserialisation error (the
/// query fails, the log names the column and the value), never UTC in disguise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct TimeZone(pub chrono_tz::Tz);

impl TimeZone {
    pub const UTC: Self = Self(chrono_tz::UTC);

    /// The zone for an exact IANA name, if chrono-tz knows it.
    pub fn from_name(name: &str) -> Option<Self> {
        name.parse::<chrono_tz::Tz>().ok().map(Self)
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// The IANA name, as stored.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

/// UTC, as the stand-in `validation::Checks` puts in place of a field that failed its check (the
/// request is then refused, so it is never stored). Stored zones are never defaulted.
impl Default for TimeZone {
    fn default() -> Self {
        Self::UTC
    }
}

impl From<chrono_tz::Tz> for TimeZone {
    fn from(tz: chrono_tz::Tz) -> Self {
        Self(tz)
    }
}

impl From<TimeZone> for chrono_tz::Tz {
    fn from(zone: TimeZone) -> Self {
        zone.0
    }
}

impl FromStr for TimeZone {
    type Err = chrono_tz::ParseError;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        name.parse().map(Self)
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl<DB> ToSql<Text, DB> for TimeZone
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <str as ToSql<Text, DB>>::to_sql(self.name(), out)
    }
}

impl<DB> FromSql<Text, DB> for TimeZone
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let name = <String as FromSql<Text, DB>>::from_sql(bytes)?;
        Self::from_name(&name).ok_or_else(|| super::text_enum::unknown_value("time zone", &name))
    }
}
