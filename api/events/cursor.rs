//! Named read positions in the event stream (`stream_cursors`), one per consumer (the
//! notification engine, the webhook deliveries). A cursor only moves forward.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{events, stream_cursors};
use crate::error::ApiResult;

/// Where the consumer `name` stands. A cursor that is missing (its migration normally writes it)
/// starts at the end of the stream as it is now: what happened before is not acted on.
pub fn position(conn: &mut AnyConnection, name: &str) -> ApiResult<i64> {
    if let Some(seq) = stream_cursors::table.find(name).select(stream_cursors::seq).first(conn).optional()? {
        return Ok(seq);
    }
    let end: Option<i64> = events::table.select(diesel::dsl::max(events::seq)).first(conn)?;
    crate::per_backend!(conn, |c| {
        diesel::insert_into(stream_cursors::table)
            .values((stream_cursors::name.eq(name), stream_cursors::seq.eq(end.unwrap_or(0))))
            .on_conflict(stream_cursors::name)
            .do_nothing()
            .execute(c)
    })?;
    Ok(stream_cursors::table.find(name).select(stream_cursors::seq).first(conn)?)
}

/// Moves the consumer `name` to `seq`, never back.
pub fn advance(conn: &mut AnyConnection, name: &str, seq: i64) -> ApiResult<()> {
    diesel::update(stream_cursors::table.find(name).filter(stream_cursors::seq.lt(seq)))
        .set(stream_cursors::seq.eq(seq))
        .execute(conn)?;
    Ok(())
}
