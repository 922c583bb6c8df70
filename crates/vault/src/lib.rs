//! `ringside-vault`: how Ringside keeps personal data and credentials sealed at rest.
//!
//! - **Sealing** ([`OrgKeyring::seal`] / [`OrgKeyring::open`]): AES-256-GCM with a fresh random
//!   96-bit nonce per value, and associated data ([`SealContext`]: org, table, column, row) that
//!   binds a ciphertext to its place, so a sealed value copied to another row, column or org
//!   fails to open.
//! - **Envelope encryption**: each org has its own data keys ([`OrgKeyring`], one or more
//!   generations), stored only wrapped ([`WrappedKey`]) by a versioned master key
//!   ([`MasterKey`], [`MasterKeyring`]). Rotating the master key re-wraps the small org keys, not
//!   the data; deleting an org's wrapped keys crypto-shreds everything it sealed.
//! - **Nonce budget** (NIST SP 800-38D §8.3): at most 2^32 random-nonce encryptions per key. Each
//!   data key counts its seals; [`ROTATE_AFTER_SEALS`] asks for a new generation long before,
//!   and [`MAX_SEALS_PER_KEY`] refuses further seals.
//! - **Installation secrets** ([`MasterKey::wrap_secret`], [`MasterKeyring::unwrap_secret`],
//!   [`rewrap_secret`]): 32-byte secrets of the relay as a whole (the audit-log checkpoint signing
//!   seed), wrapped by the master key with the same format and discipline as org data keys, bound
//!   to a purpose name, and re-wrapped by the same rotation.
//! - **Device keys** ([`LocalKey`]): a key of one machine for sealing a local file (the desktop
//!   app's pop cache), kept in that machine's keychain.
//! - **Master-key sources** ([`KeySource`]): the OS keychain, a 0600 key file, or an environment
//!   variable (read-only, for containers). See `docs/keys.md`.
//!
//! Key bytes live in zeroizing buffers and no `Debug` prints them. The crate does no I/O besides
//! the key sources; persisting wrapped keys and seal counts is the store's job.
//!
//! # Master-key rotation, and why it survives a crash at any point
//!
//! The relay's `keys rotate` runs three steps, each durable before the next starts:
//!
//! 1. [`MasterKeyring::rotate_target`]: a new master version is generated and stored in the
//!    [`KeySource`] *beside* the old one (nothing is wrapped under it yet).
//! 2. The store re-wraps every wrapped key and installation secret whose version is not the
//!    target with [`rewrap`] and [`rewrap_secret`], in **one** transaction: afterwards every
//!    wrapped key and secret is under the new version, or none is.
//! 3. [`MasterKeyring::finish_rotation`]: every older version is retired from the source.
//!
//! The invariant is that every wrapped key in the store is always under a version the source
//! holds. A crash after step 1 leaves two versions in the source and nothing re-wrapped; a crash
//! inside step 2 rolls the transaction back; a crash after step 2 leaves an old version nobody
//! uses. In each case running `keys rotate` again completes the job: `rotate_target` sees more
//! than one version in the source, so it *resumes* with the current one instead of creating
//! another ([`RotationPlan::created`] is `false`), step 2 re-wraps whatever is left, and step 3
//! retires what is old. Retiring is idempotent, and for the keychain also sweeps entries that an
//! interrupted retire orphaned. Never retire a version by hand while the store still has keys
//! wrapped under it: those org keys, and all they sealed, would be lost.
//!
//! # Crypto-shredding
//!
//! An org's sealed values can be opened only with its data keys, and those exist only wrapped,
//! in the store. Deleting an org's wrapped-key rows (the store's job, e.g. on org termination)
//! therefore makes everything it sealed unrecoverable, including copies in backups and free
//! pages the purge never reached, as long as those backups do not also hold the wrapped keys
//! *and* the master key. [`OrgKeyring::unwrap`] then answers [`Error::NoDataKey`], and a new key
//! generated for the same org opens none of the old values. Retiring a master-key version
//! shreds, in the same way, the wrapped keys in any old database backup made before a rotation.

mod cipher;
mod error;
mod keytext;
mod local;
mod master;
mod org;
mod seal;
mod secret;
mod source;

pub use error::{Error, Result};
pub use local::LocalKey;
pub use master::{MasterKey, MasterKeyVersion, MasterKeyring, RotationPlan};
pub use org::{
    DataKey, DataKeyGeneration, MAX_SEALS_PER_KEY, NIST_RANDOM_NONCE_LIMIT, OrgKeyring,
    ROTATE_AFTER_SEALS, WrappedKey, rewrap,
};
pub use seal::{SEAL_FORMAT_V1, SEAL_OVERHEAD, SealContext, sealed_generation};
pub use secret::{MAX_PURPOSE_LEN, WrappedSecret, rewrap_secret};
pub use source::{DEFAULT_ENV_VAR, DEFAULT_KEYCHAIN_SERVICE, KeySource};
