//! Input validation: pure validators for the fields people type, and `Checks`, which runs them
//! and collects every failure so one 422 names all invalid fields at once.

use email_address::{EmailAddress, Options};

use crate::error::{ApiError, ApiResult, FieldError};

/// Why a value was refused: a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

/// The years a date or time given to the API may fall in: what both backends store, and far
/// beyond any cohort's life.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

fn out_of_years() -> Invalid {
    Invalid::new("out_of_range", format!("must fall in the years {} to {}", YEARS.start(), YEARS.end()))
}

/// A year in `YEARS`.
pub fn year(year: i32) -> Result<(), Invalid> {
    if YEARS.contains(&year) { Ok(()) } else { Err(out_of_years()) }
}

/// A calendar date as `YYYY-MM-DD`, in `YEARS`.
pub fn date(raw: String) -> Result<chrono::NaiveDate, Invalid> {
    let day: chrono::NaiveDate =
        raw.trim().parse().map_err(|_| Invalid::new("invalid_format", "must be a date as YYYY-MM-DD"))?;
    if YEARS.contains(&chrono::Datelike::year(&day)) { Ok(day) } else { Err(out_of_years()) }
}

/// An instant in `YEARS`.
pub fn instant(at: chrono::DateTime<chrono::Utc>) -> Result<chrono::DateTime<chrono::Utc>, Invalid> {
    if YEARS.contains(&chrono::Datelike::year(&at)) { Ok(at) } else { Err(out_of_years()) }
}

#[derive(Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail(&mut self, field: &str, invalid: Invalid) {
        self.errors.push(FieldError::new(field, invalid.code, invalid.message));
    }

    /// A field that must be present and valid. On failure the error is recorded and a default
    /// stands in; `finish` then refuses the request, so the default is never used.
    pub fn require<T, U: Default>(
        &mut self,
        field: &str,
        value: Option<T>,
        validate: impl FnOnce(T) -> Result<U, Invalid>,
    ) -> U {
        match value {
            None => {
                self.fail(field, Invalid::new("required", "is required"));
                U::default()
            }
            Some(v) => self.valid(field, v, validate),
        }
    }

    /// A field that may be absent; when present it must be valid.
    pub fn optional<T, U: Default>(
        &mut self,
        field: &str,
        value: Option<T>,
        validate: impl FnOnce(T) -> Result<U, Invalid>,
    ) -> Option<U> {
        value.map(|v| self.valid(field, v, validate))
    }

    fn valid<T, U: Default>(&mut self, field: &str, value: T, validate: impl FnOnce(T) -> Result<U, Invalid>) -> U {
        validate(value).unwrap_or_else(|invalid| {
            self.fail(field, invalid);
            U::default()
        })
    }

    /// A list that may be absent: at most `max_items`, each item checked and named by its index
    /// (`goals[2]`). Invalid items are dropped; `finish` refuses the request anyway.
    pub fn list<U>(
        &mut self,
        field: &str,
        value: Option<Vec<String>>,
        max_items: usize,
        validate: impl Fn(String) -> Result<U, Invalid>,
    ) -> Option<Vec<U>> {
        let items = value?;
        if items.len() > max_items {
            self.fail(field, Invalid::new("too_many", format!("must have at most {max_items} items")));
            return Some(Vec::new());
        }
        let mut valid = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match validate(item) {
                Ok(v) => valid.push(v),
                Err(invalid) => self.fail(&format!("{field}[{i}]"), invalid),
            }
        }
        Some(valid)
    }

    pub fn finish(self) -> ApiResult<()> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.errors)) }
    }
}

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// An email address as typed (trimmed). Uniqueness compares `email_key` of it.
pub fn email(raw: String) -> Result<String, Invalid> {
    let trimmed = raw.trim();
    if trimmed.len() > 254 {
        return Err(Invalid::new("too_long", "must be at most 254 characters"));
    }
    let options = Options::default().with_required_tld().without_display_text().without_domain_literal();
    EmailAddress::parse_with_options(trimmed, options)
        .map(|_| trimmed.to_string())
        .map_err(|_| Invalid::new("invalid_format", "must be an email address like ada@example.com"))
}

