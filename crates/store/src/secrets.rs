//! Installation secrets: 32-byte secrets of the relay as a whole (the audit-log checkpoint
//! signing seed, a blind-index key, ...), persisted only wrapped by the master key
//! (`ringside_vault::WrappedSecret`), one row per purpose in `system_secrets`.
//!
//! Why here and not in a file of their own: the master key already has a backup and rotation
//! story, and `keys rotate` re-wraps these rows in the same transaction as the org keys
//! ([`OrgStore::rewrap_all`]), so nothing can be left under a retired master version.

use ringside_vault::{MasterKeyVersion, MasterKeyring, WrappedSecret};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use zeroize::Zeroizing;

use crate::{Error, Store};

/// A 32-byte secret in a buffer that is wiped when dropped.
pub type SecretBytes = Zeroizing<[u8; 32]>;

/// Installation secrets, wrapped by the master key.
pub trait SecretStore {
    /// The installation secret for `purpose`, created (32 random bytes, wrapped under the current
    /// master key) on first use. Two callers racing to create it get the same secret: the row is
    /// written in an immediate transaction that re-reads before inserting.
    fn system_secret(&self, purpose: &str, masters: &MasterKeyring) -> Result<SecretBytes, Error>;
}

impl SecretStore for Store {
    fn system_secret(&self, purpose: &str, masters: &MasterKeyring) -> Result<SecretBytes, Error> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let secret = load_or_create(&tx, purpose, masters, self.now())?;
        tx.commit()?;
        Ok(secret)
    }
}

/// The wrapped secret for `purpose`, if one was ever created.
pub(crate) fn load(conn: &Connection, purpose: &str) -> Result<Option<WrappedSecret>, Error> {
    Ok(conn
        .query_row(
            "SELECT master_version, wrapped FROM system_secrets WHERE purpose = ?1",
            [purpose],
            |r| {
                Ok(WrappedSecret::from_parts(
                    purpose.to_owned(),
                    MasterKeyVersion(r.get(0)?),
                    r.get(1)?,
                ))
            },
        )
        .optional()?)
}

/// Unwraps the secret for `purpose`, creating it first if it does not exist. Call inside a
/// transaction (immediate, when creation is possible) so a concurrent creator cannot interleave.
pub(crate) fn load_or_create(
    conn: &Connection,
    purpose: &str,
    masters: &MasterKeyring,
    now_unix: i64,
) -> Result<SecretBytes, Error> {
    if let Some(wrapped) = load(conn, purpose)? {
        return Ok(masters.unwrap_secret(&wrapped)?);
    }
    let secret: SecretBytes = Zeroizing::new(ringside_core::random_bytes());
    let wrapped = masters.current().wrap_secret(purpose, &secret)?;
    conn.execute(
        "INSERT INTO system_secrets (purpose, master_version, wrapped, created_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            wrapped.purpose(),
            wrapped.master_version().get(),
            wrapped.bytes(),
            now_unix
        ],
    )?;
    Ok(secret)
}

/// Re-wraps every installation secret not yet under `to` (one step of `OrgStore::rewrap_all`, in
/// its transaction). Returns how many were re-wrapped.
pub(crate) fn rewrap_all(
    conn: &Connection,
    masters: &MasterKeyring,
    to: &ringside_vault::MasterKey,
) -> Result<usize, Error> {
    let stale: Vec<WrappedSecret> = {
        let mut stmt = conn.prepare(
            "SELECT purpose, master_version, wrapped FROM system_secrets WHERE master_version != ?1",
        )?;
        let rows = stmt.query_map([to.version().get()], |r| {
            Ok(WrappedSecret::from_parts(
                r.get(0)?,
                MasterKeyVersion(r.get(1)?),
                r.get(2)?,
            ))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    for wrapped in &stale {
        let new = ringside_vault::rewrap_secret(wrapped, masters, to)?;
        conn.execute(
            "UPDATE system_secrets SET master_version = ?2, wrapped = ?3 WHERE purpose = ?1",
            params![new.purpose(), new.master_version().get(), new.bytes()],
        )?;
    }
    Ok(stale.len())
}
