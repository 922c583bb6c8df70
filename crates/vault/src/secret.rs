//! Installation secrets: 32-byte secrets that belong to the relay as a whole rather than to one
//! org — today the Ed25519 seed that signs audit-log checkpoints — stored only wrapped by the
//! master key, exactly like org data keys.
//!
//! Why wrapped by the master key rather than kept in a file of their own: the master key is the
//! one secret an operator already backs up, stores in a keychain and rotates. A secret wrapped by
//! it needs no second backup procedure, moves to a new master version with `keys rotate`
//! ([`rewrap_secret`]), and a copy of the database alone never reveals it. For the audit log this
//! is what makes a checkpoint signature mean something: whoever can write the database file but
//! does not hold the master key cannot sign a checkpoint over entries they rewrote.
//!
//! The format and discipline are those of [`crate::WrappedKey`]: AES-256-GCM with a fresh random
//! nonce under one master-key version, associated data binding the *purpose* (so a wrapped secret
//! stored under one purpose does not unwrap as another) and the master version.

use std::fmt;

use zeroize::Zeroizing;

use crate::cipher::{self, Aad, KEY_LEN, KeyBytes};
use crate::error::{Error, Result};
use crate::master::{MasterKey, MasterKeyVersion, MasterKeyring, WRAP_DOMAIN, WRAP_FORMAT_V1};

/// What a wrapped secret is for, as a second AAD field: never equal to the org-data-key tag, so
/// an org key's AAD and a secret's AAD can never coincide.
const KIND_INSTALLATION_SECRET: &[u8] = b"installation-secret";

/// The longest purpose name accepted.
pub const MAX_PURPOSE_LEN: usize = 64;

/// A 32-byte installation secret wrapped under one master-key version: what the store persists.
///
/// Not secret by itself (without the master key the bytes reveal nothing), so it is `Clone`;
/// `Debug` shows the purpose, the version and the length only.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedSecret {
    purpose: String,
    master_version: MasterKeyVersion,
    bytes: Vec<u8>,
}

impl WrappedSecret {
    /// Rebuilds a wrapped secret from a stored row. Nothing is checked here: bytes that are not
    /// a genuine wrapped secret for this purpose and version fail to unwrap.
    pub fn from_parts(purpose: String, master_version: MasterKeyVersion, bytes: Vec<u8>) -> Self {
        Self {
            purpose,
            master_version,
            bytes,
        }
    }

    /// What the secret is for, e.g. `audit-checkpoint-ed25519`.
    pub fn purpose(&self) -> &str {
        &self.purpose
    }

    /// The master-key version it is wrapped under.
    pub fn master_version(&self) -> MasterKeyVersion {
        self.master_version
    }

    /// The wrapped bytes: `[format 0x01][nonce 12][encrypted secret 32][tag 16]`, 61 bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The parts, for a store row.
    pub fn into_parts(self) -> (String, MasterKeyVersion, Vec<u8>) {
        (self.purpose, self.master_version, self.bytes)
    }
}

impl fmt::Debug for WrappedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedSecret")
            .field("purpose", &self.purpose)
            .field("master_version", &self.master_version)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// A purpose is a short ASCII name (`a-z`, `0-9`, `-`, `.`), so it can be a primary key, appear
/// in an error message, and never carry anything but a name chosen in code.
fn check_purpose(purpose: &str) -> Result<()> {
    let ok = !purpose.is_empty()
        && purpose.len() <= MAX_PURPOSE_LEN
        && purpose
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidSecretPurpose {
            reason: "a purpose is 1 to 64 characters of a-z, 0-9, `-` and `.`",
        })
    }
}

fn aad(purpose: &str, version: MasterKeyVersion) -> Aad {
    let mut aad = Aad::new(WRAP_DOMAIN);
    aad.field(KIND_INSTALLATION_SECRET)
        .field(&[WRAP_FORMAT_V1])
        .field(purpose.as_bytes())
        .field(&version.get().to_be_bytes());
    aad
}

impl MasterKey {
    /// Wraps a 32-byte installation secret under this master key, bound to `purpose` and this
    /// key's version.
    pub fn wrap_secret(&self, purpose: &str, secret: &[u8; KEY_LEN]) -> Result<WrappedSecret> {
        check_purpose(purpose)?;
        let mut bytes = vec![WRAP_FORMAT_V1];
        cipher::encrypt_into(
            self.key_bytes(),
            aad(purpose, self.version()).bytes(),
            secret,
            &mut bytes,
        )
        .map_err(|_| Error::SealFailed)?;
        Ok(WrappedSecret {
            purpose: purpose.to_owned(),
            master_version: self.version(),
            bytes,
        })
    }

    fn unwrap_secret(&self, wrapped: &WrappedSecret) -> Result<KeyBytes> {
        check_purpose(wrapped.purpose())?;
        let failed = || Error::SecretUnwrapFailed {
            purpose: wrapped.purpose().to_owned(),
            master_version: wrapped.master_version(),
        };
        let (&format, sealed) = wrapped.bytes().split_first().ok_or_else(failed)?;
        if format != WRAP_FORMAT_V1 {
            return Err(Error::UnsupportedFormat {
                what: "a wrapped secret",
                format,
            });
        }
        let aad = aad(wrapped.purpose(), self.version());
        let opened = cipher::decrypt(self.key_bytes(), aad.bytes(), sealed).ok_or_else(failed)?;
        if opened.len() != KEY_LEN {
            return Err(failed());
        }
        let mut secret: KeyBytes = Zeroizing::new([0; KEY_LEN]);
        secret.copy_from_slice(&opened);
        Ok(secret)
    }
}

impl MasterKeyring {
    /// Unwraps an installation secret with the master-key version it names.
    pub fn unwrap_secret(&self, wrapped: &WrappedSecret) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        self.get(wrapped.master_version())
            .ok_or(Error::UnknownMasterVersion(wrapped.master_version()))?
            .unwrap_secret(wrapped)
    }
}

/// Unwraps `wrapped` with the ring and wraps it again under `to`: the installation-secret step of
/// a master-key rotation. The secret itself is unchanged.
pub fn rewrap_secret(
    wrapped: &WrappedSecret,
    ring: &MasterKeyring,
    to: &MasterKey,
) -> Result<WrappedSecret> {
    let secret = ring.unwrap_secret(wrapped)?;
    to.wrap_secret(wrapped.purpose(), &secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_short_lowercase_names() {
        for good in ["audit-checkpoint-ed25519", "a", "x.y-2"] {
            assert!(check_purpose(good).is_ok(), "{good:?} is a valid purpose");
        }
        let long = "a".repeat(MAX_PURPOSE_LEN + 1);
        for bad in ["", "Upper", "with space", "e@mail", long.as_str()] {
            assert!(check_purpose(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
