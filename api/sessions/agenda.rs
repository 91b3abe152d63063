//! A session's agenda (pure): phases and items with time boxes that must fit the session.
//! Default phases follow the practice the product is built on: a quick check-in, a learning
//! activity, a practice phase, and a reflection that ties insights to action.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgendaKind {
    Phase,
    SkillShare,
    CharterCheck,
    Item,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AgendaItem {
    /// Stable across reorders; given by the server when absent.
    #[serde(default)]
    pub id: String,
    pub kind: AgendaKind,
    pub title: String,
    /// The time box.
    pub minutes: u32,
}

fn item(kind: AgendaKind, title: &str, minutes: u32) -> AgendaItem {
    AgendaItem { id: uuid::Uuid::new_v4().to_string(), kind, title: title.to_string(), minutes }
}

pub fn default_template() -> Vec<AgendaItem> {
    vec![
        item(AgendaKind::Phase, "Check-in", 10),
        item(AgendaKind::Phase, "Learning activity", 40),
        item(AgendaKind::Phase, "Practice", 25),
        item(AgendaKind::Phase, "Reflection", 15),
    ]
}

/// Where a set of boxes overruns the session: the index of the first item that ends after it.
pub fn first_overrun(items: &[AgendaItem], duration_minutes: u32) -> Option<usize> {
    let mut elapsed = 0u32;
    items.iter().position(|item| {
        elapsed = elapsed.saturating_add(item.minutes);
        elapsed > duration_minutes
    })
}

/// A template made to fit a session: kept as it is when it fits, otherwise every box shrinks in
/// proportion (rounded down), with fresh ids.
pub fn fit(template: &[AgendaItem], duration_minutes: u32) -> Vec<AgendaItem> {
    let total: u32 = template.iter().map(|i| i.minutes).sum();
    template
        .iter()
        .map(|t| {
            let minutes = if total <= duration_minutes {
                t.minutes
            } else {
                (u64::from(t.minutes) * u64::from(duration_minutes) / u64::from(total)) as u32
            };
            AgendaItem { minutes, ..item(t.kind, &t.title, 0) }
        })
        .collect()
}

/// Adds an item before the last phase (the reflection), taking its time from the free minutes
/// and then from the longest box, so the agenda still fits.
pub fn insert_item(items: &[AgendaItem], new: AgendaItem, duration_minutes: u32) -> Vec<AgendaItem> {
    let mut items = items.to_vec();
    let used: u32 = items.iter().map(|i| i.minutes).sum();
    let mut missing = (used + new.minutes).saturating_sub(duration_minutes);
    while missing > 0 {
        let Some(longest) = items.iter_mut().filter(|i| i.minutes > 0).max_by_key(|i| i.minutes) else { break };
        let take = missing.min(longest.minutes);
        longest.minutes -= take;
        missing -= take;
    }
    let at = items.iter().rposition(|i| i.kind == AgendaKind::Phase).unwrap_or(items.len());
    let minutes = new.minutes.saturating_sub(missing);
    items.insert(at, AgendaItem { minutes, ..new });
    items
}

/// A charter check, for the next session after the charter's review fell due.
pub fn charter_check() -> AgendaItem {
    item(AgendaKind::CharterCheck, "Charter check", 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_default_fits_ninety_minutes_and_shrinks_for_an_hour() {
        let template = default_template();
        assert_eq!(first_overrun(&template, 90), None);
        assert_eq!(first_overrun(&template, 60), Some(2), "practice ends at 75");
        let hour = fit(&template, 60);
        let minutes: Vec<u32> = hour.iter().map(|i| i.minutes).collect();
        assert_eq!(minutes, [6, 26, 16, 10]);
        assert_eq!(first_overrun(&hour, 60), None);
    }

    #[test]
    fn a_charter_check_goes_before_the_reflection_and_still_fits() {
        let with_check = insert_item(&default_template(), charter_check(), 90);
        let titles: Vec<&str> = with_check.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["Check-in", "Learning activity", "Practice", "Charter check", "Reflection"]);
        assert_eq!(with_check[1].minutes, 30, "taken from the longest phase");
        assert_eq!(first_overrun(&with_check, 90), None);
    }

    fn items() -> impl Strategy<Value = Vec<AgendaItem>> {
        prop::collection::vec(0u32..120, 0..8)
            .prop_map(|m| m.into_iter().map(|minutes| item(AgendaKind::Phase, "p", minutes)).collect())
    }

    proptest! {
        #[test]
        fn fitted_templates_and_inserted_items_always_fit(template in items(), duration in 1u32..300, extra in 0u32..60) {
            let fitted = fit(&template, duration);
            prop_assert_eq!(first_overrun(&fitted, duration), None);
            prop_assert_eq!(fitted.len(), template.len());
            let grown = insert_item(&fitted, item(AgendaKind::Item, "x", extra), duration);
            prop_assert_eq!(first_overrun(&grown, duration), None);
            prop_assert_eq!(grown.len(), fitted.len() + 1);
        }
    }
}
