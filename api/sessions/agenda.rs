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
/// length changes: kept as it is when it fits; otherwise, when it holds skill shares, they keep
/// their boxes and the other boxes shrink (`squeeze`); without skill shares, or when even that
/// cannot fit, every box shrinks in proportion (rounded down), keeping ids, kinds, titles and
/// order.
pub fn refit(items: &[AgendaItem], duration_minutes: u32) -> Vec<AgendaItem> {
    let total: u32 = items.iter().map(|i| i.minutes).fold(0u32, u32::saturating_add);
    if total <= duration_minutes {
        return items.to_vec();
    }
    if items.iter().any(|i| i.kind == AgendaKind::SkillShare)
        && let Ok(squeezed) = squeeze(items, duration_minutes)
    {
        return squeezed;
    }
    items
        .iter()
        .map(|i| AgendaItem {
            minutes: (u64::from(i.minutes) * u64::from(duration_minutes) / u64::from(total)) as u32,
            ..i.clone()
        })
        .collect()
}

/// The fewest minutes a box other than a skill share is squeezed to (a box already shorter keeps
/// what it has): a check-in of one minute is no check-in.
pub const MIN_BOX_MINUTES: u32 = 5;

/// Skill shares keep their boxes; the other boxes shrink to fit what is left of the session, in
/// proportion above `MIN_BOX_MINUTES` each (rounded down). `Misfit` on `agenda` when the skill
/// shares leave too little for the other boxes' minimums.
pub fn squeeze(items: &[AgendaItem], duration_minutes: u32) -> Result<Vec<AgendaItem>, Misfit> {
    let fixed: u64 = items.iter().filter(|i| i.kind == AgendaKind::SkillShare).map(|i| u64::from(i.minutes)).sum();
    let others = || items.iter().filter(|i| i.kind != AgendaKind::SkillShare);
    let other_total: u64 = others().map(|i| u64::from(i.minutes)).sum();
    let floors: u64 = others().map(|i| u64::from(i.minutes.min(MIN_BOX_MINUTES))).sum();
    let duration = u64::from(duration_minutes);
    if fixed + floors > duration {
        return Err(Misfit {
            field: "agenda".to_string(),
            code: "does_not_fit",
            message: format!(
                "has no room: its skill shares take {fixed} minutes and its other boxes need at least {floors}, \
                 but the session is {duration_minutes} minutes long"
            ),
        });
    }
    let room = duration - fixed;
    if other_total <= room {
        return Ok(items.to_vec());
    }
    // other_total > room >= floors, so the divisor is positive.
    Ok(items
        .iter()
        .map(|i| {
            if i.kind == AgendaKind::SkillShare {
                return i.clone();
            }
            let floor = u64::from(i.minutes.min(MIN_BOX_MINUTES));
            let above = (u64::from(i.minutes) - floor) * (room - floors) / (other_total - floors);
            AgendaItem { minutes: (floor + above) as u32, ..i.clone() }
        })
        .collect())
}

/// A skill share's box on an agenda: its minutes and title brought up to date where it is, or
/// added after the last skill share (else before the last phase, the reflection); then the other
/// boxes squeezed to fit. Its id is the skill share's id.
pub fn place_skill_share(
    items: &[AgendaItem],
    new: AgendaItem,
    duration_minutes: u32,
) -> Result<Vec<AgendaItem>, Misfit> {
    let mut items = items.to_vec();
    if let Some(existing) = items.iter_mut().find(|i| i.id == new.id) {
        *existing = new;
    } else {
        if items.len() >= MAX_ITEMS {
            return Err(Misfit {
                field: "agenda".to_string(),
                code: "too_many",
                message: format!("already has {MAX_ITEMS} items, the most an agenda may have"),
            });
        }
        let at = match items.iter().rposition(|i| i.kind == AgendaKind::SkillShare) {
            Some(last) => last + 1,
            None => items.iter().rposition(|i| i.kind == AgendaKind::Phase).unwrap_or(items.len()),
        };
        items.insert(at, new);
    }
    squeeze(&items, duration_minutes)
}

/// The agenda without the box `id` (a skill share moved away or withdrawn); the minutes it held
/// stay free.
pub fn remove_item(items: &[AgendaItem], id: &str) -> Vec<AgendaItem> {
    items.iter().filter(|i| i.id != id).cloned().collect()
}

/// The skill share `id` moved to `position` (1-based) among the agenda's skill shares, the other
/// items staying where they are. Positions past the end mean last.
pub fn move_skill_share(items: &[AgendaItem], id: &str, position: usize) -> Vec<AgendaItem> {
    let slots: Vec<usize> =
        items.iter().enumerate().filter(|(_, i)| i.kind == AgendaKind::SkillShare).map(|(n, _)| n).collect();
    let mut order: Vec<AgendaItem> = slots.iter().map(|n| items[*n].clone()).collect();
    let Some(from) = order.iter().position(|i| i.id == id) else { return items.to_vec() };
    let moved = order.remove(from);
    order.insert(position.saturating_sub(1).min(order.len()), moved);
    let mut result = items.to_vec();
    for (n, item) in slots.into_iter().zip(order) {
        result[n] = item;
    }
    result
}

/// Where the box `id` stands among the agenda's skill shares (1-based), and its minutes.
pub fn skill_share_position(items: &[AgendaItem], id: &str) -> Option<(usize, u32)> {
    items
        .iter()
        .filter(|i| i.kind == AgendaKind::SkillShare)
        .enumerate()
        .find(|(_, i)| i.id == id)
        .map(|(n, i)| (n + 1, i.minutes))
}

