//! What changed between two charter versions, field by field (pure): text fields as a word-level
//! diff, lists as items added and removed, numbers and the cadence as before and after.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};
use utoipa::ToSchema;

use super::model::CharterContent;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WordOp {
    Equal,
    Insert,
    Delete,
}

/// A run of words (with their spacing) that is kept, inserted or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WordChange {
    pub op: WordOp,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldDiff {
    pub field: &'static str,
    pub changed: bool,
    /// Text fields: the whole text as runs; reading only `equal` and `insert` gives the new text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub words: Option<Vec<WordChange>>,
    /// List fields: items only in the newer version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added: Option<Vec<String>>,
    /// List fields: items only in the older version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<Vec<String>>,
    /// Value fields: the older value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    /// Value fields: the newer value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
}

impl FieldDiff {
    fn empty(field: &'static str, changed: bool) -> Self {
        Self { field, changed, words: None, added: None, removed: None, before: None, after: None }
    }
}

pub fn words(old: &str, new: &str) -> Vec<WordChange> {
    let mut runs: Vec<WordChange> = Vec::new();
    for change in TextDiff::from_words(old, new).iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => WordOp::Equal,
            ChangeTag::Insert => WordOp::Insert,
            ChangeTag::Delete => WordOp::Delete,
        };
        match runs.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => runs.push(WordChange { op, text: change.value().to_string() }),
        }
    }
    runs
}

fn text(field: &'static str, old: &str, new: &str) -> FieldDiff {
    FieldDiff { words: Some(words(old, new)), ..FieldDiff::empty(field, old != new) }
}

fn list(field: &'static str, old: &[String], new: &[String]) -> FieldDiff {
    let added = new.iter().filter(|item| !old.contains(item)).cloned().collect();
    let removed = old.iter().filter(|item| !new.contains(item)).cloned().collect();
    FieldDiff { added: Some(added), removed: Some(removed), ..FieldDiff::empty(field, old != new) }
}

fn value<T: Serialize + PartialEq>(field: &'static str, old: &T, new: &T) -> FieldDiff {
    let json = |v: &T| serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
    FieldDiff { before: Some(json(old)), after: Some(json(new)), ..FieldDiff::empty(field, old != new) }
}

/// Every field of the charter, in document order.
pub fn diff(old: &CharterContent, new: &CharterContent) -> Vec<FieldDiff> {
    vec![
        text("mission", &old.mission, &new.mission),
        list("goals", &old.goals, &new.goals),
        value("weekly_minutes", &old.weekly_minutes, &new.weekly_minutes),
        list("learning_formats", &old.learning_formats, &new.learning_formats),
        list("other_learning_formats", &old.other_learning_formats, &new.other_learning_formats),
        text("norms", &old.norms, &new.norms),
        text("confidentiality", &old.confidentiality, &new.confidentiality),
        list("project_kinds", &old.project_kinds, &new.project_kinds),
        value("review_cadence", &old.review_cadence, &new.review_cadence),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charter::review::{ReviewCadence, ReviewUnit};
    use proptest::prelude::*;

    fn content(mission: &str) -> CharterContent {
        CharterContent {
            mission: mission.into(),
            goals: vec!["ship".into(), "learn".into()],
            weekly_minutes: 90,
            learning_formats: vec!["workshop".into()],
            other_learning_formats: vec![],
            norms: "Be candid.".into(),
            confidentiality: "What is said here stays here.".into(),
            project_kinds: vec![],
            review_cadence: ReviewCadence { every: 3, unit: ReviewUnit::Months },
        }
    }

    #[test]
    fn words_lists_and_values_are_compared() {
        let old = content("Grow as staff engineers together");
        let mut new = content("Grow as principal engineers together");
        new.goals = vec!["learn".into(), "mentor".into()];
        new.weekly_minutes = 120;
        let fields = diff(&old, &new);
        assert_eq!(fields.len(), 9);
        let mission = &fields[0];
        assert!(mission.changed);
        let ops: Vec<(WordOp, &str)> =
            mission.words.as_ref().unwrap().iter().map(|w| (w.op, w.text.as_str())).collect();
        assert_eq!(
            ops,
            vec![
                (WordOp::Equal, "Grow as "),
                (WordOp::Delete, "staff"),
                (WordOp::Insert, "principal"),
                (WordOp::Equal, " engineers together")
            ]
        );
        assert_eq!(fields[1].added.as_deref(), Some(&["mentor".to_string()][..]));
        assert_eq!(fields[1].removed.as_deref(), Some(&["ship".to_string()][..]));
        assert_eq!((fields[2].before.clone(), fields[2].after.clone()), (Some(90.into()), Some(120.into())));
        assert!(!fields[5].changed && !fields[8].changed);
    }

    proptest! {
        /// Keeping the equal and inserted runs rebuilds the new text; equal and deleted, the old.
        #[test]
        fn word_diffs_rebuild_both_texts(old in "[a-z ,.]{0,60}", new in "[a-z ,.]{0,60}") {
            let runs = words(&old, &new);
            let rebuild = |skip: WordOp| runs.iter().filter(|r| r.op != skip).map(|r| r.text.as_str()).collect::<String>();
            prop_assert_eq!(rebuild(WordOp::Delete), new);
            prop_assert_eq!(rebuild(WordOp::Insert), old);
        }
    }
}
