//! Named leases in `job_leases(name, holder, until)`: a replica runs a periodic job only while it
//! holds the job's lease. Claimed by an insert-if-absent and then a conditional update, so it works
//! the same on SQLite and PostgreSQL; the number of rows written decides who holds it.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::job_leases as leases;
use crate::error::ApiResult;

/// Takes the lease `name` for `holder` until `now + ttl`: true when `holder` now holds it (it was
/// free, had run out, or was already theirs: holding it renews it), false when someone else does.
pub fn claim(conn: &mut AnyConnection, name: &str, holder: &str, now: DateTime<Utc>, ttl: Duration) -> ApiResult<bool> {
    let until = (now + ttl).naive_utc();
    let insert = diesel::insert_into(leases::table)
        .values((leases::name.eq(name), leases::holder.eq(holder), leases::until.eq(until)))
        .on_conflict_do_nothing();
    if crate::per_backend!(conn, |c| insert.execute(c))? == 1 {
        return Ok(true);
    }
    let free_or_mine = leases::until.lt(now.naive_utc()).or(leases::holder.eq(holder));
    let taken = diesel::update(leases::table.find(name).filter(free_or_mine))
        .set((leases::holder.eq(holder), leases::until.eq(until)))
        .execute(conn)?;
    Ok(taken == 1)
}

/// Gives the lease up at once (when `holder` holds it), so another replica may run the job now.
pub fn release(conn: &mut AnyConnection, name: &str, holder: &str, now: DateTime<Utc>) -> ApiResult<bool> {
    let released = diesel::update(leases::table.find(name).filter(leases::holder.eq(holder)))
        .set(leases::until.eq((now - Duration::microseconds(1)).naive_utc()))
        .execute(conn)?;
    Ok(released == 1)
}

/// Who holds the lease and until when, if anyone ever took it.
pub fn holder(conn: &mut AnyConnection, name: &str) -> ApiResult<Option<(String, DateTime<Utc>)>> {
    let row: Option<(String, chrono::NaiveDateTime)> =
        leases::table.find(name).select((leases::holder, leases::until)).first(conn).optional()?;
    Ok(row.map(|(holder, until)| (holder, until.and_utc())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(dir.path().join("t.db").to_str().unwrap(), 2).unwrap();
        (dir, db)
    }

    #[test]
    fn one_holder_at_a_time_until_the_lease_runs_out() {
        let (_dir, db) = db();
        let now = Utc::now();
        let ttl = Duration::seconds(60);
        let claim_at = |holder: &'static str, at: DateTime<Utc>| {
            db.write_blocking(move |conn| claim(conn, "sweep", holder, at, ttl)).unwrap()
        };
        assert!(claim_at("a", now), "a free lease is taken");
        assert!(!claim_at("b", now), "held by a: b may not take it");
        assert!(!claim_at("b", now + Duration::seconds(59)));
        assert!(claim_at("a", now + Duration::seconds(30)), "the holder renews it");
        assert!(!claim_at("b", now + Duration::seconds(61)), "renewed until now + 90 s");
        assert!(claim_at("b", now + Duration::seconds(91)), "ran out: b takes it over");
        assert!(!claim_at("a", now + Duration::seconds(92)), "and a no longer holds it");
        let held = db.write_blocking(|conn| holder(conn, "sweep")).unwrap().unwrap();
        assert_eq!(held, ("b".to_string(), now + Duration::seconds(151)));
    }

    #[test]
    fn a_released_lease_is_free_at_once_and_only_its_holder_releases_it() {
        let (_dir, db) = db();
        let now = Utc::now();
        let ttl = Duration::seconds(60);
        assert!(db.write_blocking(|conn| claim(conn, "sweep", "a", now, ttl)).unwrap());
        assert!(!db.write_blocking(|conn| release(conn, "sweep", "b", now)).unwrap(), "b does not hold it");
        assert!(!db.write_blocking(|conn| claim(conn, "sweep", "b", now, ttl)).unwrap());
        assert!(db.write_blocking(|conn| release(conn, "sweep", "a", now)).unwrap());
        assert!(db.write_blocking(|conn| claim(conn, "sweep", "b", now, ttl)).unwrap(), "free after release");
        assert!(db.write_blocking(|conn| claim(conn, "other", "a", now, ttl)).unwrap(), "leases are per name");
    }
}
