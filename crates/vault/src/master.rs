//! Master keys: the top of the hierarchy. A master key never seals data; it only wraps the
//! per-org data keys, so rotating it means re-wrapping a few dozen 32-byte keys in one store
//! transaction instead of re-encrypting every sealed value.
//!
//! Versions let old and new master keys coexist while a rotation is in flight (see the crate
//! documentation for the crash-safe order). The newest version is the *current* one: new
//! wrapped keys are always made under it.

use std::collections::BTreeMap;
use std::fmt;

use ringside_core::OrgId;
use zeroize::Zeroizing;

use crate::cipher::{self, Aad, KEY_LEN, KeyBytes};
use crate::error::{Error, Result};
use crate::org::{DataKeyGeneration, WrappedKey};
use crate::source::KeySource;

/// The version number of a master key: 1 for the first, +1 on each rotation.
///
/// Version 0 is never generated, and key text naming `v0` is refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MasterKeyVersion(pub u32);

impl MasterKeyVersion {
    /// The version a new installation starts with.
    pub const FIRST: Self = Self(1);

    /// The version number.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The version after this one.
    pub fn next(self) -> Result<Self> {
        self.0.checked_add(1).map(Self).ok_or(Error::VersionLimit {
            what: "master-key version",
            max: u32::MAX,
        })
    }
}

impl fmt::Display for MasterKeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl fmt::Debug for MasterKeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One version of the master key: 32 random bytes that wrap org data keys.
///
/// Not `Clone`: there is one copy of each key in memory, wiped on drop. `Debug` prints the
/// version only.
pub struct MasterKey {
    version: MasterKeyVersion,
    key: KeyBytes,
}

/// Domain tag of the associated data of a wrapped key.
pub(crate) const WRAP_DOMAIN: &str = "ringside/vault/wrap";
/// What a wrapped key is for; a future kind of wrapped key gets its own tag.
const PURPOSE_ORG_DATA_KEY: &[u8] = b"org-data-key";
/// First byte of `WrappedKey::bytes`: the layout `[format][nonce 12][ciphertext 32][tag 16]`.
pub(crate) const WRAP_FORMAT_V1: u8 = 1;

impl MasterKey {
    /// A new master key of `version`: 32 bytes from the OS CSPRNG.
    pub fn generate(version: MasterKeyVersion) -> Self {
        Self {
            version,
            key: Zeroizing::new(ringside_core::random_bytes()),
        }
    }

    pub(crate) fn from_bytes(version: MasterKeyVersion, key: KeyBytes) -> Self {
        Self { version, key }
    }

    /// This key's version.
    pub fn version(&self) -> MasterKeyVersion {
        self.version
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.key
    }

    pub(crate) fn key_bytes(&self) -> &KeyBytes {
        &self.key
    }

    fn aad(&self, org: OrgId, generation: DataKeyGeneration) -> Aad {
        let mut aad = Aad::new(WRAP_DOMAIN);
        aad.field(PURPOSE_ORG_DATA_KEY)
            .field(&[WRAP_FORMAT_V1])
            .field(org.as_bytes())
            .field(&generation.get().to_be_bytes())
            .field(&self.version.get().to_be_bytes());
        aad
    }

    /// Wraps a data key: AES-256-GCM under this master key, bound to (org, generation, this
    /// version, purpose), so a wrapped key copied to another org's row does not unwrap.
    pub(crate) fn wrap(
        &self,
        org: OrgId,
        generation: DataKeyGeneration,
        data_key: &KeyBytes,
    ) -> Result<WrappedKey> {
        let mut bytes = vec![WRAP_FORMAT_V1];
        cipher::encrypt_into(
            &self.key,
            self.aad(org, generation).bytes(),
            &data_key[..],
            &mut bytes,
        )
        .map_err(|_| Error::SealFailed)?;
        Ok(WrappedKey::from_parts(org, self.version, generation, bytes))
    }

