//! Opaque secrets (refresh tokens, magic links, reset links): 256 random bits, shown to their
//! owner once and stored only as a SHA-256 hash, so a copy of the database signs nobody in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub struct Secret {
    /// What the owner receives.
    pub plain: String,
    /// What the database keeps.
    pub hash: String,
}

/// A new secret; `prefix` makes it recognisable (e.g. to secret scanners) without weakening it.
pub fn generate(prefix: &str) -> Secret {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let plain = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&plain);
    Secret { plain, hash }
}

pub fn hash(plain: &str) -> String {
    let digest = Sha256::digest(plain.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_unique_and_hashed() {
        let a = generate("rt_rf_");
        let b = generate("rt_rf_");
        assert!(a.plain.starts_with("rt_rf_"));
        assert_eq!(a.plain.len(), "rt_rf_".len() + 43);
        assert_ne!(a.plain, b.plain);
        assert_eq!(a.hash, hash(&a.plain));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.plain));
    }
}
