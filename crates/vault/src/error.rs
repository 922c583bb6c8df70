//! The one error type of `ringside-vault`.
//!
//! Every variant is something a caller can act on (refuse a row, stop at start-up with an
//! operator message, add a data-key generation, ...). No message ever contains key material or
//! plaintext: values are described by where they came from (a path, a line number, a version),
//! never by what they contained. Authentication failures are deliberately coarse: a sealed value
//! that does not open is [`Error::OpenFailed`] whether the ciphertext, the tag, the nonce or the
//! context was wrong, so an error message is never an oracle for which part an attacker got right.

use std::path::PathBuf;

use ringside_core::OrgId;

use crate::{DataKeyGeneration, MasterKeyVersion};

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a vault operation was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A sealed value failed to authenticate: altered, truncated, moved to another org, table,
    /// column or row, or sealed under a different data key. Which part failed is never said.
    #[error(
        "a sealed value could not be opened: it was altered, moved to another place, or sealed \
         under a different key"
    )]
    OpenFailed,

    /// A wrapped data key failed to authenticate under the master key its header names: the
    /// master key is not the one it was wrapped with, or the wrapped bytes were altered.
    #[error(
        "the data key of {org} generation {generation} could not be unwrapped with master key \
         {master_version}: that master key is not the one it was wrapped with, or the wrapped key \
         was altered"
    )]
    UnwrapFailed {
        /// The org the wrapped key belongs to.
        org: OrgId,
        /// The data-key generation.
        generation: DataKeyGeneration,
        /// The master-key version the wrapped key names.
        master_version: MasterKeyVersion,
    },

    /// A wrapped installation secret failed to authenticate under the master key its header
    /// names: another master key, another purpose, or altered bytes.
    #[error(
        "the installation secret `{purpose}` could not be unwrapped with master key \
         {master_version}: that master key is not the one it was wrapped with, or the wrapped \
         secret was altered"
    )]
    SecretUnwrapFailed {
        /// What the secret is for (a name chosen in code, never the secret).
        purpose: String,
        /// The master-key version the wrapped secret names.
        master_version: MasterKeyVersion,
    },

    /// An installation-secret purpose name is not a short lowercase name.
    #[error("invalid installation-secret purpose: {reason}")]
    InvalidSecretPurpose {
        /// What is wrong with it (the name is not repeated).
        reason: &'static str,
    },

    /// A sealed value or wrapped key starts with a format byte this build does not know, e.g. it
    /// was written by a newer Ringside.
    #[error("{what} has format {format}, which this version of Ringside does not understand")]
    UnsupportedFormat {
        /// "a sealed value" or "a wrapped key".
        what: &'static str,
        /// The format byte found.
        format: u8,
    },

    /// A wrapped key names a master-key version that the loaded key source does not hold.
    #[error(
        "master key {0} is not in the configured key source (retired, or the wrong source is \
         configured)"
    )]
    UnknownMasterVersion(MasterKeyVersion),

    /// A sealed value names a data-key generation the org's keyring does not hold.
    #[error("data-key generation {0} is not in this org's keyring (deleted or never created)")]
    UnknownKeyGeneration(DataKeyGeneration),

    /// The same data-key generation was given twice when rebuilding an org keyring.
    #[error("data-key generation {0} was given twice")]
    DuplicateKeyGeneration(DataKeyGeneration),

    /// The newest data key has reached [`crate::MAX_SEALS_PER_KEY`]; add a generation with
    /// [`crate::OrgKeyring::add_generation`] before sealing more.
    #[error(
        "data-key generation {generation} has sealed {seals} values, the most one key may seal \
         with random nonces: add a new data-key generation"
    )]
    DataKeyExhausted {
        /// The exhausted generation.
        generation: DataKeyGeneration,
        /// Its seal count.
        seals: u64,
    },

    /// A seal context or wrapped key belongs to a different org than the keyring used: a caller
    /// bug that would tie one org's data to another org's key.
    #[error("org mismatch: the keyring belongs to {keyring} but the value belongs to {value}")]
    OrgMismatch {
        /// The keyring's org.
        keyring: OrgId,
        /// The org named by the context or wrapped key.
        value: OrgId,
    },

    /// No wrapped data key exists for the org: never created, or deleted (crypto-shredded).
    #[error("{0} has no data key (never created, or deleted: its sealed data is unrecoverable)")]
    NoDataKey(OrgId),

    /// The key source holds no master key.
    #[error("no master key in {origin}: {hint}")]
    NoMasterKey {
        /// The key source, in its config syntax.
        origin: String,
        /// What the operator can do.
        hint: String,
    },

    /// `store_version` was asked to store a version the source already holds; overwriting it
    /// would make everything wrapped under it unrecoverable.
    #[error("master key {0} already exists in the key source; it is never overwritten")]
    MasterVersionExists(MasterKeyVersion),

    /// Retiring this version would leave the key source with no master key at all.
    #[error("master key {0} is the only one left in the key source and cannot be retired")]
    LastMasterVersion(MasterKeyVersion),

    /// Versions and generations are u32 counters; this one has no successor.
    #[error("{what} cannot be incremented past {max}")]
    VersionLimit {
        /// "master-key version" or "data-key generation".
        what: &'static str,
        /// The largest value.
        max: u32,
    },

    /// Master-key text (a key file line, an environment entry, a keychain value) is malformed.
    /// `location` says where; the text itself is never repeated.
    #[error("malformed master key at {location}: {reason}")]
    MalformedKey {
        /// e.g. "line 3 of /etc/ringside/master.keys" or "entry 2 of $RINGSIDE_MASTER_KEY".
        location: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The key file can be read by group or others.
    #[error(
        "master-key file {} has mode {mode:04o}: it must be readable by its owner only (0600 or \
         stricter); fix it with `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits (`mode & 0o7777`).
        mode: u32,
    },

    /// The key file (or its directory) could not be read or written.
    #[error("master-key file {}: {source}", path.display())]
    KeyFileIo {
        /// The file or directory involved.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// The key source cannot be written (the environment): the operator has to make the change.
    #[error("{origin} is read-only: {hint}")]
    KeySourceReadOnly {
        /// The key source, in its config syntax.
        origin: String,
        /// How the operator makes the change instead.
        hint: String,
    },

    /// The OS keychain failed or is unreachable.
    #[error("OS keychain (service `{service}`): {reason}")]
    Keychain {
        /// The keychain service name.
        service: String,
        /// What failed (never the stored value).
        reason: String,
    },

    /// A master-key source string from the configuration could not be parsed.
    #[error("invalid master-key source: {reason}")]
    InvalidKeySource {
        /// What is wrong (the configured string itself is not repeated: it might be a key).
        reason: String,
    },

    /// AES-GCM refused to seal (only possible for a plaintext over 64 GiB).
    #[error("the value could not be sealed: larger than AES-GCM allows in one message")]
    SealFailed,
}
