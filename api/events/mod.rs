//! Events are the spine: the transactional outbox every state change writes to, and the ordered
//! stream every consumer reads.
//!
//! - **Typed.** Each event is one of [`EventKind`] with its own payload type ([`kind`]), names its
//!   cohort and its [`Audience`] (who may see it), so a consumer never re-derives visibility.
//! - **In the same transaction as the change.** [`NewEvent::record`] appends inside the
//!   transaction that makes the change, so an event exists exactly when the change does, and runs
//!   the [`reactors`] registered for its kind there too (a re-plan after an absence).
//! - **Strictly ordered.** Rows are inserted without a sequence number; [`before_commit`], the
//!   last thing a transaction does, numbers them under a transaction-level lock held until the
//!   commit. Numbers are therefore given in commit order: once a consumer has read `seq` N, no
//!   event numbered N or lower can still appear, on any replica. [`after`] reads "everything
//!   after N" in that order.
//!
//! Nothing here calls out during a request: notifications, webhooks and the phone's sync read
//! the stream afterwards.

pub mod cursor;
pub mod kind;
pub mod reactors;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::events;
use crate::db::{AnyConnection, CohortId, UserId, new_id};
use crate::error::{ApiError, ApiResult};
pub use kind::{Audience, AudienceRule, EventKind, EventPayload};

/// One event about to be recorded: `NewEvent::new(SessionMoved {}, &session.id)`. The kind
/// comes from the payload's type, so only kinds of [`EventKind`] can be recorded, each with its
/// own payload.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub payload: EventPayload,
    pub actor_id: Option<&'a UserId>,
    pub cohort_id: Option<&'a CohortId>,
    pub subject_id: &'a str,
    /// For kinds whose audience is the subject's own visibility (experiments).
    pub audience: Option<Audience>,
}

impl<'a> NewEvent<'a> {
    /// An event about one object, e.g. `NewEvent::new(MemberJoined { .. }, user_id)`.
    /// The subject is any kind of id (a typed id, or the text id of a kind with no type yet).
    pub fn new<S: AsRef<str> + ?Sized>(payload: impl Into<EventPayload>, subject_id: &'a S) -> Self {
        Self {
            payload: payload.into(),
            actor_id: None,
            cohort_id: None,
            subject_id: subject_id.as_ref(),
            audience: None,
        }
    }

    /// An event about `subject_id` in a cohort, done by `actor_id`: what most members' actions
    /// record.
    pub fn by_in_cohort(
        payload: impl Into<EventPayload>,
        actor_id: &'a UserId,
        cohort_id: &'a CohortId,
        subject_id: &'a (impl AsRef<str> + ?Sized),
    ) -> Self {
        Self::new(payload, subject_id).by(actor_id).in_cohort(cohort_id)
    }

    /// Who did it.
    pub fn by(self, actor_id: &'a UserId) -> Self {
        Self { actor_id: Some(actor_id), ..self }
    }

    pub fn in_cohort(self, cohort_id: &'a CohortId) -> Self {
        Self { cohort_id: Some(cohort_id), ..self }
    }

    /// The audience of a kind whose audience is its subject's visibility.
    pub fn visible_to(self, audience: Audience) -> Self {
        Self { audience: Some(audience), ..self }
    }

    pub fn kind(&self) -> EventKind {
        self.payload.kind()
    }

    /// Who may see it: the kind's audience, or for experiments the one given.
    pub fn resolved_audience(&self) -> ApiResult<Audience> {
        match (self.kind().audience(), self.audience) {
            (AudienceRule::Fixed(fixed), None) => Ok(fixed),
            (AudienceRule::Fixed(fixed), Some(given)) if given == fixed => Ok(fixed),
            (AudienceRule::OfSubject, Some(given)) => Ok(given),
            (rule, given) => Err(ApiError::Internal(anyhow::anyhow!(
                "event {}: audience {given:?} does not fit its rule {rule:?}",
                self.kind().as_str()
            ))),
        }
    }

    /// Appends the event and runs its reactors; call it inside the transaction that makes the
    /// change, once the change is made (reactors see the database as the event describes it).
    pub fn record(self, conn: &mut AnyConnection, now: DateTime<Utc>) -> ApiResult<()> {
        record_all(conn, vec![self], now)
    }
}

/// Appends several events of one change (a session moved and cancelled at once), then runs
/// their reactors: each reactor once per cohort however many of the events ask for it.
pub fn record_all(conn: &mut AnyConnection, events: Vec<NewEvent<'_>>, now: DateTime<Utc>) -> ApiResult<()> {
    for event in &events {
        append(conn, event, now)?;
    }
    reactors::react(conn, &events, now)
}

