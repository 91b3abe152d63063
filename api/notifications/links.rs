//! Links in mail that act, for members who never sign in: confirm my duty, can't make it (ask for
//! cover), RSVP yes or no, a quick check-in, accept the charter, take a cover, accept or decline a
//! swap, and one-click unsubscribe from one kind of mail (RFC 8058).
//!
//! Each link is one row of `action_links`, bound to its recipient, its action and its object, and
//! carries a random secret (256 bits, `rt_act_…`) stored only as its SHA-256 hash, like every other
//! secret of the server (`auth::secrets`). A link expires (`LinkAction::lifetime`: two weeks for
//! links that act, a year for unsubscribing) and its recipient revokes all of theirs at once
//! (`DELETE /me/action-links`). Following a link (GET) never changes anything: mail scanners and
//! link previews fetch every link. The page it shows says what will happen and has one button
//! that POSTs; the POST acts as the recipient through the same domain functions and the same
//! `cohorts::access` checks as the JSON API (`link_pages`).
//!
//! Reusing a link is fine where the action is idempotent (confirming twice says "already
//! confirmed"); a check-in link adds one check-in and is then used up.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::kinds::NotificationKind;
use crate::auth::scopes::Scope;
use crate::auth::secrets;
use crate::db::schema::action_links as links;
use crate::db::{AnyConnection, UserId, new_id, stored_as_text};
use crate::error::{ApiError, ApiResult};

/// What a link does. The object it acts on, by action: `ConfirmDuty`/`CantMake` an assignment
/// id; `RsvpYes`/`RsvpNo` a session id; `CheckIn` an experiment id; `AcceptCharter` a charter
/// version id; `TakeCover`/`AcceptSwap`/`DeclineSwap` a swap request id; `Unsubscribe` a
/// `NotificationKind`'s wire name (e.g. `session_soon`); `AddToCalendar` a session id (its GET
/// downloads the session as a calendar file, like `GET /sessions/{id}/calendar.ics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum LinkAction {
    ConfirmDuty,
    CantMake,
    RsvpYes,
    RsvpNo,
    CheckIn,
    AcceptCharter,
    TakeCover,
    AcceptSwap,
    DeclineSwap,
    Unsubscribe,
    AddToCalendar,
}

stored_as_text!(LinkAction, {
    ConfirmDuty = "confirm_duty", CantMake = "cant_make", RsvpYes = "rsvp_yes", RsvpNo = "rsvp_no",
    CheckIn = "check_in", AcceptCharter = "accept_charter", TakeCover = "take_cover", AcceptSwap = "accept_swap",
    DeclineSwap = "decline_swap", Unsubscribe = "unsubscribe", AddToCalendar = "add_to_calendar"
});

/// The prefix of every link secret (recognisable to secret scanners).
pub const PREFIX: &str = "rt_act_";

impl LinkAction {
    /// How long a link works: two weeks for links that act (longer than any reminder's lead
    /// time, so a link from the last mail about a thing still works when the thing is due), a
    /// year for unsubscribing (people unsubscribe from old mail).
    pub fn lifetime(self) -> Duration {
        match self {
            LinkAction::Unsubscribe => Duration::days(365),
            _ => Duration::days(14),
        }
    }

    /// Whether the link may be used again after it acted once. Every action is idempotent or
    /// refused in plain words when repeated, except a check-in, which would add a second one.
    pub fn reusable(self) -> bool {
        self != LinkAction::CheckIn
    }

    /// The scopes the recipient acts with (`auth::Caller::for_action_link`): the read and write
    /// scopes of the action's area, none for unsubscribing (which concerns no cohort).
    pub fn scopes(self) -> &'static [Scope] {
        use LinkAction::*;
        match self {
            ConfirmDuty | CantMake | TakeCover | AcceptSwap | DeclineSwap => &[Scope::RotaRead, Scope::RotaWrite],
            RsvpYes | RsvpNo => &[Scope::SessionsRead, Scope::SessionsWrite],
            AddToCalendar => &[Scope::SessionsRead],
            CheckIn => &[Scope::ExperimentsRead, Scope::ExperimentsWrite],
            AcceptCharter => &[Scope::CharterRead, Scope::CharterWrite],
            Unsubscribe => &[],
        }
    }
}

/// One link as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = links)]
pub struct LinkRow {
    pub id: String,
    pub user_id: UserId,
    pub action: LinkAction,
    pub object_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Why a link does not work (each has its own page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// No such link (404).
    Unknown,
    /// Past its `expires_at` (410).
    Expired,
    /// Revoked by its recipient (410).
    Revoked,
    /// A single-use link that acted already (410).
    Used,
}

impl Unusable {
    pub fn code(self) -> &'static str {
        match self {
            Unusable::Unknown => "link_unknown",
            Unusable::Expired => "link_expired",
            Unusable::Revoked => "link_revoked",
            Unusable::Used => "link_used",
        }
    }
}

/// Whether a stored link still works at `now` (pure). Revocation is reported before expiry: the
/// recipient's own decision is the more useful news.
pub fn usable(row: &LinkRow, now: DateTime<Utc>) -> Result<(), Unusable> {
    if row.revoked_at.is_some() {
        Err(Unusable::Revoked)
    } else if row.expires_at <= now.naive_utc() {
        Err(Unusable::Expired)
    } else if row.used_at.is_some() && !row.action.reusable() {
        Err(Unusable::Used)
    } else {
        Ok(())
    }
}