    /// Unwraps a data key wrapped under this master key.
    pub(crate) fn unwrap(&self, wrapped: &WrappedKey) -> Result<KeyBytes> {
        if wrapped.master_version() != self.version {
            return Err(Error::UnknownMasterVersion(wrapped.master_version()));
        }
        let failed = || Error::UnwrapFailed {
            org: wrapped.org(),
            generation: wrapped.generation(),
            master_version: wrapped.master_version(),
        };
        let (&format, sealed) = wrapped.bytes().split_first().ok_or_else(failed)?;
        if format != WRAP_FORMAT_V1 {
            return Err(Error::UnsupportedFormat {
                what: "a wrapped key",
                format,
            });
        }
        let aad = self.aad(wrapped.org(), wrapped.generation());
        let opened = cipher::decrypt(&self.key, aad.bytes(), sealed).ok_or_else(failed)?;
        let mut key: KeyBytes = Zeroizing::new([0; KEY_LEN]);
        if opened.len() != KEY_LEN {
            return Err(failed());
        }
        key.copy_from_slice(&opened);
        Ok(key)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Every master-key version a key source holds; the highest is current. Never empty.
pub struct MasterKeyring {
    keys: BTreeMap<MasterKeyVersion, MasterKey>,
}

impl MasterKeyring {
    /// A ring holding one key (tests, and a freshly created source).
    pub fn single(key: MasterKey) -> Self {
        Self {
            keys: BTreeMap::from([(key.version(), key)]),
        }
    }

    /// A ring from several keys. `None` if `keys` is empty; a repeated version is refused.
    pub(crate) fn from_keys(keys: Vec<MasterKey>) -> Result<Option<Self>> {
        let mut ring = BTreeMap::new();
        for key in keys {
            let version = key.version();
            if ring.insert(version, key).is_some() {
                return Err(Error::MasterVersionExists(version));
            }
        }
        Ok((!ring.is_empty()).then_some(Self { keys: ring }))
    }

    /// Adds a key; a version the ring already holds is refused.
    pub fn insert(&mut self, key: MasterKey) -> Result<()> {
        let version = key.version();
        if self.keys.contains_key(&version) {
            return Err(Error::MasterVersionExists(version));
        }
        self.keys.insert(version, key);
        Ok(())
    }

    /// The current (highest) version: every new wrap uses it.
    pub fn current(&self) -> &MasterKey {
        // The ring is never empty: every constructor holds at least one key and nothing removes
        // the last one (`finish_rotation` keeps the target).
        #[allow(clippy::expect_used)]
        self.keys
            .values()
            .next_back()
            .expect("a master keyring is never empty")
    }

    /// The key of `version`, if the ring holds it.
    pub fn get(&self, version: MasterKeyVersion) -> Option<&MasterKey> {
        self.keys.get(&version)
    }

    /// All versions held, oldest first.
    pub fn versions(&self) -> Vec<MasterKeyVersion> {
        self.keys.keys().copied().collect()
    }

    /// Step 1 of a master-key rotation: makes sure a version newer than the one the org keys
    /// were last wrapped under exists in `source`, and returns the plan.
    ///
    /// Call it on a ring freshly loaded from `source`. If the ring holds more than one version,
    /// an earlier rotation was interrupted (a finished rotation retires every older version), so
    /// it is resumed: the target is the current version and nothing new is created. Otherwise a
    /// new version (current + 1) is generated, stored in `source` and added to this ring. A
    /// read-only source (`env:`) answers [`Error::KeySourceReadOnly`] explaining how the operator
    /// adds the new key.
    pub fn rotate_target(&mut self, source: &KeySource) -> Result<RotationPlan> {
        let current = self.current().version();
        if self.keys.len() > 1 {
            return Ok(RotationPlan {
                target: current,
                created: false,
                retire: self.keys.keys().copied().filter(|v| *v < current).collect(),
            });
        }
        let key = MasterKey::generate(current.next()?);
        let target = key.version();
        source.store_version(&key)?;
        self.insert(key)?;
        Ok(RotationPlan {
            target,
            created: true,
            retire: vec![current],
        })
    }

    /// Step 3 of a master-key rotation, after every wrapped key was re-wrapped under
    /// `plan.target` and that store transaction committed: retires every version older than the
    /// target from `source` (also any left behind by an interrupted earlier attempt) and drops
    /// them from this ring. Safe to repeat.
    pub fn finish_rotation(
        &mut self,
        source: &KeySource,
        plan: &RotationPlan,
    ) -> Result<Vec<MasterKeyVersion>> {
        if !self.keys.contains_key(&plan.target) {
            return Err(Error::UnknownMasterVersion(plan.target));
        }
        let retired = source.retire_versions_before(plan.target)?;
        self.keys.retain(|version, _| *version >= plan.target);
        Ok(retired)
    }
}

impl fmt::Debug for MasterKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKeyring")
            .field("versions", &self.versions())
            .field("current", &self.current().version())
            .finish()
    }
}

/// What [`MasterKeyring::rotate_target`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RotationPlan {
    /// Re-wrap every wrapped key whose `master_version()` differs from this one to this one.
    pub target: MasterKeyVersion,
    /// `true` if a new master-key version was created now; `false` if an interrupted rotation
    /// is being resumed (run `keys rotate` again afterwards for a fresh key).
    pub created: bool,
    /// Versions the ring held below the target: they are retired by `finish_rotation`.
    pub retire: Vec<MasterKeyVersion>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_master_key_bytes() {
        let ring = MasterKeyring::single(MasterKey::generate(MasterKeyVersion(3)));
        let key = ring.current();
        let decimal = key
            .bytes()
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let hex: String = key.bytes().iter().map(|b| format!("{b:02x}")).collect();
        let base64 = crate::keytext::encode_key(key);
        for printed in [
            format!("{key:?}"),
            format!("{ring:?}"),
            format!("{ring:#?}"),
        ] {
            for rendering in [&decimal, &hex, &*base64] {
                assert!(
                    !printed.contains(rendering.as_str()),
                    "key bytes leaked into {printed}"
                );
            }
        }
        assert_eq!(
            format!("{key:?}"),
            "MasterKey { version: v3, .. }",
            "version only"
        );
    }
}
