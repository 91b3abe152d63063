//! Password hashing: argon2id with the argon2 crate's defaults, which are OWASP's recommended
//! minimum (m = 19 MiB, t = 2, p = 1). Hashing is CPU-heavy: call it on a blocking thread.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::LazyLock;

pub fn hash(password: &str) -> anyhow::Result<String> {
    let hash =
        Argon2::default().hash_password(password.as_bytes()).map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
    Ok(hash.to_string())
}

pub fn verify(password: &str, stored_hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), stored_hash).is_ok()
}

/// A hash of nothing in particular, checked when an email is unknown so that "no such account"
/// takes as long as "wrong password" and timing does not reveal who has an account.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| hash("decoy password").expect("argon2 works"));

pub fn spend_equal_time(password: &str) {
    let _ = verify(password, &DECOY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verifiable() {
        let a = hash("correct horse battery").unwrap();
        let b = hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse battery!", &a));
        assert!(!verify("anything", "not a hash"));
    }
}
