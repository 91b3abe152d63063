//! `GET|PUT /me/notification-preferences`: which notifications a member gets by mail and how long
//! before, whether they come one by one or in a daily or weekly digest, and quiet hours in the
//! member's own time zone. What is not set is the kind's default (`kinds::KIND_TABLE`). A PUT
//! takes any subset and changes only what it names; each kind is its own row, upserted, so two
//! changes at once to different kinds both hold.

use std::collections::BTreeMap;

use actix_web::{get, put, web};
use chrono::{NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::kinds::{KIND_TABLE, NotificationKind};
use crate::auth::Caller;
use crate::db::schema::{notification_preferences as prefs, notification_settings as settings};
use crate::db::{AnyConnection, UserId, stored_as_text};
use crate::error::ApiResult;
use crate::events::{NewEvent, kind as ev};
use crate::http::json::JsonBody;
use crate::state::AppState;
use crate::validation::{Checks, Invalid};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_preferences).service(set_preferences);
}

/// How mail reaches a member: each as it falls due, or gathered into one mail a day or a week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum DigestMode {
    #[default]
    Off,
    Daily,
    Weekly,
}
stored_as_text!(DigestMode, { Off = "off", Daily = "daily", Weekly = "weekly" });

/// Hours in the member's own time zone when nothing but account mail is sent; they may span
/// midnight (`22:00`–`07:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `HH:MM`
    #[schema(example = "22:00")]
    pub start: String,
    /// `HH:MM`
    #[schema(example = "07:00")]
    pub end: String,
}

/// One kind as it applies to the member.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KindPreference {
    pub email: bool,
    /// Minutes before, largest first; null for kinds without lead times.
    pub lead_minutes: Option<Vec<u32>>,
    /// Account mail that cannot be turned off.
    pub required: bool,
    /// What it is.
    pub description: &'static str,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationPreferences {
    /// Every kind, with the member's choice or its default.
    pub kinds: BTreeMap<NotificationKind, KindPreference>,
    pub digest: DigestMode,
    pub quiet_hours: Option<QuietHours>,
    /// The zone quiet hours and times in mail are read in (the account's, `PATCH /me`).
    pub time_zone: String,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct KindChange {
    pub email: Option<bool>,
    /// 1 to 3 values, each 5 to 20160 (two weeks), for kinds with lead times.
    pub lead_minutes: Option<Vec<i64>>,
}

/// Any subset: only what is named changes.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"kinds": {"session_soon": {"lead_minutes": [120]}, "digest": {"email": false}}, "quiet_hours": {"start": "22:00", "end": "07:00"}}))]
pub struct PreferencesChange {
    #[schema(value_type = Option<BTreeMap<String, KindChange>>)]
    pub kinds: Option<BTreeMap<String, KindChange>>,
    pub digest: Option<DigestMode>,
    /// Null to have none.
    #[serde(deserialize_with = "crate::http::json::present")]
    #[schema(value_type = Option<QuietHours>)]
    pub quiet_hours: Option<Option<QuietHours>>,
}

fn clock_time(raw: &str) -> Result<String, Invalid> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M")
        .map(|t| t.format("%H:%M").to_string())
        .map_err(|_| Invalid::new("invalid_format", "must be a time of day as HH:MM"))
}

