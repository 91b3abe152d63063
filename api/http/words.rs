//! Serde's error texts ("invalid type: string \"x\", expected u32", "premature end of input",
//! "missing field `email`") turned into the API's plain words, with a stable code, so every 422
//! says which field and what it expects the way a person would. Pure: text in, text out.

/// The field a deserialisation error is about and `(code, message)` for it. `path` is where the
/// error happened (serde_path_to_error's path; empty or "." at the top), `fallback` names the
/// whole input (`body`, `query`) when no field is known.
pub fn field_error(path: &str, message: &str, fallback: &str) -> (String, (&'static str, String)) {
    let at = if path.is_empty() || path == "." { None } else { Some(path) };
    if let Some(name) = between(message, "missing field `", "`") {
        let field = at.map_or(name.to_string(), |p| format!("{p}.{name}"));
        return (field, ("required", "is required".to_string()));
    }
    if let Some(name) = between(message, "unknown field `", "`") {
        let field = at.map_or(name.to_string(), |p| format!("{p}.{name}"));
        return (field, ("unknown_field", UNKNOWN_FIELD.to_string()));
    }
    (at.unwrap_or(fallback).to_string(), plain(message))
}

pub const UNKNOWN_FIELD: &str = "is not a field of this request (check the spelling against the API documentation)";

/// `(code, message)` for one serde error text.
pub fn plain(message: &str) -> (&'static str, String) {
    let text = message.split(" at line ").next().unwrap_or(message).trim();
    if let Some(rest) = text.strip_prefix("unknown variant ") {
        let choices = choices(rest.split_once("expected").map_or("", |(_, e)| e));
        return ("invalid_choice", format!("must be one of: {}", choices.join(", ")));
    }
    if text.starts_with("invalid type: null") {
        let expected = text.split_once("expected ").map_or("a value", |(_, e)| e);
        return ("required", format!("must not be null; it must be {}", expected_words(expected)));
    }
    if let Some(rest) = text.strip_prefix("invalid type: ").or_else(|| text.strip_prefix("invalid value: ")) {
        let expected = rest.split_once("expected ").map_or("", |(_, e)| e);
        if text.starts_with("invalid value: integer") && is_unsigned(expected) {
            return ("out_of_range", "must be a whole number, 0 or more".to_string());
        }
        let code = if text.starts_with("invalid value") { "invalid_value" } else { "invalid_type" };
        if !expected.is_empty() {
            return (code, format!("must be {}", expected_words(expected)));
        }
    }
    if let Some(rest) = text.strip_prefix("invalid length ") {
        let expected = rest.split_once("expected ").map_or("", |(_, e)| e);
        return ("invalid_length", format!("has the wrong number of items (expected {expected})"));
    }
    const CHRONO: [&str; 7] = [
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "input is out of range",
        "input is not enough for unique date and time",
        "no possible date and time matching input",
        "bad or unsupported format string",
    ];
    if CHRONO.contains(&text) {
        return (
            "invalid_format",
            "must be a date (2027-03-16) or a date and time with its offset (2027-03-16T18:00:00Z)".to_string(),
        );
    }
    if text.contains("UUID") || text.starts_with("invalid character: expected an optional prefix of `urn:uuid:`") {
        return ("invalid_format", "must be a UUID".to_string());
    }
    match text {
        "invalid digit found in string" | "cannot parse integer from empty string" => {
            ("invalid_type", "must be a whole number".to_string())
        }
        "number too large to fit in target type" | "number too small to fit in target type" => {
            ("out_of_range", "is out of range".to_string())
        }
        "invalid float literal" => ("invalid_type", "must be a number".to_string()),
        "provided string was not `true` or `false`" => ("invalid_type", "must be true or false".to_string()),
        _ => ("invalid_value", text.to_string()),
    }
}

/// What serde calls the expected type, in plain words.
fn expected_words(expected: &str) -> String {
    let e = expected.trim();
    match e {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more".to_string(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".to_string(),
        "f32" | "f64" => "a number".to_string(),
        "a string" | "a borrowed string" | "a char" => "text (a JSON string)".to_string(),
        "a boolean" => "true or false".to_string(),
        "a sequence" => "a list (a JSON array)".to_string(),
        "a map" => "an object".to_string(),
        _ if e.starts_with("struct ") => "an object".to_string(),
        _ if e.starts_with("a formatted date and time string") || e.contains("RFC 3339") => {
            "a date and time with its offset (2027-03-16T18:00:00Z)".to_string()
        }
        _ if e.starts_with("a formatted date string") => "a date (2027-03-16)".to_string(),
        _ if e.contains('`') => format!("one of: {}", choices(e).join(", ")),
        _ => e.to_string(),
    }
}

fn is_unsigned(expected: &str) -> bool {
    matches!(expected.trim(), "u8" | "u16" | "u32" | "u64" | "u128" | "usize")
}

/// The names in backticks: "one of `a`, `b`" -> [a, b].
fn choices(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = text.split_once(start)?.1;
    Some(rest.split_once(end)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_in_plain_words() {
        assert_eq!(plain("invalid type: string \"three\", expected u32").1, "must be a whole number, 0 or more");
        assert_eq!(plain("invalid type: integer `3`, expected a string").1, "must be text (a JSON string)");
        assert_eq!(plain("invalid type: string \"x\", expected a boolean").1, "must be true or false");
        assert_eq!(plain("invalid type: map, expected a sequence").1, "must be a list (a JSON array)");
        assert_eq!(plain("invalid value: integer `-1`, expected u32").0, "out_of_range");
        assert_eq!(plain("invalid type: null, expected a string").0, "required");
    }

    #[test]
    fn choices_are_listed() {
        assert_eq!(plain("unknown variant `x`, expected `yes` or `no`").1, "must be one of: yes, no");
        assert_eq!(plain("unknown variant `x`, expected one of `a`, `b`, `c`").1, "must be one of: a, b, c");
    }

    #[test]
    fn chrono_and_uuid_errors_say_the_format() {
        for text in ["premature end of input", "input contains invalid characters", "trailing input"] {
            let (code, message) = plain(text);
            assert_eq!(code, "invalid_format");
            assert!(message.contains("2027-03-16"), "{message}");
        }
        assert_eq!(plain("UUID parsing failed: invalid length").1, "must be a UUID");
    }

    #[test]
    fn missing_and_unknown_fields_are_named() {
        assert_eq!(
            field_error(".", "missing field `email`", "body"),
            ("email".into(), ("required", "is required".into()))
        );
        assert_eq!(field_error("metric", "missing field `name`", "body").0, "metric.name");
        assert_eq!(field_error("", "unknown field `colour`, expected one of `a`", "body").1.0, "unknown_field");
        assert_eq!(field_error("", "invalid digit found in string", "query").0, "query");
    }

    #[test]
    fn no_message_keeps_rust_words() {
        for text in [
            "invalid type: string \"a\", expected u32",
            "invalid type: string \"a\", expected i64",
            "invalid type: string \"a\", expected f64",
            "invalid type: string \"a\", expected struct Metric",
        ] {
            let message = plain(text).1;
            for rust in ["u32", "i64", "f64", "struct", "Metric"] {
                assert!(!message.contains(rust), "{text} -> {message}");
            }
        }
    }
}