/// Issues a link for `user_id` to do `action` on `object_id`; returns the absolute URL
/// (`{base_url}/a/{secret}`, unsubscribe `{base_url}/unsubscribe/{secret}`). Runs inside the
/// caller's transaction (the reminder engine calls it while rendering a mail). An unsubscribe
/// link's object must be a notification kind's name.
pub fn issue(
    conn: &mut AnyConnection,
    base_url: &str,
    user_id: &UserId,
    action: LinkAction,
    object_id: &str,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    if action == LinkAction::Unsubscribe && NotificationKind::parse(object_id).is_none() {
        return Err(ApiError::Internal(anyhow::anyhow!("an unsubscribe link for {object_id:?}, which is no kind")));
    }
    let secret = secrets::generate(PREFIX);
    diesel::insert_into(links::table)
        .values((
            links::id.eq(new_id()),
            links::token_hash.eq(&secret.hash),
            links::user_id.eq(user_id),
            links::action.eq(action),
            links::object_id.eq(object_id),
            links::created_at.eq(now.naive_utc()),
            links::expires_at.eq((now + action.lifetime()).naive_utc()),
        ))
        .execute(conn)?;
    Ok(url(base_url, action, &secret.plain))
}

/// The URL of a link with this secret.
pub fn url(base_url: &str, action: LinkAction, secret: &str) -> String {
    let base = base_url.trim_end_matches('/');
    match action {
        LinkAction::Unsubscribe => format!("{base}/unsubscribe/{secret}"),
        _ => format!("{base}/a/{secret}"),
    }
}

/// The link with this secret, whatever its state.
pub fn find(conn: &mut AnyConnection, secret: &str) -> ApiResult<Option<LinkRow>> {
    Ok(links::table
        .filter(links::token_hash.eq(secrets::hash(secret)))
        .select(LinkRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records that the link acted. A single-use link is claimed by a conditional update, so of two
/// requests racing with it exactly one acts (`false` for the other); a reusable one keeps the
/// time of its first use.
pub fn mark_used(conn: &mut AnyConnection, row: &LinkRow, now: DateTime<Utc>) -> ApiResult<bool> {
    let claimed = diesel::update(links::table.find(&row.id).filter(links::used_at.is_null()))
        .set(links::used_at.eq(now.naive_utc()))
        .execute(conn)?;
    Ok(claimed == 1 || row.action.reusable())
}

/// Revokes every link of the user that is not revoked yet; answers how many.
pub fn revoke_all(conn: &mut AnyConnection, user_id: &UserId, now: DateTime<Utc>) -> ApiResult<usize> {
    Ok(diesel::update(links::table.filter(links::user_id.eq(user_id)).filter(links::revoked_at.is_null()))
        .set(links::revoked_at.eq(now.naive_utc()))
        .execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(action: LinkAction, now: DateTime<Utc>) -> LinkRow {
        LinkRow {
            id: "l".into(),
            user_id: UserId::from_untyped("u"),
            action,
            object_id: "o".into(),
            created_at: now.naive_utc(),
            expires_at: (now + action.lifetime()).naive_utc(),
            used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn every_action_reads_back_by_its_stored_name() {
        for &action in LinkAction::ALL {
            assert_eq!(LinkAction::parse_stored(action.as_str()), Some(action));
            assert_eq!(action.scopes().is_empty(), action == LinkAction::Unsubscribe);
        }
    }

    #[test]
    fn links_work_until_they_expire_are_revoked_or_a_single_use_one_acted() {
        let now = Utc::now();
        for &action in LinkAction::ALL {
            let fresh = row(action, now);
            assert_eq!(usable(&fresh, now), Ok(()));
            assert_eq!(usable(&fresh, now + action.lifetime() - Duration::seconds(1)), Ok(()));
            assert_eq!(usable(&fresh, now + action.lifetime()), Err(Unusable::Expired));
            let revoked = LinkRow { revoked_at: Some(now.naive_utc()), ..fresh.clone() };
            assert_eq!(usable(&revoked, now + Duration::days(400)), Err(Unusable::Revoked));
            let used = LinkRow { used_at: Some(now.naive_utc()), ..fresh };
            let expected = if action == LinkAction::CheckIn { Err(Unusable::Used) } else { Ok(()) };
            assert_eq!(usable(&used, now), expected, "{action:?}");
        }
        assert_eq!(LinkAction::Unsubscribe.lifetime(), Duration::days(365));
        assert_eq!(LinkAction::ConfirmDuty.lifetime(), Duration::days(14));
    }

    #[test]
    fn urls_name_the_page_and_tolerate_a_trailing_slash() {
        assert_eq!(url("https://rt.example/", LinkAction::RsvpYes, "rt_act_x"), "https://rt.example/a/rt_act_x");
        assert_eq!(
            url("https://rt.example", LinkAction::Unsubscribe, "rt_act_y"),
            "https://rt.example/unsubscribe/rt_act_y"
        );
    }
}
