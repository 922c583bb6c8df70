//! A device's own key ([`LocalKey`]): seals values kept in a file on one machine — the desktop
//! app's pop cache — with the same AES-256-GCM discipline as the relay's data (fresh random
//! nonce, place-bound associated data, plaintext only in zeroizing buffers).
//!
//! Why a separate key and not an org's: the desktop never holds org keys, and its file must be
//! unreadable to anyone who copies the disk. The key lives in the OS keychain (the caller's job);
//! losing it only loses the cache, which holds nothing that is not also on the relay.
//!
//! Blob layout: `[nonce: 12][ciphertext][tag: 16]`. The associated data is the domain
//! `ringside/vault/local` and the caller's place fields (table, row id, owner), so a value copied
//! to another row or another user's rows fails to open.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::cipher::{self, Aad, KEY_LEN, KeyBytes};
use crate::error::{Error, Result};
use crate::keytext::decode_key;

/// Domain tag of a local value's associated data.
const LOCAL_DOMAIN: &str = "ringside/vault/local";
/// The prefix of a local key's text form.
const TEXT_PREFIX: &str = "ringside-local-key:";

/// A 256-bit key of this device, wiped when dropped; `Debug` never prints it.
pub struct LocalKey(KeyBytes);

impl std::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalKey(..)")
    }
}

impl LocalKey {
    /// A fresh random key.
    #[must_use]
    pub fn generate() -> Self {
        Self(Zeroizing::new(ringside_core::random_bytes()))
    }

    /// The key as text for a keychain entry: `ringside-local-key:{base64 of 32 bytes}`.
    #[must_use]
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(TEXT_PREFIX.len() + 44));
        text.push_str(TEXT_PREFIX);
        STANDARD.encode_string(self.0.as_slice(), &mut text);
        text
    }

    /// Reads [`LocalKey::to_text`]'s form; `location` names where it came from in the error.
    ///
    /// # Errors
    /// [`Error::MalformedKey`] for anything else (the text is never echoed).
    pub fn from_text(text: &str, location: &str) -> Result<Self> {
        text.strip_prefix(TEXT_PREFIX)
            .and_then(decode_key)
            .map(Self)
            .ok_or_else(|| Error::MalformedKey {
                location: location.to_owned(),
                reason: format!("expected `{TEXT_PREFIX}` and base64 of {KEY_LEN} bytes"),
            })
    }

    fn aad(place: &[&[u8]]) -> Aad {
        let mut aad = Aad::new(LOCAL_DOMAIN);
        for field in place {
            aad.field(field);
        }
        aad
    }

    /// Seals `plaintext` for `place` (e.g. `[b"pops", pop_id, owner]`).
    ///
    /// # Errors
    /// [`Error::SealFailed`] if the cipher refuses (it does not for sane lengths).
    pub fn seal(&self, place: &[&[u8]], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut blob = Vec::new();
        cipher::encrypt_into(&self.0, Self::aad(place).bytes(), plaintext, &mut blob)
            .map_err(|_| Error::SealFailed)?;
        Ok(blob)
    }

    /// Opens what [`LocalKey::seal`] made for the same `place`.
    ///
    /// # Errors
    /// [`Error::OpenFailed`] for any failure: another key, another place, altered bytes.
    pub fn open(&self, place: &[&[u8]], blob: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        cipher::decrypt(&self.0, Self::aad(place).bytes(), blob).ok_or(Error::OpenFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_opens_only_with_its_key_and_in_its_place() {
        let key = LocalKey::generate();
        let blob = key.seal(&[b"pops", b"row-1"], b"+15551234567").unwrap();
        assert!(
            !blob.windows(6).any(|w| w == b"555123"),
            "the plaintext is not in the blob"
        );
        assert_eq!(
            key.open(&[b"pops", b"row-1"], &blob).unwrap().as_slice(),
            b"+15551234567"
        );
        assert!(matches!(
            key.open(&[b"pops", b"row-2"], &blob),
            Err(Error::OpenFailed)
        ));
        assert!(matches!(
            key.open(&[b"pops", b"row-", b"1"], &blob),
            Err(Error::OpenFailed)
        ));
        assert!(matches!(
            LocalKey::generate().open(&[b"pops", b"row-1"], &blob),
            Err(Error::OpenFailed)
        ));
        let mut altered = blob.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(key.open(&[b"pops", b"row-1"], &altered).is_err());
        assert!(key.open(&[b"pops", b"row-1"], &blob[..10]).is_err());
    }

    #[test]
    fn the_text_form_round_trips_and_bad_text_is_refused_without_echo() {
        let key = LocalKey::generate();
        let again = LocalKey::from_text(&key.to_text(), "the keychain").unwrap();
        let blob = key.seal(&[b"x"], b"value").unwrap();
        assert_eq!(again.open(&[b"x"], &blob).unwrap().as_slice(), b"value");
        for bad in [
            "",
            "ringside-local-key:",
            "ringside-local-key:c2hvcnQ=",
            "hunter2hunter2",
        ] {
            let message = LocalKey::from_text(bad, "the keychain")
                .unwrap_err()
                .to_string();
            assert!(message.contains("the keychain"), "{message}");
            assert!(
                !message.contains("c2hvcnQ") && !message.contains("hunter2"),
                "{message}"
            );
        }
        assert_eq!(format!("{key:?}"), "LocalKey(..)");
    }
}
