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

/// The most items an agenda (or a cohort's template) may have.
pub const MAX_ITEMS: usize = 20;

/// Why an agenda cannot be kept for a session: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

/// The agenda validation the API applies: at most `MAX_ITEMS` items whose boxes, in order, end
/// within the session.
pub fn check(items: &[AgendaItem], duration_minutes: u32) -> Result<(), Misfit> {
    if items.len() > MAX_ITEMS {
        return Err(Misfit {
            field: "items".to_string(),
            code: "too_many",
            message: format!("must have at most {MAX_ITEMS} items"),
        });
    }
    match first_overrun(items, duration_minutes) {
        Some(i) => Err(Misfit {
            field: format!("items[{i}].minutes"),
            code: "does_not_fit",
            message: format!("{:?} ends after the session's {duration_minutes} minutes", items[i].title),
        }),
        None => Ok(()),
    }
}

/// An agenda made to fit a session of `duration_minutes`, the one rule wherever a session's
/// length changes: kept as it is when it fits, otherwise every box shrinks in proportion
/// (rounded down), keeping ids, kinds, titles and order.
pub fn refit(items: &[AgendaItem], duration_minutes: u32) -> Vec<AgendaItem> {
    let total: u32 = items.iter().map(|i| i.minutes).fold(0u32, u32::saturating_add);
    if total <= duration_minutes {
        return items.to_vec();
    }
    items
        .iter()
        .map(|i| AgendaItem {
            minutes: (u64::from(i.minutes) * u64::from(duration_minutes) / u64::from(total)) as u32,
            ..i.clone()
        })
        .collect()
}

/// A template made to fit a new session: `refit`, with fresh ids.
pub fn fit(template: &[AgendaItem], duration_minutes: u32) -> Vec<AgendaItem> {
    refit(template, duration_minutes)
        .into_iter()
        .map(|i| AgendaItem { id: uuid::Uuid::new_v4().to_string(), ..i })
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

    fn agendas() -> impl Strategy<Value = Vec<AgendaItem>> {
        prop::collection::vec(0u32..=480, 0..=MAX_ITEMS)
            .prop_map(|m| m.into_iter().map(|minutes| item(AgendaKind::Item, "i", minutes)).collect())
    }

    #[test]
    fn a_shorter_session_keeps_its_boxes_in_proportion() {
        let agenda = default_template();
        let shorter = refit(&agenda, 45);
        assert_eq!(shorter.iter().map(|i| i.minutes).collect::<Vec<_>>(), [5, 20, 12, 7]);
        assert_eq!(shorter.iter().map(|i| &i.id).collect::<Vec<_>>(), agenda.iter().map(|i| &i.id).collect::<Vec<_>>());
        assert_eq!(refit(&agenda, 120), agenda, "a longer session keeps the agenda as it is");
        assert_eq!(check(&shorter, 45), Ok(()));
        assert_eq!(check(&agenda, 45).unwrap_err().field, "items[1].minutes");
    }

    proptest! {
        /// Whatever agenda the API once accepted, and whatever length the session takes, the
        /// refitted agenda passes the same validation, with the same items in the same order.
        #[test]
        fn a_refitted_agenda_always_passes_the_agenda_validation(agenda in agendas(), duration in 15u32..=480) {
            let refitted = refit(&agenda, duration);
            prop_assert_eq!(check(&refitted, duration), Ok(()));
            prop_assert_eq!(refitted.len(), agenda.len());
            for (new, old) in refitted.iter().zip(&agenda) {
                prop_assert_eq!((&new.id, new.kind, &new.title), (&old.id, old.kind, &old.title));
                prop_assert!(new.minutes <= old.minutes);
            }
        }

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
