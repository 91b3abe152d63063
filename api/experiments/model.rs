use crate::people::Person;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::lifecycle::{ExperimentState, OutcomeResult, Visibility};
use crate::db::schema::experiments;
use crate::db::{CohortId, SessionId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = experiments)]
pub struct ExperimentRow {
    pub id: String,
    pub cohort_id: CohortId,
    pub owner_id: UserId,
    pub title: String,
    pub success_signal: String,
    pub due_session_id: Option<SessionId>,
    pub due_on: Option<String>,
    pub metric_name: Option<String>,
    pub metric_unit: Option<String>,
    pub metric_target: Option<f64>,
    pub visibility: Visibility,
    pub buddy_id: Option<UserId>,
    pub state: ExperimentState,
    pub drop_reason: Option<String>,
    pub outcome_result: Option<OutcomeResult>,
    pub outcome_learned: Option<String>,
    pub outcome_next_step: Option<String>,
    pub seeded_from_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ExperimentRow {
    pub fn state(&self) -> ExperimentState {
        self.state
    }
    pub fn visibility(&self) -> Visibility {
        self.visibility
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Metric {
    pub name: String,
    pub unit: Option<String>,
    pub target: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Outcome {
    pub result: OutcomeResult,
    /// What I learned.
    #[serde(default)]
    pub learned: Option<String>,
    /// What I will try next; can seed the next experiment.
    #[serde(default)]
    pub next_step: Option<String>,
}

/// A time-bound experiment between sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct Experiment {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(value_type = String, format = Uuid)]
    pub cohort_id: CohortId,
    #[schema(value_type = String, format = Uuid)]
    pub owner_id: UserId,
    pub owner: Person,
    /// What I will try.
    pub title: String,
    /// How I will know it worked.
    pub success_signal: String,
    /// Due at this session (follows it when it moves) ...
    #[schema(value_type = Option<String>)]
    pub due_session_id: Option<SessionId>,
    /// ... or on this date (cohort-local).
    pub due_on: Option<NaiveDate>,
    /// The moment it is due, from either.
    pub due_at: Option<DateTime<Utc>>,
    pub metric: Option<Metric>,
    pub visibility: Visibility,
    #[schema(value_type = Option<String>)]
    pub buddy_id: Option<UserId>,
    pub buddy: Option<Person>,
    pub state: ExperimentState,
    pub drop_reason: Option<String>,
    pub outcome: Option<Outcome>,
    pub overdue: bool,
    pub seeded_from_id: Option<String>,
    pub check_in_count: i64,
    pub last_check_in_at: Option<DateTime<Utc>>,
    pub celebrations: i64,
    /// Whether you have celebrated it.
    pub celebrated_by_me: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({
    "title": "Run a design review with the payments team",
    "success_signal": "Two decisions written down and agreed",
    "due_on": "2027-03-30", "visibility": "cohort",
    "metric": {"name": "decisions recorded", "unit": "decisions", "target": 2}
}))]
pub struct NewExperiment {
    #[schema(value_type = String, required = true)]
    pub title: Option<String>,
    #[schema(value_type = String, required = true)]
    pub success_signal: Option<String>,
    #[schema(value_type = Option<String>)]
    pub due_session_id: Option<SessionId>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<String>,
    /// Default `cohort`.
    pub visibility: Option<Visibility>,
    /// For `buddy`: the member who may see it (default: your coaching partner).
    #[schema(value_type = Option<String>)]
    pub buddy_id: Option<UserId>,
    pub metric: Option<Metric>,
}

/// A change: fields, a state (`in_progress`, `done`, `dropped` with `drop_reason`), an outcome.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"state": "done", "outcome": {"result": "partly", "learned": "Ask earlier", "next_step": "Book the review two weeks ahead"}}))]
pub struct ExperimentChange {
    pub title: Option<String>,
    pub success_signal: Option<String>,
    pub state: Option<ExperimentState>,
    pub drop_reason: Option<String>,
    pub outcome: Option<Outcome>,
    pub visibility: Option<Visibility>,
    #[schema(value_type = Option<String>)]
    pub buddy_id: Option<UserId>,
    #[schema(value_type = Option<String>)]
    pub due_session_id: Option<SessionId>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<String>,
}

/// A thirty-second check-in: any of the fields, at least one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"done": "Booked the room", "blockers": "Waiting for the slides"}))]
pub struct NewCheckIn {
    pub done: Option<String>,
    pub next: Option<String>,
    pub blockers: Option<String>,
    /// The metric's value now.
    pub value: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckIn {
    #[schema(format = Uuid)]
    pub id: String,
    pub done: String,
    pub next: String,
    pub blockers: String,
    pub value: Option<f64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricPoint {
    pub at: DateTime<Utc>,
    pub value: f64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExperimentFilter {
    pub state: Option<ExperimentState>,
    pub owner_id: Option<String>,
    pub due_session_id: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttentionParams {
    /// Days without a check-in after which an open experiment counts as stuck (default 7).
    pub quiet_days: Option<i64>,
}

/// An experiment a facilitator should look at, and why: at least one of `overdue`,
/// `quiet_since` and `repeated_blocker` is set.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttentionItem {
    pub experiment: Experiment,
    /// Past its due moment and not finished.
    pub overdue: bool,
    /// No check-in since then, for `quiet_days` or more.
    pub quiet_since: Option<DateTime<Utc>>,
    /// The same blocker in the last two check-ins.
    pub repeated_blocker: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NewHelpOffer {
    /// How you could help.
    #[schema(value_type = String, required = true)]
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HelpOffer {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(value_type = String)]
    pub helper_id: UserId,
    pub helper: Person,
    pub message: String,
    /// `offered`, `accepted` or `dismissed`.
    pub state: String,
    pub created_at: DateTime<Utc>,
}
