//! Checking the fields of a charter version, all at once.

use super::model::{CharterFields, LEARNING_FORMATS};
use super::review::ReviewCadence;
use crate::error::ApiResult;
use crate::validation::{self, Checks, Invalid};

const MISSION_MAX: usize = 2000;
const MARKDOWN_MAX: usize = 20_000;

/// Valid fields; `None` where the request left a field out.
#[derive(Debug, Default, Clone)]
pub struct ValidFields {
    pub mission: Option<String>,
    pub goals: Option<Vec<String>>,
    pub weekly_minutes: Option<i32>,
    pub learning_formats: Option<Vec<String>>,
    pub other_learning_formats: Option<Vec<String>>,
    pub norms: Option<String>,
    pub confidentiality: Option<String>,
    pub project_kinds: Option<Vec<String>>,
    pub review_cadence: Option<ReviewCadence>,
}

fn known_format(raw: String) -> Result<String, Invalid> {
    let format = raw.trim().to_string();
    if LEARNING_FORMATS.contains(&format.as_str()) {
        Ok(format)
    } else {
        Err(Invalid::new(
            "unknown_format",
            format!("must be one of {}; put others in other_learning_formats", LEARNING_FORMATS.join(", ")),
        ))
    }
}

fn cadence(raw: ReviewCadence) -> Result<ReviewCadence, Invalid> {
    if (1..=52).contains(&raw.every) {
        Ok(raw)
    } else {
        Err(Invalid::new("out_of_range", "every must be between 1 and 52"))
    }
}

/// Checks the fields present; with `proposing`, the ones a new version cannot do without must
/// be there too.
pub fn check(body: CharterFields, proposing: bool) -> ApiResult<ValidFields> {
    let mut checks = Checks::new();
    let require = |field: &str, present: bool, checks: &mut Checks| {
        if proposing && !present {
            checks.fail(field, Invalid::new("required", "is required"));
        }
    };
    require("mission", body.mission.is_some(), &mut checks);
    require("weekly_minutes", body.weekly_minutes.is_some(), &mut checks);
    require("review_cadence", body.review_cadence.is_some(), &mut checks);
    let minutes = validation::number_in(0..=10_080);
    let mut fields = ValidFields {
        mission: checks.optional("mission", body.mission, validation::nonblank_text_up_to(MISSION_MAX)),
        goals: checks.list("goals", body.goals, 20, validation::item_up_to(200)),
        weekly_minutes: checks
            .optional("weekly_minutes", body.weekly_minutes.map(i64::from), minutes)
            .map(|m| m as i32),
        learning_formats: checks.list("learning_formats", body.learning_formats, LEARNING_FORMATS.len(), known_format),
        other_learning_formats: checks.list(
            "other_learning_formats",
            body.other_learning_formats,
            10,
            validation::item_up_to(100),
        ),
        norms: checks.optional("norms", body.norms, validation::markdown_up_to(MARKDOWN_MAX)),
        confidentiality: checks.optional(
            "confidentiality",
            body.confidentiality,
            validation::markdown_up_to(MARKDOWN_MAX),
        ),
        project_kinds: checks.list("project_kinds", body.project_kinds, 20, validation::item_up_to(120)),
        review_cadence: body.review_cadence.and_then(|c| match cadence(c) {
            Ok(c) => Some(c),
            Err(invalid) => {
                checks.fail("review_cadence.every", invalid);
                None
            }
        }),
    };
    checks.finish()?;
    if let Some(formats) = fields.learning_formats.as_mut() {
        formats.dedup();
    }
    Ok(fields)
}
