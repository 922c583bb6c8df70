//! Email addresses: normalization and the blind index that finds a user without decrypting.
//!
//! Why a blind index: addresses are sealed per org (docs/architecture.md#data-lifecycle), but sign-in starts from an
//! address alone, before we know the org. HMAC-SHA256 of the normalized address under an
//! installation secret gives a stable lookup key that reveals nothing without the secret (a
//! plain hash would not do: addresses are guessable, so an unkeyed hash is a dictionary
//! lookup away from the address). The secret is an installation secret wrapped by the master
//! key (purpose [`EMAIL_INDEX_PURPOSE`]), so a copy of the database alone cannot be searched
//! for a known address either.
//!
//! Normalization is deliberately modest: trim, lowercase, and a shape check. We do not fold
//! provider-specific aliases (`+tags`, Gmail dots): two spellings that reach one inbox are two
//! addresses to us, which errs towards not merging different people.

use hmac::{Hmac, Mac};
use ringside_core::Pii;
use ringside_store::EmailIndex;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::AuthError;

/// The purpose name of the installation secret keying the index.
pub const EMAIL_INDEX_PURPOSE: &str = "email-index";

/// Longest address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

const DOMAIN_TAG: &[u8] = b"ringside/email-index/v1\0";

/// The installation secret keying the blind index. `Debug` does not print it.
#[derive(Clone)]
pub struct EmailIndexKey(Zeroizing<[u8; 32]>);

impl EmailIndexKey {
    /// Wraps 32 secret bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The installation's key: the `email-index` installation secret, created (wrapped by the
    /// master key) on first use.
    pub fn load(
        store: &ringside_store::Store,
        masters: &ringside_vault::MasterKeyring,
    ) -> Result<Self, AuthError> {
        let secret = store
            .secrets()
            .system_secret(EMAIL_INDEX_PURPOSE, masters)?;
        Ok(Self::new(*secret))
    }

    /// The blind index of an already normalized address.
    pub fn index(&self, normalized: &Pii<String>) -> EmailIndex {
        // HMAC accepts keys of any length; 32 bytes cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0[..])
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(DOMAIN_TAG);
        mac.update(normalized.expose().as_bytes());
        EmailIndex(mac.finalize().into_bytes().into())
    }
}

impl std::fmt::Debug for EmailIndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmailIndexKey([redacted])")
    }
}

/// Trims and lowercases an address and checks its shape: one `@`, a non-empty local part of at
/// most 64 bytes, a domain with a dot and no empty label, no spaces or control characters, at
/// most [`MAX_EMAIL_LEN`] bytes. [`AuthError::InvalidInput`]`("email")` otherwise.
pub fn normalize_email(raw: &str) -> Result<Pii<String>, AuthError> {
    let invalid = || AuthError::InvalidInput("email");
    let email = raw.trim().to_lowercase();
    if email.is_empty()
        || email.len() > MAX_EMAIL_LEN
        || email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ':')
    {
        return Err(invalid());
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
    if local.is_empty()
        || local.len() > 64
        || local.contains('@')
        || !domain.contains('.')
        || domain.split('.').any(str::is_empty)
    {
        return Err(invalid());
    }
    Ok(Pii::new(email))
}

/// The local part (before the `@`) of a normalized address.
pub(crate) fn local_part(normalized: &Pii<String>) -> Pii<String> {
    normalized.map(|e| e.rsplit_once('@').map_or(e.as_str(), |(l, _)| l).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_trims_and_lowercases() {
        assert_eq!(
            normalize_email("  Jane.Doe@Example.COM ").unwrap().expose(),
            "jane.doe@example.com"
        );
    }

    #[test]
    fn malformed_addresses_are_refused_without_echoing_them() {
        for bad in [
            "",
            "no-at-sign",
            "@example.com",
            "a@",
            "a@b",
            "a@.com",
            "a@b..com",
            "a b@example.com",
            "a@b@c.com",
            "a:b@example.com",
        ] {
            let err = normalize_email(bad).unwrap_err();
            assert_eq!(err.code(), "invalid_input", "{bad:?} is refused");
            assert_eq!(
                err.to_string(),
                "invalid email",
                "the message names the field only"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(normalize_email(&long).is_err(), "over 254 bytes");
    }

    #[test]
    fn the_index_is_stable_keyed_and_case_insensitive() {
        let key = EmailIndexKey::new([7; 32]);
        let a = key.index(&normalize_email("Jane@Example.com").unwrap());
        let b = key.index(&normalize_email("jane@example.com").unwrap());
        assert_eq!(a, b, "normalized spellings share an index");
        let other_key = EmailIndexKey::new([8; 32]);
        assert_ne!(
            a,
            other_key.index(&normalize_email("jane@example.com").unwrap()),
            "another installation secret gives another index"
        );
        assert_ne!(
            a,
            key.index(&normalize_email("john@example.com").unwrap()),
            "another address gives another index"
        );
    }

    #[test]
    fn debug_prints_neither_key_nor_index() {
        let key = EmailIndexKey::new([0xAB; 32]);
        let index = key.index(&normalize_email("jane@example.com").unwrap());
        let printed = format!("{key:?} {index:?}");
        assert!(!printed.to_lowercase().contains("abab"), "{printed}");
        assert!(printed.contains("redacted"), "{printed}");
    }
}
