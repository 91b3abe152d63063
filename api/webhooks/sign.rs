//! Signing deliveries the Standard Webhooks way (<https://www.standardwebhooks.com/>), pure:
//! the message id, the timestamp and the body are signed with HMAC-SHA256 keyed with the
//! base64-decoded part of a `whsec_…` secret, over `"{id}.{timestamp}.{body}"`. The three
//! headers are `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`,
//! `v1,<base64 signature>`; during a secret rotation one signature per secret, space-separated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of every webhook secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret (the spec asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;

/// A new secret: `whsec_` and the base64 of `SECRET_BYTES` random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::fill(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The key of a secret: the base64 after `whsec_` (a secret without the prefix is taken whole).
fn key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret)).ok().filter(|k| !k.is_empty())
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`; `None` for a secret that is not base64.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(secret)?).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The three headers of a delivery signed with every one of `secrets` (the current one first;
/// during a rotation the previous one too), in sending order.
pub fn headers(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> Vec<(&'static str, String)> {
    let signatures: Vec<String> = secrets.iter().filter_map(|s| signature(s, id, timestamp, body)).collect();
    vec![
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signatures.join(" ")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the Standard Webhooks specification and its reference libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1614265330;
    const BODY: &str = r#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_specification_s_example_signs_as_published() {
        assert_eq!(signature(SECRET, ID, TIMESTAMP, BODY).as_deref(), Some(EXPECTED));
        let bare = SECRET.strip_prefix(SECRET_PREFIX).unwrap();
        assert_eq!(signature(bare, ID, TIMESTAMP, BODY).as_deref(), Some(EXPECTED), "the prefix is optional");
    }

    #[test]
    fn any_change_to_id_timestamp_or_body_changes_the_signature() {
        for (id, ts, body) in [("msg_other", TIMESTAMP, BODY), (ID, TIMESTAMP + 1, BODY), (ID, TIMESTAMP, "{}")] {
            assert_ne!(signature(SECRET, id, ts, body).as_deref(), Some(EXPECTED));
        }
        assert_eq!(signature("whsec_not base64!", ID, TIMESTAMP, BODY), None);
    }

    #[test]
    fn a_rotation_sends_both_signatures_space_separated() {
        let new = new_secret();
        let sent = headers(&[&new, SECRET], ID, TIMESTAMP, BODY);
        assert_eq!(sent[0], ("webhook-id", ID.to_string()));
        assert_eq!(sent[1], ("webhook-timestamp", TIMESTAMP.to_string()));
        let signatures: Vec<&str> = sent[2].1.split(' ').collect();
        assert_eq!(signatures, [signature(&new, ID, TIMESTAMP, BODY).unwrap().as_str(), EXPECTED]);
    }

    #[test]
    fn new_secrets_are_prefixed_random_and_long_enough() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with("whsec_"));
        assert_ne!(a, b);
        assert_eq!(key(&a).unwrap().len(), SECRET_BYTES);
        const { assert!(SECRET_BYTES >= 24) };
    }
}
