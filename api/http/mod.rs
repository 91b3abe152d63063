//! HTTP plumbing shared by every route: request ids, the JSON body extractor and the fallback
//! that answers unknown routes (404) and wrong methods (405) as problem+json.

pub mod app;
pub mod fallback;
pub mod guard;
pub mod idempotency;
pub mod json;
pub mod query;
pub mod request_id;
pub mod words;

pub use query::Query;

/// The client's address as seen on the socket. Forwarded headers are not trusted: they are
/// trivially forged, and rate limits keyed on them could be dodged.
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
    req.peer_addr().map(|addr| addr.ip())
}
