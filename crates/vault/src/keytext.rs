//! The text form of a master key, shared by the key file and the environment variable:
//!
//! ```text
//! ringside-master-key:v{N}:{base64 of 32 bytes}
//! ```
//!
//! Self-describing (the prefix says what it is, so a stray line in a secrets store is
//! recognisable), versioned in the text so one file or variable can carry several versions
//! during a rotation, and standard base64 (with `=` padding) so
//! `head -c 32 /dev/urandom | base64` produces one. Parsing never echoes the text: errors name
//! the location (line, entry) and the problem only.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::cipher::{KEY_LEN, KeyBytes};
use crate::error::{Error, Result};
use crate::master::{MasterKey, MasterKeyVersion};

/// The first field of every key entry.
pub(crate) const ENTRY_PREFIX: &str = "ringside-master-key";

/// Parses one entry `ringside-master-key:v{N}:{base64}`; `location` names it in errors.
pub(crate) fn parse_entry(entry: &str, location: &dyn Fn() -> String) -> Result<MasterKey> {
    let malformed = |reason: &str| Error::MalformedKey {
        location: location(),
        reason: reason.to_owned(),
    };
    let mut fields = entry.splitn(3, ':');
    let (Some(prefix), Some(version), Some(encoded)) =
        (fields.next(), fields.next(), fields.next())
    else {
        return Err(malformed(
            "expected `ringside-master-key:v{N}:{base64 of 32 bytes}` (3 fields separated by `:`)",
        ));
    };
    if prefix != ENTRY_PREFIX {
        return Err(malformed("an entry must start with `ringside-master-key:`"));
    }
    let version = parse_version(version)
        .ok_or_else(|| malformed("the version must be `v` and a number from 1 (e.g. `v1`)"))?;
    let key = decode_key(encoded).ok_or_else(|| {
        malformed("the key must be standard base64 (with `=` padding) of exactly 32 bytes")
    })?;
    Ok(MasterKey::from_bytes(version, key))
}

/// `v{N}` with N a decimal u32 ≥ 1 without leading zeros.
pub(crate) fn parse_version(text: &str) -> Option<MasterKeyVersion> {
    let digits = text.strip_prefix('v')?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(MasterKeyVersion)
}

/// Standard base64 of exactly [`KEY_LEN`] bytes, decoded into a zeroizing buffer.
pub(crate) fn decode_key(encoded: &str) -> Option<KeyBytes> {
    // Room for a few bytes too many, so an over-long value is reported as a wrong length rather
    // than overflowing; the scratch buffer is wiped like the key.
    let mut scratch = Zeroizing::new([0u8; KEY_LEN + 16]);
    let len = STANDARD
        .decode_slice(encoded.as_bytes(), scratch.as_mut_slice())
        .ok()?;
    if len != KEY_LEN {
        return None;
    }
    let mut key: KeyBytes = Zeroizing::new([0; KEY_LEN]);
    key.copy_from_slice(scratch.get(..KEY_LEN)?);
    Some(key)
}

/// The base64 text of a key's bytes (the keychain stores exactly this).
pub(crate) fn encode_key(key: &MasterKey) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::with_capacity(64));
    STANDARD.encode_string(key.bytes(), &mut text);
    text
}

/// The full entry `ringside-master-key:v{N}:{base64}` (no newline).
pub(crate) fn render_entry(key: &MasterKey) -> Zeroizing<String> {
    let mut entry = Zeroizing::new(String::with_capacity(96));
    entry.push_str(ENTRY_PREFIX);
    entry.push_str(":v");
    entry.push_str(&key.version().get().to_string());
    entry.push(':');
    entry.push_str(&encode_key(key));
    entry
}

/// Refuses a version that appears twice; `location(i)` names the `i`-th entry.
pub(crate) fn check_unique(
    versions: &[MasterKeyVersion],
    location: &dyn Fn(usize) -> String,
) -> Result<()> {
    for (i, version) in versions.iter().enumerate() {
        if versions
            .get(..i)
            .is_some_and(|earlier| earlier.contains(version))
        {
            return Err(Error::MalformedKey {
                location: location(i),
                reason: format!("master key {version} appears more than once"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="; // 32 × 'A'

    fn parse(entry: &str) -> Result<MasterKey> {
        parse_entry(entry, &|| "test entry".to_owned())
    }

    #[test]
    fn an_entry_round_trips_through_its_text_form() {
        let key = MasterKey::generate(MasterKeyVersion(7));
        let parsed = parse(&render_entry(&key)).unwrap();
        assert_eq!(
            parsed.version(),
            MasterKeyVersion(7),
            "the version must survive"
        );
        assert_eq!(parsed.bytes(), key.bytes(), "the key bytes must survive");
    }

    #[test]
    fn malformed_entries_are_refused_without_echoing_them() {
        for (entry, expect) in [
            ("", "3 fields"),
            ("ringside-master-key:v1", "3 fields"),
            (&format!("other-key:v1:{SECRET}") as &str, "must start with"),
            (&format!("ringside-master-key:1:{SECRET}"), "version"),
            (&format!("ringside-master-key:v0:{SECRET}"), "version"),
            (&format!("ringside-master-key:v01:{SECRET}"), "version"),
            (&format!("ringside-master-key:v-1:{SECRET}"), "version"),
            (
                &format!("ringside-master-key:v99999999999:{SECRET}"),
                "version",
            ),
            ("ringside-master-key:v1:QUFB", "32 bytes"),
            ("ringside-master-key:v1:not base64!", "32 bytes"),
            (&format!("ringside-master-key:v1:{SECRET}QUFB"), "32 bytes"),
            (
                &format!("ringside-master-key:v1:{SECRET}:extra"),
                "32 bytes",
            ),
        ] {
            let err = parse(entry).expect_err(entry).to_string();
            assert!(
                err.contains(expect),
                "error for {entry:?} should say {expect:?}: {err}"
            );
            assert!(
                err.contains("test entry"),
                "error must name the location: {err}"
            );
            assert!(!err.contains("QUFB"), "error must not echo key text: {err}");
        }
    }
}