/// Lead times as stored: largest first, no repeats.
fn lead_text(minutes: &[u32]) -> String {
    minutes.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

fn parse_lead(text: &str) -> Vec<u32> {
    text.split(',').filter_map(|m| m.parse().ok()).collect()
}

/// A validated change to one kind.
struct KindUpdate {
    kind: NotificationKind,
    email: Option<bool>,
    lead: Option<String>,
}

/// A whole validated change: per-kind updates, the digest mode, quiet hours (`Some(None)`: none).
type Change = (Vec<KindUpdate>, Option<DigestMode>, Option<Option<QuietHours>>);

fn check_change(body: PreferencesChange) -> ApiResult<Change> {
    let mut checks = Checks::new();
    let mut updates = Vec::new();
    for (name, change) in body.kinds.unwrap_or_default() {
        let field = format!("kinds.{name}");
        let Some(kind) = NotificationKind::parse(&name) else {
            checks.fail(
                &field,
                Invalid::new("unknown_kind", "is not a notification kind (see GET /me/notification-preferences)"),
            );
            continue;
        };
        let info = kind.info();
        if info.required && change.email == Some(false) {
            checks
                .fail(&format!("{field}.email"), Invalid::new("required", "is account mail and cannot be turned off"));
        }
        let lead = match change.lead_minutes {
            None => None,
            Some(_) if info.lead_minutes.is_none() => {
                checks.fail(
                    &format!("{field}.lead_minutes"),
                    Invalid::new("not_applicable", "this kind has no lead times"),
                );
                None
            }
            Some(values) if values.is_empty() || values.len() > 3 => {
                checks.fail(
                    &format!("{field}.lead_minutes"),
                    Invalid::new("out_of_range", "give 1 to 3 lead times (turn email off to get none)"),
                );
                None
            }
            Some(values) => {
                let mut minutes = Vec::new();
                for (i, value) in values.into_iter().enumerate() {
                    match u32::try_from(value) {
                        Ok(m) if (5..=20_160).contains(&m) => minutes.push(m),
                        _ => checks.fail(
                            &format!("{field}.lead_minutes[{i}]"),
                            Invalid::new("out_of_range", "must be between 5 and 20160 minutes (two weeks)"),
                        ),
                    }
                }
                minutes.sort_unstable_by(|a, b| b.cmp(a));
                minutes.dedup();
                Some(lead_text(&minutes))
            }
        };
        updates.push(KindUpdate { kind, email: change.email, lead });
    }
    let quiet = match body.quiet_hours {
        Some(Some(hours)) => {
            let start = clock_time(&hours.start).map_err(|i| checks.fail("quiet_hours.start", i)).ok();
            let end = clock_time(&hours.end).map_err(|i| checks.fail("quiet_hours.end", i)).ok();
            if start.is_some() && start == end {
                checks.fail("quiet_hours.end", Invalid::new("invalid_value", "must differ from the start"));
            }
            Some(Some(QuietHours { start: start.unwrap_or_default(), end: end.unwrap_or_default() }))
        }
        other => other,
    };
    checks.finish()?;
    Ok((updates, body.digest, quiet))
}

fn load(conn: &mut AnyConnection, user_id: &UserId, time_zone: String) -> ApiResult<NotificationPreferences> {
    let rows: Vec<(NotificationKind, bool, Option<String>)> = prefs::table
        .filter(prefs::user_id.eq(user_id))
        .select((prefs::kind, prefs::email, prefs::lead_minutes))
        .load(conn)?;
    let kinds = KIND_TABLE
        .iter()
        .map(|info| {
            let row = rows.iter().find(|r| r.0 == info.kind);
            let email = info.required || row.map_or(info.email, |r| r.1);
            let lead = info
                .lead_minutes
                .map(|default| row.and_then(|r| r.2.as_deref()).map(parse_lead).unwrap_or_else(|| default.to_vec()));
            (info.kind, KindPreference { email, lead_minutes: lead, required: info.required, description: info.what })
        })
        .collect();
    let stored: Option<(DigestMode, Option<String>, Option<String>)> = settings::table
        .find(user_id)
        .select((settings::digest, settings::quiet_start, settings::quiet_end))
        .first(conn)
        .optional()?;
    let (digest, quiet_hours) = match stored {
        Some((digest, Some(start), Some(end))) => (digest, Some(QuietHours { start, end })),
        Some((digest, _, _)) => (digest, None),
        None => (DigestMode::Off, None),
    };
    Ok(NotificationPreferences { kinds, digest, quiet_hours, time_zone })
}

/// Your notification preferences: every kind (mail on or off, lead times where they apply), the
/// digest mode and quiet hours, each your choice or its default.
#[utoipa::path(tag = "me", security(("bearer" = [])), responses((status = 200, body = NotificationPreferences)))]
#[get("/me/notification-preferences")]
pub async fn get_preferences(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<web::Json<NotificationPreferences>> {
    let (user_id, zone) = (caller.user.id.clone(), caller.user.time_zone.to_string());
    let preferences = state.db.read(move |conn| load(conn, &user_id, zone)).await?;
    Ok(web::Json(preferences))
}

/// Change any of your notification preferences (signed in, not with a personal token): only what
/// the body names changes. Account mail cannot be turned off (422); lead times apply only to the
/// kinds that have them.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    request_body = PreferencesChange,
    responses((status = 200, body = NotificationPreferences))
)]
#[put("/me/notification-preferences")]
pub async fn set_preferences(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<PreferencesChange>,
) -> ApiResult<web::Json<NotificationPreferences>> {
    caller.require_sign_in()?;
    let (updates, digest, quiet) = check_change(body.0)?;
    let (user_id, zone, at) = (caller.user.id.clone(), caller.user.time_zone.to_string(), state.now());
    let now = at.naive_utc();
    let preferences = state
        .db
        .write(move |conn| {
            for update in &updates {
                upsert_kind(conn, &user_id, update, now)?;
            }
            if digest.is_some() || quiet.is_some() {
                upsert_settings(conn, &user_id, digest, quiet.clone(), now)?;
            }
            let changed: Vec<String> = updates.iter().map(|u| u.kind.as_str().to_string()).collect();
            let changed = ev::NotificationPreferencesChanged { kinds: changed };
            NewEvent::new(changed, &user_id).by(&user_id).record(conn, at)?;
            load(conn, &user_id, zone.clone())
        })
        .await?;
    Ok(web::Json(preferences))
}

