//! Short-lived access tokens: HS256 JWTs carrying the user (`sub`) and the sign-in they belong to
//! (`sid`), so signing out or resetting the password ends them at once, not only at expiry.
//! Expiry is checked against the app's `Clock`, not the system time, so tests can move time.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::db::UserId;

pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
const ISSUER: &str = "roundtable";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub iss: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Rejection {
    Expired,
    Invalid,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false; // checked against the app clock in `verify`
        validation.set_required_spec_claims(&["sub", "exp", "iat", "iss"]);
        validation.set_issuer(&[ISSUER]);
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation }
    }

    pub fn issue(&self, user_id: &UserId, session_id: &str, now: DateTime<Utc>) -> anyhow::Result<String> {
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + ACCESS_TOKEN_SECONDS,
            jti: uuid::Uuid::new_v4().to_string(),
            iss: ISSUER.to_string(),
        };
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, Rejection> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|_| Rejection::Invalid)?;
        if data.claims.exp <= now.timestamp() {
            return Err(Rejection::Expired);
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn tokens_verify_until_they_expire() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let user = UserId::new();
        let token = keys.issue(&user, "session", at(1_800_000_000)).unwrap();
        let claims = keys.verify(&token, at(1_800_000_000 + ACCESS_TOKEN_SECONDS - 1)).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), (user.as_str(), "session"));
        assert_eq!(keys.verify(&token, at(1_800_000_000 + ACCESS_TOKEN_SECONDS)).unwrap_err(), Rejection::Expired);
    }

    #[test]
    fn other_keys_and_edits_are_rejected() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let other = JwtKeys::new(b"fedcba9876543210fedcba9876543210");
        let token = keys.issue(&UserId::new(), "session", at(1_800_000_000)).unwrap();
        assert_eq!(other.verify(&token, at(1_800_000_000)).unwrap_err(), Rejection::Invalid);
        let mut tampered = token.clone();
        tampered.insert(token.find('.').unwrap() + 3, 'x');
        assert_eq!(keys.verify(&tampered, at(1_800_000_000)).unwrap_err(), Rejection::Invalid);
    }
}