/// The names of the fields a partial update sets, for the event that records it.
pub fn changed_fields(fields: &[(&'static str, bool)]) -> Vec<String> {
    fields.iter().filter(|(_, set)| *set).map(|(name, _)| (*name).to_string()).collect()
}

#[derive(Insertable)]
#[diesel(table_name = events)]
struct EventRow<'a> {
    id: String,
    kind: &'static str,
    actor_id: Option<&'a UserId>,
    cohort_id: Option<&'a CohortId>,
    subject_type: &'static str,
    subject_id: &'a str,
    payload: String,
    created_at: NaiveDateTime,
    audience: &'static str,
}

fn append(conn: &mut AnyConnection, event: &NewEvent<'_>, now: DateTime<Utc>) -> ApiResult<()> {
    let kind = event.kind();
    diesel::insert_into(events::table)
        .values(EventRow {
            id: new_id(),
            kind: kind.as_str(),
            actor_id: event.actor_id,
            cohort_id: event.cohort_id,
            subject_type: kind.subject_type(),
            subject_id: event.subject_id,
            payload: event.payload.to_json().to_string(),
            created_at: now.naive_utc(),
            audience: event.resolved_audience()?.as_str(),
        })
        .execute(conn)?;
    Ok(())
}

/// The key of the transaction-level advisory lock under which PostgreSQL transactions number
/// their events (any constant that nothing else uses as a lock key: "events" in ASCII).
const NUMBERING_LOCK: i64 = 0x6576_656e_7473;

/// Numbers the events this transaction appended, in the order it appended them; call it as
/// the last statement before COMMIT, at every commit point of a transaction that may have
/// recorded events (`Db::write_blocking` does). Correct to call any number of times, from any
/// thread the connection has moved to; when the transaction appended nothing it costs one
/// look-up in the partial index of unnumbered rows and takes no lock.
///
/// PostgreSQL: takes `pg_advisory_xact_lock`, held until the transaction ends, then gives the
/// transaction's rows (`seq IS NULL`, visible only to it) the next values of `events_seq`. Two
/// transactions therefore number one after the other, and each commits before the next can
/// number: seq order is commit order, so a reader who has seen N never later finds a row below
/// N. Taken last, the lock cannot deadlock (its holder waits for nothing but its own commit).
/// SQLite has one writer at a time: `MAX(seq) + 1` onwards is enough.
pub fn before_commit(conn: &mut AnyConnection) -> ApiResult<()> {
    // Only this transaction's rows are unnumbered (every commit numbers its own), so this is
    // "did we append anything"; a row some commit path left unnumbered is numbered by the next.
    let unnumbered = events::table.filter(events::seq.is_null());
    if !diesel::select(diesel::dsl::exists(unnumbered)).get_result::<bool>(conn)? {
        return Ok(());
    }
    match conn {
        AnyConnection::Postgresql(pg) => {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<diesel::sql_types::BigInt, _>(NUMBERING_LOCK)
                .execute(pg)?;
            // nextval in the inner query's order: the order of appending (ids are UUIDv7,
            // ordered by creation within a process).
            diesel::sql_query(
                "UPDATE events SET seq = numbered.seq FROM \
                 (SELECT id, nextval('events_seq') AS seq FROM \
                   (SELECT id FROM events WHERE seq IS NULL ORDER BY created_at, id) pending) numbered \
                 WHERE events.id = numbered.id",
            )
            .execute(pg)?;
        }
        AnyConnection::Sqlite(_) => {
            let last: Option<i64> = events::table.select(diesel::dsl::max(events::seq)).first(conn)?;
            let pending: Vec<String> = events::table
                .filter(events::seq.is_null())
                .order((events::created_at.asc(), events::id.asc()))
                .select(events::id)
                .load(conn)?;
            for (offset, id) in pending.iter().enumerate() {
                let seq = last.unwrap_or(0) + 1 + offset as i64;
                diesel::update(events::table.find(id)).set(events::seq.eq(seq)).execute(conn)?;
            }
        }
    }
    Ok(())
}

/// An event as consumers read it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Event {
    /// Position in the stream: strictly increasing in commit order; read on with `after(seq)`.
    pub seq: i64,
    #[schema(format = Uuid)]
    pub id: String,
    pub kind: EventKind,
    /// Who may see it.
    pub audience: Audience,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub cohort_id: Option<CohortId>,
    /// Who did it; null for what the system did (a sweep, the planner).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub actor_id: Option<UserId>,
    pub subject_type: String,
    pub subject_id: String,
    /// The kind's payload: the schema of the same name as the kind's variant in `EventPayload`.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl Event {
    /// The kind and payload as their types, when the stored payload has its kind's shape.
    pub fn typed(&self) -> Option<EventPayload> {
        serde_json::from_value(serde_json::json!({ "kind": self.kind, "payload": self.payload })).ok()
    }
}