/// Whether mail of `kind` is on for the user (their choice, or the kind's default).
pub(crate) fn email_on(conn: &mut AnyConnection, user_id: &UserId, kind: NotificationKind) -> ApiResult<bool> {
    let info = kind.info();
    let chosen: Option<bool> = prefs::table.find((user_id, kind)).select(prefs::email).first(conn).optional()?;
    Ok(info.required || chosen.unwrap_or(info.email))
}

/// Turns mail of one kind on or off for the user, exactly as a `PUT` naming only that kind's
/// `email` would: the same upsert and the same event (one-click unsubscribe). Account mail cannot
/// be turned off (422 on `kinds.<kind>.email`).
pub(crate) fn set_email(
    conn: &mut AnyConnection,
    user_id: &UserId,
    kind: NotificationKind,
    email: bool,
    at: chrono::DateTime<chrono::Utc>,
) -> ApiResult<()> {
    if kind.info().required && !email {
        return Err(crate::error::ApiError::invalid(
            &format!("kinds.{}.email", kind.as_str()),
            "required",
            "is account mail and cannot be turned off",
        ));
    }
    upsert_kind(conn, user_id, &KindUpdate { kind, email: Some(email), lead: None }, at.naive_utc())?;
    let changed = ev::NotificationPreferencesChanged { kinds: vec![kind.as_str().to_string()] };
    NewEvent::new(changed, user_id).by(user_id).record(conn, at)?;
    Ok(())
}

#[derive(AsChangeset)]
#[diesel(table_name = prefs)]
struct KindChangeset<'a> {
    email: Option<bool>,
    lead_minutes: Option<&'a str>,
    updated_at: NaiveDateTime,
}

fn upsert_kind(conn: &mut AnyConnection, user_id: &UserId, update: &KindUpdate, now: NaiveDateTime) -> ApiResult<()> {
    let info = update.kind.info();
    let default_lead = info.lead_minutes.map(lead_text);
    let lead = update.lead.clone().or(default_lead);
    let changes = KindChangeset { email: update.email, lead_minutes: update.lead.as_deref(), updated_at: now };
    crate::per_backend!(conn, |c| {
        diesel::insert_into(prefs::table)
            .values((
                prefs::user_id.eq(user_id),
                prefs::kind.eq(update.kind),
                prefs::email.eq(update.email.unwrap_or(info.email)),
                prefs::lead_minutes.eq(&lead),
                prefs::updated_at.eq(now),
            ))
            .on_conflict((prefs::user_id, prefs::kind))
            .do_update()
            .set(&changes)
            .execute(c)
    })?;
    Ok(())
}

#[derive(AsChangeset)]
#[diesel(table_name = settings)]
struct SettingsChangeset {
    digest: Option<DigestMode>,
    quiet_start: Option<Option<String>>,
    quiet_end: Option<Option<String>>,
    updated_at: NaiveDateTime,
}

fn upsert_settings(
    conn: &mut AnyConnection,
    user_id: &UserId,
    digest: Option<DigestMode>,
    quiet: Option<Option<QuietHours>>,
    now: NaiveDateTime,
) -> ApiResult<()> {
    let (start, end) = match &quiet {
        Some(Some(q)) => (Some(Some(q.start.clone())), Some(Some(q.end.clone()))),
        Some(None) => (Some(None), Some(None)),
        None => (None, None),
    };
    let changes = SettingsChangeset { digest, quiet_start: start.clone(), quiet_end: end.clone(), updated_at: now };
    crate::per_backend!(conn, |c| {
        diesel::insert_into(settings::table)
            .values((
                settings::user_id.eq(user_id),
                settings::digest.eq(digest.unwrap_or_default()),
                settings::quiet_start.eq(start.clone().flatten()),
                settings::quiet_end.eq(end.clone().flatten()),
                settings::updated_at.eq(now),
            ))
            .on_conflict(settings::user_id)
            .do_update()
            .set(&changes)
            .execute(c)
    })?;
    Ok(())
}
