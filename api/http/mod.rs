//! HTTP plumbing shared by every route: request ids, the JSON body extractor and the fallback
//! that answers unknown routes (404) and wrong methods (405) as problem+json.

pub mod app;
pub mod fallback;
pub mod forwarded;
pub mod guard;
pub mod idempotency;
pub mod json;
pub mod query;
pub mod request_id;
pub mod words;

pub use query::Query;

/// The client's address: the TCP peer's, or, when the peer is one of `ROUNDTABLE_TRUSTED_PROXIES`,
/// the address that proxy put in `X-Forwarded-For` (`forwarded::TrustedProxies::client`). From
/// any other peer the header is ignored: it is trivially forged, and rate limits keyed on it
/// could be dodged.
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let Some(state) = req.app_data::<actix_web::web::Data<crate::state::AppState>>() else {
        return Some(peer);
    };
    if state.trusted_proxies.is_empty() {
        return Some(peer);
    }
    let headers: Vec<&str> = req.headers().get_all("x-forwarded-for").filter_map(|value| value.to_str().ok()).collect();
    Some(state.trusted_proxies.client(peer, &headers))
}
