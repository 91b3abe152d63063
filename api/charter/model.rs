use crate::people::Person;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::markdown::to_safe_html;
use super::review::{ReviewCadence, ReviewUnit};
use crate::db::schema::charter_versions;
use crate::db::{CohortId, UserId, stored_as_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum VersionState {
    /// Proposed; its author may still edit it.
    Draft,
    /// The cohort's current charter.
    Adopted,
    /// Replaced by a later adoption; never changes again.
    Superseded,
}
stored_as_text!(VersionState, { Draft = "draft", Adopted = "adopted", Superseded = "superseded" });

/// Learning formats a charter can name; anything else goes in `other_learning_formats`.
pub const LEARNING_FORMATS: [&str; 10] = [
    "workshop",
    "reading_group",
    "case_study",
    "pair_practice",
    "peer_coaching",
    "skill_share",
    "project_work",
    "talk",
    "discussion",
    "retrospective",
];

/// The charter's content, as compared between versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharterContent {
    pub mission: String,
    pub goals: Vec<String>,
    pub weekly_minutes: i32,
    pub learning_formats: Vec<String>,
    pub other_learning_formats: Vec<String>,
    pub norms: String,
    pub confidentiality: String,
    pub project_kinds: Vec<String>,
    pub review_cadence: ReviewCadence,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = charter_versions)]
pub struct VersionRow {
    pub id: String,
    pub cohort_id: CohortId,
    pub number: Option<i32>,
    pub state: VersionState,
    pub author_id: Option<UserId>,
    pub based_on_id: Option<String>,
    pub mission: String,
    pub goals: String,
    pub weekly_minutes: i32,
    pub learning_formats: String,
    pub other_learning_formats: String,
    pub norms: String,
    pub confidentiality: String,
    pub project_kinds: String,
    pub review_every: i32,
    pub review_unit: ReviewUnit,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub adopted_at: Option<NaiveDateTime>,
    pub adopted_by: Option<UserId>,
}

fn list_from(stored: &str) -> Vec<String> {
    serde_json::from_str(stored).unwrap_or_default()
}

pub fn list_to(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_string())
}

impl VersionRow {
    pub fn state(&self) -> VersionState {
        self.state
    }

    pub fn cadence(&self) -> ReviewCadence {
        ReviewCadence { every: self.review_every.max(1) as u32, unit: self.review_unit }
    }

    pub fn content(&self) -> CharterContent {
        CharterContent {
            mission: self.mission.clone(),
            goals: list_from(&self.goals),
            weekly_minutes: self.weekly_minutes,
            learning_formats: list_from(&self.learning_formats),
            other_learning_formats: list_from(&self.other_learning_formats),
            norms: self.norms.clone(),
            confidentiality: self.confidentiality.clone(),
            project_kinds: list_from(&self.project_kinds),
            review_cadence: self.cadence(),
        }
    }
}

/// The fields of a charter version. All are needed to propose one; any subset edits a draft.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({
    "mission": "Grow into staff engineers by practising together.",
    "goals": ["Lead one cross-team design review each", "Mentor one junior engineer"],
    "weekly_minutes": 90,
    "learning_formats": ["case_study", "peer_coaching"],
    "other_learning_formats": ["architecture kata"],
    "norms": "- Be candid and kind\n- Start on time",
    "confidentiality": "What is shared in sessions stays in the cohort.",
    "project_kinds": ["design docs", "incident reviews"],
    "review_cadence": {"every": 3, "unit": "months"}
}))]
pub struct CharterFields {
    /// Up to 2000 characters.
    #[schema(value_type = String)]
    pub mission: Option<String>,
    /// Up to 20 goals of up to 200 characters each.
    #[schema(value_type = Vec<String>)]
    pub goals: Option<Vec<String>>,
    /// Time each member commits per week, 0 to 10080 minutes.
    #[schema(value_type = i32)]
    pub weekly_minutes: Option<i32>,
    /// From: workshop, reading_group, case_study, pair_practice, peer_coaching, skill_share,
    /// project_work, talk, discussion, retrospective.
    #[schema(value_type = Vec<String>)]
    pub learning_formats: Option<Vec<String>>,
    /// Formats in the cohort's own words.
    #[schema(value_type = Vec<String>)]
    pub other_learning_formats: Option<Vec<String>>,
    /// Norms and code of conduct, Markdown, up to 20000 characters.
    #[schema(value_type = String)]
    pub norms: Option<String>,
    /// Confidentiality agreement, Markdown, up to 20000 characters.
    #[schema(value_type = String)]
    pub confidentiality: Option<String>,
    /// Kinds of projects the cohort takes on.
    #[schema(value_type = Vec<String>)]
    pub project_kinds: Option<Vec<String>>,
    #[schema(value_type = ReviewCadence)]
    pub review_cadence: Option<ReviewCadence>,
}

