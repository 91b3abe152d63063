//! `/api/v1/cohorts/{cohort_id}/roles|absences|rota|pairs` and `/api/v1/assignments/{id}`,
//! one file per resource (roles, absences, planning, duties, fairness, pairs).

use chrono_tz::Tz;

use crate::cohorts::access::Access;

mod absences;
mod duties;
mod fairness;
mod pairs;
mod planning;
mod roles;

pub(crate) use duties::confirm;
pub use pairs::PairSettings;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(roles::list_roles)
        .service(roles::add_role)
        .service(roles::change_role)
        .service(absences::list_absences)
        .service(absences::add_absence)
        .service(absences::remove_absence)
        .service(planning::rota)
        .service(planning::plan)
        .service(duties::override_duty)
        .service(duties::confirm_duty)
        .service(fairness::fairness)
        .service(pairs::list_pairs)
        .service(pairs::next_pairs)
        .service(pairs::pair_settings)
        .service(pairs::set_pair_settings);
}

pub(crate) fn zone(access: &Access) -> Tz {
    access.cohort.time_zone.tz()
}
