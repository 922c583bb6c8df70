//! Per-org data keys: the keys that actually seal personal data.
//!
//! Each org has its own data key so that deleting that org's wrapped keys crypto-shreds exactly
//! that org's data, and so no key seals more than one org's share of the traffic. A data key is
//! only ever stored wrapped by the master key ([`WrappedKey`], persisted by `ringside-store`).
//!
//! An org's keyring holds one or more *generations*. The newest seals; all of them open. A new
//! generation is added when the newest has sealed [`ROTATE_AFTER_SEALS`] values, long before
//! the NIST SP 800-38D limit for random 96-bit nonces; old generations stay until the data they
//! sealed has been purged (at most the 30-day hard cap), then the store may delete them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use ringside_core::OrgId;
use zeroize::Zeroizing;

use crate::cipher::KeyBytes;
use crate::error::{Error, Result};
use crate::master::{MasterKey, MasterKeyVersion, MasterKeyring};

/// NIST SP 800-38D §8.3: with random 96-bit nonces, one key may perform at most 2^32
/// encryptions, which keeps the chance of any nonce repeating below 2^-32. Repeating a nonce
/// under AES-GCM reveals the XOR of two plaintexts and lets an attacker forge tags, so this is a
/// hard ceiling, not a guideline. Our own limits below stay far beneath it.
pub const NIST_RANDOM_NONCE_LIMIT: u64 = 1 << 32;

/// After 2^28 seals (1/16 of the NIST limit) a data key reports
/// [`DataKey::needs_rotation`]: the caller should add a new generation. At that point the chance
/// of a nonce collision so far is about 2^56 / 2^97 = 2^-41.
pub const ROTATE_AFTER_SEALS: u64 = 1 << 28;

/// A data key refuses to seal more than 2^30 values (1/4 of the NIST limit) with
/// [`Error::DataKeyExhausted`]. The margin to 2^32 absorbs seals whose count was lost because
/// the process stopped before the store persisted the counter.
pub const MAX_SEALS_PER_KEY: u64 = 1 << 30;

/// The generation of an org's data key: 1 for the first, +1 for each new one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataKeyGeneration(pub u32);

impl DataKeyGeneration {
    /// The generation of a new org's first data key.
    pub const FIRST: Self = Self(1);

    /// The generation number.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The generation after this one.
    pub fn next(self) -> Result<Self> {
        self.0.checked_add(1).map(Self).ok_or(Error::VersionLimit {
            what: "data-key generation",
            max: u32::MAX,
        })
    }
}

impl fmt::Display for DataKeyGeneration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "g{}", self.0)
    }
}

impl fmt::Debug for DataKeyGeneration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An org data key wrapped (encrypted) under one master-key version: what the store persists.
///
/// Not secret by itself — without the master key these bytes reveal nothing — so it is `Clone`
/// and its `Debug` shows the versions and the length.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    org: OrgId,
    master_version: MasterKeyVersion,
    generation: DataKeyGeneration,
    bytes: Vec<u8>,
}

impl WrappedKey {
    /// Rebuilds a wrapped key from a stored row. Nothing is checked here: bytes that are not a
    /// genuine wrapped key for these parts fail to unwrap.
    pub fn from_parts(
        org: OrgId,
        master_version: MasterKeyVersion,
        generation: DataKeyGeneration,
        bytes: Vec<u8>,
    ) -> Self {
        Self {
            org,
            master_version,
            generation,
            bytes,
        }
    }

    /// The org whose data key this is.
    pub fn org(&self) -> OrgId {
        self.org
    }

    /// The master-key version it is wrapped under.
    pub fn master_version(&self) -> MasterKeyVersion {
        self.master_version
    }

    /// The data-key generation.
    pub fn generation(&self) -> DataKeyGeneration {
        self.generation
    }