/// A charter version with its Markdown rendered to safe HTML.
#[derive(Debug, Serialize, ToSchema)]
pub struct CharterVersion {
    #[schema(format = Uuid)]
    pub id: String,
    /// Given at adoption: 1, 2, 3 …; null for drafts.
    pub number: Option<i32>,
    pub state: VersionState,
    #[schema(value_type = Option<String>)]
    pub author_id: Option<UserId>,
    /// Who proposed it (null once they deleted their account).
    pub author: Option<Person>,
    /// The version that was current when this draft was proposed or last edited.
    pub based_on_id: Option<String>,
    pub mission: String,
    pub goals: Vec<String>,
    pub weekly_minutes: i32,
    pub learning_formats: Vec<String>,
    pub other_learning_formats: Vec<String>,
    /// Markdown as written.
    pub norms: String,
    /// `norms` rendered and sanitised.
    pub norms_html: String,
    pub confidentiality: String,
    pub confidentiality_html: String,
    pub project_kinds: Vec<String>,
    pub review_cadence: ReviewCadence,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub adopted_at: Option<DateTime<Utc>>,
    /// The facilitator or organizer who adopted it.
    pub adopted_by: Option<Person>,
    pub endorsement_count: i64,
    /// Who endorsed it, in the order they did (at most the cohort's members).
    pub endorsed_by: Vec<Person>,
    pub endorsed_by_me: bool,
    pub comment_count: i64,
}

/// The people and counts shown with a version.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub author: Option<Person>,
    pub adopted_by: Option<Person>,
    /// In the order they endorsed.
    pub endorsers: Vec<Person>,
    pub endorsed_by_me: bool,
    pub comments: i64,
}

impl CharterVersion {
    pub fn new(row: VersionRow, tally: Tally) -> Self {
        let content = row.content();
        Self {
            state: row.state(),
            norms_html: to_safe_html(&content.norms),
            confidentiality_html: to_safe_html(&content.confidentiality),
            id: row.id,
            number: row.number,
            author_id: row.author_id,
            based_on_id: row.based_on_id,
            mission: content.mission,
            goals: content.goals,
            weekly_minutes: content.weekly_minutes,
            learning_formats: content.learning_formats,
            other_learning_formats: content.other_learning_formats,
            norms: content.norms,
            confidentiality: content.confidentiality,
            project_kinds: content.project_kinds,
            review_cadence: content.review_cadence,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            adopted_at: row.adopted_at.map(|t| t.and_utc()),
            endorsement_count: tally.endorsers.len() as i64,
            endorsed_by: tally.endorsers,
            endorsed_by_me: tally.endorsed_by_me,
            author: tally.author,
            adopted_by: tally.adopted_by,
            comment_count: tally.comments,
        }
    }
}

/// A draft's edited content.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = charter_versions)]
pub struct DraftChanges {
    pub based_on_id: Option<Option<String>>,
    pub mission: Option<String>,
    pub goals: Option<String>,
    pub weekly_minutes: Option<i32>,
    pub learning_formats: Option<String>,
    pub other_learning_formats: Option<String>,
    pub norms: Option<String>,
    pub confidentiality: Option<String>,
    pub project_kinds: Option<String>,
    pub review_every: Option<i32>,
    pub review_unit: Option<ReviewUnit>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionFilter {
    pub state: Option<VersionState>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyAcceptance {
    pub accepted_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Review {
    /// The local date (cohort time zone) from which the review is due.
    pub next_review_on: NaiveDate,
    pub last_reviewed_at: Option<DateTime<Utc>>,
}

/// The cohort's charter as the caller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Charter {
    /// The current (adopted) version; null until one is adopted.
    pub version: Option<CharterVersion>,
    /// When the caller accepted the current version; null if they have not.
    pub my_acceptance: Option<MyAcceptance>,
    /// True when the caller should accept the current version.
    pub owes_acceptance: bool,
    /// True when the charter's review has fallen due: the next session gets a "charter check".
    pub review_due: bool,
    pub review: Option<Review>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AcceptRequest {
    /// The current version's id (accepting any other is refused with 409).
    #[schema(value_type = String, required = true, format = Uuid)]
    pub version_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedBy {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub display_name: String,
    pub user: Person,
    pub accepted_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingFrom {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub display_name: String,
    pub user: Person,
}

/// Who among the active members has accepted the current version.
#[derive(Debug, Serialize, ToSchema)]
pub struct Acceptances {
    pub version_id: Option<String>,
    pub accepted: Vec<AcceptedBy>,
    pub pending: Vec<PendingFrom>,
    pub accepted_count: usize,
    pub pending_count: usize,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NewReview {
    /// What the cohort concluded, up to 2000 characters.
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// The older version.
    pub from: String,
    /// The newer version.
    pub to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CharterDiff {
    pub from: String,
    pub to: String,
    pub fields: Vec<super::diff::FieldDiff>,
}