/// The key under which an address is unique: case-insensitive, as people expect.
pub fn email_key(address: &str) -> String {
    address.trim().to_lowercase()
}

/// NIST SP 800-63B: length is what counts (8 to 128 characters, any characters), no composition rules.
pub fn password(raw: String) -> Result<String, Invalid> {
    let chars = raw.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(Invalid::new("too_short", format!("must be at least {PASSWORD_MIN_CHARS} characters")));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(Invalid::new("too_long", format!("must be at most {PASSWORD_MAX_CHARS} characters")));
    }
    Ok(raw)
}

/// A name shown to peers: 1 to 80 characters after trimming, no control characters.
pub fn display_name(raw: String) -> Result<String, Invalid> {
    one_line(raw, 80)
}

/// A short name for a thing (a cohort, a token): 1 to 120 characters after trimming, one line.
pub fn label(raw: String) -> Result<String, Invalid> {
    one_line(raw, 120)
}

fn one_line(raw: String, max: usize) -> Result<String, Invalid> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Invalid::new("required", "must not be blank"));
    }
    if trimmed.chars().count() > max {
        return Err(Invalid::new("too_long", format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Invalid::new("invalid_format", "must be one line without control characters"));
    }
    Ok(trimmed.to_string())
}

/// A one-line item of a list, 1 to `max` characters.
pub fn item_up_to(max: usize) -> impl Fn(String) -> Result<String, Invalid> {
    move |raw: String| one_line(raw, max)
}

/// A whole number within `range`.
pub fn number_in(range: std::ops::RangeInclusive<i64>) -> impl Fn(i64) -> Result<i64, Invalid> {
    move |n: i64| {
        if range.contains(&n) {
            Ok(n)
        } else {
            Err(Invalid::new("out_of_range", format!("must be between {} and {}", range.start(), range.end())))
        }
    }
}

/// Free text such as a description: at most `max` characters (newlines allowed).
pub fn text_up_to(max: usize) -> impl Fn(String) -> Result<String, Invalid> {
    move |raw: String| {
        let trimmed = raw.trim();
        if trimmed.chars().count() > max {
            return Err(Invalid::new("too_long", format!("must be at most {max} characters")));
        }
        Ok(trimmed.to_string())
    }
}

/// Text that must say something: 1 to `max` characters after trimming.
pub fn nonblank_text_up_to(max: usize) -> impl Fn(String) -> Result<String, Invalid> {
    move |raw: String| {
        let text = text_up_to(max)(raw)?;
        if text.is_empty() { Err(Invalid::new("required", "must not be blank")) } else { Ok(text) }
    }
}

/// Markdown, kept exactly as written, up to `max` characters.
pub fn markdown_up_to(max: usize) -> impl Fn(String) -> Result<String, Invalid> {
    move |raw: String| {
        if raw.chars().count() > max {
            return Err(Invalid::new("too_long", format!("must be at most {max} characters")));
        }
        Ok(raw)
    }
}

/// An IANA time zone name such as `Europe/Berlin`.
pub fn time_zone(raw: String) -> Result<crate::db::TimeZone, Invalid> {
    crate::db::TimeZone::from_name(raw.trim())
        .ok_or_else(|| Invalid::new("unknown_time_zone", "must be an IANA time zone such as Europe/Berlin"))
}

