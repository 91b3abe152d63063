//! Request and response types of the feed routes.

use serde::Serialize;
use utoipa::ToSchema;

/// A feed's URL, shown only in this answer: `<base>/feeds/<token>.ics`. Subscribe to it in a
/// calendar app; anyone holding it reads the feed, so asking again gives a new one and the old
/// one stops working at once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeed {
    #[schema(example = "https://roundtable.example.org/feeds/rt_feed_3q2-7wEXAMPLE.ics")]
    pub url: String,
}