#[derive(Queryable)]
struct StoredRow {
    seq: Option<i64>,
    id: String,
    kind: String,
    audience: String,
    cohort_id: Option<CohortId>,
    actor_id: Option<UserId>,
    subject_type: String,
    subject_id: String,
    payload: String,
    created_at: NaiveDateTime,
}

/// The events numbered after `seq`, oldest first, at most `limit` (1..=1000): "everything after
/// N" for a consumer that keeps N as its cursor. A kind or audience this build does not know
/// (rows written by a newer release) is an error rather than a silent skip.
pub fn after(conn: &mut AnyConnection, seq: i64, limit: i64) -> ApiResult<Vec<Event>> {
    let rows: Vec<StoredRow> = events::table
        .filter(events::seq.gt(seq))
        .order(events::seq.asc())
        .limit(limit.clamp(1, 1000))
        .select((
            events::seq,
            events::id,
            events::kind,
            events::audience,
            events::cohort_id,
            events::actor_id,
            events::subject_type,
            events::subject_id,
            events::payload,
            events::created_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let unknown = |what: &str, value: &str| {
                ApiError::Internal(anyhow::anyhow!("event {}: unknown {what} {value}", row.id))
            };
            Ok(Event {
                seq: row.seq.ok_or_else(|| unknown("seq", "null"))?,
                kind: EventKind::parse(&row.kind).ok_or_else(|| unknown("kind", &row.kind))?,
                audience: Audience::parse(&row.audience).ok_or_else(|| unknown("audience", &row.audience))?,
                payload: serde_json::from_str(&row.payload).map_err(|e| ApiError::Internal(e.into()))?,
                created_at: row.created_at.and_utc(),
                id: row.id,
                cohort_id: row.cohort_id,
                actor_id: row.actor_id,
                subject_type: row.subject_type,
                subject_id: row.subject_id,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel_migrations::MigrationHarness;

    use super::*;
    use crate::db::SQLITE_MIGRATIONS;

    #[test]
    fn the_migration_numbers_old_events_in_the_order_written_and_gives_each_its_audience() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = diesel::SqliteConnection::establish(dir.path().join("t.db").to_str().unwrap()).unwrap();
        loop {
            let pending = conn.pending_migrations(SQLITE_MIGRATIONS).unwrap();
            let next = pending.first().expect("the events migration is pending");
            if next.name().to_string().contains("events_sequence_audience") {
                break;
            }
            conn.run_next_migration(SQLITE_MIGRATIONS).unwrap();
        }
        conn.batch_execute(
            "INSERT INTO events (id, kind, cohort_id, subject_type, subject_id, payload, created_at) VALUES
             ('b', 'cohort.created', 'c', 'cohort', 'c', '{}', '2026-01-01 10:00:00'),
             ('a', 'user.signed_up', NULL, 'user', 'u', '{}', '2026-01-01 10:00:00'),
             ('0', 'invitation.sent', 'c', 'invitation', 'i', '{}', '2026-01-02 09:00:00'),
             ('1', 'experiment.committed', 'c', 'experiment', 'gone', '{}', '2026-01-03 09:00:00'),
             ('2', 'session.rsvp_changed', 'c', 'session', 's', '{\"response\":\"no\"}', '2026-01-04 09:00:00');",
        )
        .unwrap();
        conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
        let mut conn = AnyConnection::Sqlite(conn);
        let read = after(&mut conn, 0, 10).unwrap();
        let seen: Vec<(i64, &str, Audience)> = read.iter().map(|e| (e.seq, e.id.as_str(), e.audience)).collect();
        assert_eq!(
            seen,
            [
                (1, "a", Audience::Account),
                (2, "b", Audience::Cohort),
                (3, "0", Audience::Organizers),
                (4, "1", Audience::Private),
                (5, "2", Audience::Organizers),
            ]
        );
        // New events continue the numbering.
        conn.transaction(|c| {
            NewEvent::new(kind::CohortArchived {}, "c")
                .in_cohort(&CohortId::from_untyped("c"))
                .record(c, Utc::now())?;
            before_commit(c)
        })
        .unwrap();
        assert_eq!(after(&mut conn, 5, 10).unwrap()[0].seq, 6);
    }

    #[test]
    fn an_experiment_event_needs_the_experiment_s_visibility_and_others_keep_their_kind_s() {
        let bare = NewEvent::new(kind::ExperimentDone {}, "x");
        assert!(bare.resolved_audience().is_err(), "no silent default for an experiment");
        assert_eq!(bare.visible_to(Audience::Buddy).resolved_audience().unwrap(), Audience::Buddy);
        let fixed = NewEvent::new(kind::InvitationSent {}, "i");
        assert_eq!(fixed.resolved_audience().unwrap(), Audience::Organizers);
        assert!(fixed.visible_to(Audience::Cohort).resolved_audience().is_err(), "a kind's audience is not widened");
    }
}