    /// The wrapped bytes: `[format 0x01][nonce 12][encrypted key 32][tag 16]`, 61 bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The parts, for a store row.
    pub fn into_parts(self) -> (OrgId, MasterKeyVersion, DataKeyGeneration, Vec<u8>) {
        (self.org, self.master_version, self.generation, self.bytes)
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("org", &self.org)
            .field("master_version", &self.master_version)
            .field("generation", &self.generation)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Unwraps `wrapped` with the ring and wraps it again under `to`: one step of a master-key
/// rotation. The data key itself is unchanged, so everything it sealed still opens.
pub fn rewrap(wrapped: &WrappedKey, ring: &MasterKeyring, to: &MasterKey) -> Result<WrappedKey> {
    let from = ring
        .get(wrapped.master_version())
        .ok_or(Error::UnknownMasterVersion(wrapped.master_version()))?;
    let key = from.unwrap(wrapped)?;
    to.wrap(wrapped.org(), wrapped.generation(), &key)
}

/// One generation of an org's data key, with the count of values it has sealed.
///
/// Not `Clone` (the counter must not fork). `Debug` prints generation and count only.
pub struct DataKey {
    generation: DataKeyGeneration,
    key: KeyBytes,
    seals: AtomicU64,
}

impl DataKey {
    fn new(generation: DataKeyGeneration, key: KeyBytes, seals: u64) -> Self {
        Self {
            generation,
            key,
            seals: AtomicU64::new(seals),
        }
    }

    /// This key's generation.
    pub fn generation(&self) -> DataKeyGeneration {
        self.generation
    }

    /// How many values this key has sealed, including the count it was loaded with. The store
    /// persists it (see [`OrgKeyring::seal_counts`]).
    pub fn seal_count(&self) -> u64 {
        self.seals.load(Ordering::SeqCst)
    }

    /// `true` once the key has sealed [`ROTATE_AFTER_SEALS`] values: add a new generation.
    pub fn needs_rotation(&self) -> bool {
        self.seal_count() >= ROTATE_AFTER_SEALS
    }

    /// `true` once the key has sealed [`MAX_SEALS_PER_KEY`] values and refuses to seal more.
    pub fn is_exhausted(&self) -> bool {
        self.seal_count() >= MAX_SEALS_PER_KEY
    }

    pub(crate) fn key(&self) -> &KeyBytes {
        &self.key
    }

    /// Counts one seal, or refuses if the key is exhausted. Counting happens before the
    /// encryption, so concurrent sealers can never together exceed the limit.
    pub(crate) fn reserve_seal(&self) -> Result<()> {
        self.seals
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_SEALS_PER_KEY).then_some(n + 1)
            })
            .map(drop)
            .map_err(|seals| Error::DataKeyExhausted {
                generation: self.generation,
                seals,
            })
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("generation", &self.generation)
            .field("seals", &self.seal_count())
            .finish_non_exhaustive()
    }
}

/// All data-key generations of one org, unwrapped and ready to seal and open.
///
/// `seal` and `open` take `&self` (the seal counters are atomic), so one keyring can be shared
/// behind an `Arc`. `Debug` prints the org and the generations with their counts.
pub struct OrgKeyring {
    org: OrgId,
    keys: BTreeMap<DataKeyGeneration, DataKey>,
}

impl OrgKeyring {
    /// A new org's first data key (generation 1), and that key wrapped under the ring's current
    /// master key for the store to persist (with seal count 0).
    pub fn generate(org: OrgId, masters: &MasterKeyring) -> Result<(Self, WrappedKey)> {
        let key: KeyBytes = Zeroizing::new(ringside_core::random_bytes());
        let wrapped = masters
            .current()
            .wrap(org, DataKeyGeneration::FIRST, &key)?;
        let keys = BTreeMap::from([(
            DataKeyGeneration::FIRST,
            DataKey::new(DataKeyGeneration::FIRST, key, 0),
        )]);
        Ok((Self { org, keys }, wrapped))
    }