/// A BCP 47 language tag such as `en` or `pt-BR`.
pub fn locale(raw: String) -> Result<String, Invalid> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.len() > 35 {
        return Err(Invalid::new("invalid_format", "must be a language tag such as en or pt-BR"));
    }
    language_tags::LanguageTag::parse(trimmed)
        .ok()
        .filter(|tag| tag.is_valid())
        .map(|tag| tag.to_string())
        .ok_or_else(|| Invalid::new("invalid_format", "must be a language tag such as en or pt-BR"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_instants_stay_in_the_years_both_backends_store() {
        assert!(date("2027-03-16".into()).is_ok());
        assert_eq!(date("0001-01-01".into()).unwrap_err().code, "out_of_range");
        assert_eq!(date("16.03.2027".into()).unwrap_err().code, "invalid_format");
        let far: chrono::DateTime<chrono::Utc> = "+262142-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(instant(far).unwrap_err().code, "out_of_range");
        assert!(instant(chrono::Utc::now()).is_ok());
    }
    use proptest::prelude::*;

    #[test]
    fn known_good_and_bad_values() {
        assert_eq!(email("  Ada@Example.com ".into()).unwrap(), "Ada@Example.com");
        assert!(email("ada@localhost".into()).is_err());
        assert!(email("Ada <ada@example.com>".into()).is_err());
        assert!(email("not-an-email".into()).is_err());
        assert_eq!(email_key(" Ada@Example.COM"), "ada@example.com");
        assert_eq!(password("12345678".into()).unwrap(), "12345678");
        assert_eq!(password("1234567".into()).unwrap_err().code, "too_short");
        assert_eq!(time_zone(" Europe/Berlin ".into()).unwrap().name(), "Europe/Berlin");
        assert_eq!(time_zone("Mars/Olympus".into()).unwrap_err().code, "unknown_time_zone");
        assert_eq!(locale("pt-BR".into()).unwrap(), "pt-BR");
        assert!(locale("not a tag".into()).is_err());
        assert_eq!(display_name("  Ada  ".into()).unwrap(), "Ada");
        assert!(display_name("   ".into()).is_err());
    }

    #[test]
    fn checks_collect_every_failure() {
        let mut checks = Checks::new();
        let e: String = checks.require("email", Some("nope".to_string()), email);
        let p: String = checks.require("password", None::<String>, password);
        let l = checks.optional("locale", None::<String>, locale);
        assert!(e.is_empty() && p.is_empty() && l.is_none());
        match checks.finish() {
            Err(ApiError::Validation(errors)) => {
                let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
                assert_eq!(fields, vec![("email", "invalid_format"), ("password", "required")]);
            }
            other => panic!("expected validation errors, got {other:?}"),
        }
    }

    proptest! {
        #[test]
        fn password_length_rule_counts_characters(s in "\\PC{0,200}") {
            let n = s.chars().count();
            prop_assert_eq!(password(s).is_ok(), (PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&n));
        }

        #[test]
        fn validators_never_panic(s in any::<String>()) {
            let _ = email(s.clone());
            let _ = display_name(s.clone());
            let _ = time_zone(s.clone());
            let _ = locale(s);
        }

        #[test]
        fn every_iana_zone_is_accepted(i in 0usize..chrono_tz::TZ_VARIANTS.len()) {
            let tz = chrono_tz::TZ_VARIANTS[i];
            prop_assert_eq!(time_zone(tz.name().to_string()).unwrap().tz(), tz);
        }

        #[test]
        fn accepted_emails_are_stable_and_keys_idempotent(local in "[a-zA-Z0-9._%+-]{1,20}", domain in "[a-z0-9-]{1,20}\\.(com|org|de)") {
            let typed = format!("{local}@{domain}");
            if let Ok(valid) = email(typed.clone()) {
                prop_assert_eq!(email(valid.clone()).unwrap(), valid.clone());
                prop_assert_eq!(email_key(&email_key(&valid)), email_key(&valid));
            }
        }

        #[test]
        fn display_names_never_keep_controls_or_edges(s in any::<String>()) {
            if let Ok(name) = display_name(s) {
                prop_assert!(!name.chars().any(char::is_control));
                prop_assert_eq!(name.trim(), name.as_str());
                prop_assert!((1..=80).contains(&name.chars().count()));
            }
        }
    }
}