/// A template made to fit a new session: `refit`, with fresh ids.
pub fn fit(template: &[AgendaItem], duration_minutes: u32) -> Vec<AgendaItem> {
    refit(template, duration_minutes)
        .into_iter()
        .map(|i| AgendaItem { id: uuid::Uuid::new_v4().to_string(), ..i })
        .collect()
}

/// Adds an item before the last phase (the reflection), taking its time from the free minutes
/// and then from the longest box other than a skill share (a skill share only when nothing else
/// is left), so the agenda still fits.
pub fn insert_item(items: &[AgendaItem], new: AgendaItem, duration_minutes: u32) -> Vec<AgendaItem> {
    let mut items = items.to_vec();
    let used: u32 = items.iter().map(|i| i.minutes).sum();
    let mut missing = (used + new.minutes).saturating_sub(duration_minutes);
    // Skill shares give up time last: their presenters asked for it.
    for skill_shares_too in [false, true] {
        while missing > 0 {
            let Some(longest) = items
                .iter_mut()
                .filter(|i| i.minutes > 0 && (skill_shares_too || i.kind != AgendaKind::SkillShare))
                .max_by_key(|i| i.minutes)
            else {
                break;
            };
            let take = missing.min(longest.minutes);
            longest.minutes -= take;
            missing -= take;
        }
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

    fn share(id: &str, minutes: u32) -> AgendaItem {
        AgendaItem { id: id.to_string(), kind: AgendaKind::SkillShare, title: id.to_string(), minutes }
    }

    #[test]
    fn skill_shares_go_in_order_before_the_reflection_and_the_phases_make_room() {
        let agenda = place_skill_share(&default_template(), share("a", 20), 90).unwrap();
        let agenda = place_skill_share(&agenda, share("b", 15), 90).unwrap();
        let titles: Vec<&str> = agenda.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["Check-in", "Learning activity", "Practice", "a", "b", "Reflection"]);
        assert_eq!(first_overrun(&agenda, 90), None);
        assert_eq!(agenda.iter().filter(|i| i.kind == AgendaKind::SkillShare).map(|i| i.minutes).sum::<u32>(), 35);
        let moved = move_skill_share(&agenda, "b", 1);
        let titles: Vec<&str> = moved.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["Check-in", "Learning activity", "Practice", "b", "a", "Reflection"]);
        assert_eq!(skill_share_position(&moved, "a"), Some((2, 20)));
        assert_eq!(remove_item(&moved, "a").len(), 5);
    }

    #[test]
    fn skill_shares_that_leave_no_room_are_refused_on_the_agenda() {
        let misfit = place_skill_share(&default_template(), share("a", 75), 90).unwrap_err();
        assert_eq!((misfit.field.as_str(), misfit.code), ("agenda", "does_not_fit"));
        assert!(place_skill_share(&default_template(), share("a", 70), 90).is_ok(), "four boxes of 5 minutes remain");
    }

    #[test]
    fn a_shorter_session_squeezes_the_phases_before_its_skill_shares() {
        let agenda = place_skill_share(&default_template(), share("a", 30), 90).unwrap();
        let shorter = refit(&agenda, 60);
        assert_eq!(skill_share_position(&shorter, "a"), Some((1, 30)));
        assert_eq!(first_overrun(&shorter, 60), None);
        let tiny = refit(&agenda, 20);
        assert_eq!(first_overrun(&tiny, 20), None, "when nothing else helps, everything shrinks");
    }

    #[test]
    fn a_charter_check_takes_its_time_from_the_phases_not_from_a_skill_share() {
        let with_share = place_skill_share(&default_template(), share("a", 45), 90).unwrap();
        let with_check = insert_item(&with_share, charter_check(), 90);
        assert_eq!(skill_share_position(&with_check, "a"), Some((1, 45)));
        assert_eq!(first_overrun(&with_check, 90), None);
    }

    fn mixed() -> impl Strategy<Value = Vec<AgendaItem>> {
        prop::collection::vec((0u32..=120, any::<bool>()), 0..=MAX_ITEMS).prop_map(|m| {
            m.into_iter()
                .enumerate()
                .map(
                    |(n, (minutes, is_share))| {
                        if is_share { share(&format!("s{n}"), minutes) } else { item(AgendaKind::Phase, "p", minutes) }
                    },
                )
                .collect()
        })
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

        /// Squeezing never touches a skill share, never grows a box, never takes a box below its
        /// minimum, and what it answers fits; when it refuses, the minimums truly do not fit.
        #[test]
        fn squeezed_agendas_fit_and_keep_their_skill_shares(agenda in mixed(), duration in 15u32..=480) {
            match squeeze(&agenda, duration) {
                Ok(squeezed) => {
                    prop_assert_eq!(first_overrun(&squeezed, duration), None);
                    prop_assert_eq!(squeezed.len(), agenda.len());
                    for (new, old) in squeezed.iter().zip(&agenda) {
                        prop_assert_eq!(&new.id, &old.id);
                        prop_assert!(new.minutes <= old.minutes);
                        prop_assert!(new.minutes >= old.minutes.min(MIN_BOX_MINUTES));
                        if old.kind == AgendaKind::SkillShare {
                            prop_assert_eq!(new.minutes, old.minutes);
                        }
                    }
                }
                Err(misfit) => {
                    let need: u32 = agenda.iter().map(|i| if i.kind == AgendaKind::SkillShare { i.minutes } else { i.minutes.min(MIN_BOX_MINUTES) }).sum();
                    prop_assert!(need > duration);
                    prop_assert_eq!(misfit.field, "agenda");
                }
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