    /// Rebuilds an org's keyring from its stored wrapped keys, each with its persisted seal
    /// count. No wrapped keys at all is [`Error::NoDataKey`] (never created, or crypto-shredded).
    pub fn unwrap<'a>(
        org: OrgId,
        masters: &MasterKeyring,
        stored: impl IntoIterator<Item = (&'a WrappedKey, u64)>,
    ) -> Result<Self> {
        let mut keys = BTreeMap::new();
        for (wrapped, seals) in stored {
            if wrapped.org() != org {
                return Err(Error::OrgMismatch {
                    keyring: org,
                    value: wrapped.org(),
                });
            }
            let master = masters
                .get(wrapped.master_version())
                .ok_or(Error::UnknownMasterVersion(wrapped.master_version()))?;
            let generation = wrapped.generation();
            let key = DataKey::new(generation, master.unwrap(wrapped)?, seals);
            if keys.insert(generation, key).is_some() {
                return Err(Error::DuplicateKeyGeneration(generation));
            }
        }
        if keys.is_empty() {
            return Err(Error::NoDataKey(org));
        }
        Ok(Self { org, keys })
    }

    /// Adds generation newest + 1, which seals from now on; returns it wrapped under the ring's
    /// current master key for the store to persist (with seal count 0). Older generations keep
    /// opening what they sealed.
    pub fn add_generation(&mut self, masters: &MasterKeyring) -> Result<WrappedKey> {
        let generation = self.newest().generation().next()?;
        let key: KeyBytes = Zeroizing::new(ringside_core::random_bytes());
        let wrapped = masters.current().wrap(self.org, generation, &key)?;
        self.keys
            .insert(generation, DataKey::new(generation, key, 0));
        Ok(wrapped)
    }

    /// The org these keys belong to.
    pub fn org(&self) -> OrgId {
        self.org
    }

    /// The newest generation: the one that seals.
    pub fn newest(&self) -> &DataKey {
        // Never empty: `generate` and `unwrap` (which refuses an empty list) hold at least one
        // key, and nothing removes keys.
        #[allow(clippy::expect_used)]
        self.keys
            .values()
            .next_back()
            .expect("an org keyring is never empty")
    }

    /// The key of one generation, if held.
    pub fn get(&self, generation: DataKeyGeneration) -> Option<&DataKey> {
        self.keys.get(&generation)
    }

    /// `true` when the newest generation has sealed [`ROTATE_AFTER_SEALS`] values: call
    /// [`OrgKeyring::add_generation`] and persist the result.
    pub fn needs_rotation(&self) -> bool {
        self.newest().needs_rotation()
    }

    /// Every generation with its current seal count, oldest first, for the store to persist.
    pub fn seal_counts(&self) -> Vec<(DataKeyGeneration, u64)> {
        self.keys
            .values()
            .map(|k| (k.generation(), k.seal_count()))
            .collect()
    }

    pub(crate) fn check_org(&self, org: OrgId) -> Result<()> {
        if org == self.org {
            Ok(())
        } else {
            Err(Error::OrgMismatch {
                keyring: self.org,
                value: org,
            })
        }
    }
}

impl fmt::Debug for OrgKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrgKeyring")
            .field("org", &self.org)
            .field("generations", &self.keys.values().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way the bytes could appear in text: decimal list, hex, upper hex.
    fn renderings(bytes: &[u8]) -> Vec<String> {
        let decimal = bytes
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        vec![decimal, hex.clone(), hex.to_uppercase()]
    }

    #[test]
    fn debug_never_prints_data_key_bytes() {
        let masters = MasterKeyring::single(MasterKey::generate(MasterKeyVersion::FIRST));
        let (keys, _) = OrgKeyring::generate(OrgId::random(), &masters).unwrap();
        let key = keys.newest();
        for printed in [
            format!("{key:?}"),
            format!("{keys:?}"),
            format!("{keys:#?}"),
        ] {
            for rendering in renderings(&key.key()[..]) {
                assert!(
                    !printed.contains(&rendering),
                    "key bytes leaked into {printed}"
                );
            }
            assert!(
                !printed.contains(&format!("{:?}", &key.key()[..4])),
                "no byte prefix either"
            );
        }
    }
}
