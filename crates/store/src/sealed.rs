//! Sealed columns: personal data and secrets stored encrypted under the org's data key.
//!
//! Why a type per column: a value is sealed bound to (org, table, column, row id), so a sealed
//! value pasted into another row, column or org fails to open. Naming the table and column once,
//! in a [`SealedColumn`] constant next to the repository that owns it, means the sealing and the
//! opening side cannot disagree about the binding.

use ringside_core::{OrgId, Pii};
use ringside_vault::{OrgKeyring, SealContext};
use rusqlite::{Transaction, params};
use zeroize::Zeroizing;

use crate::Error;

/// A column that holds sealed values: its table and name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SealedColumn {
    table: &'static str,
    column: &'static str,
}

impl SealedColumn {
    pub(crate) const fn new(table: &'static str, column: &'static str) -> Self {
        Self { table, column }
    }

    fn context<'a>(&'a self, org: OrgId, row: &'a [u8]) -> SealContext<'a> {
        SealContext::new(org, self.table, self.column, row)
    }

    /// Seals `plain` for the row `row` of `org`.
    pub(crate) fn seal(
        &self,
        keys: &OrgKeyring,
        org: OrgId,
        row: &[u8],
        plain: &[u8],
    ) -> Result<Vec<u8>, Error> {
        Ok(keys.seal(&self.context(org, row), plain)?)
    }

    /// Opens a value sealed for the row `row` of `org`.
    pub(crate) fn open(
        &self,
        keys: &OrgKeyring,
        org: OrgId,
        row: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        Ok(keys.open(&self.context(org, row), sealed)?)
    }

    /// Seals a text value (personal data).
    pub(crate) fn seal_text(
        &self,
        keys: &OrgKeyring,
        org: OrgId,
        row: &[u8],
        value: &Pii<String>,
    ) -> Result<Vec<u8>, Error> {
        self.seal(keys, org, row, value.expose().as_bytes())
    }

    /// Opens a sealed text value.
    pub(crate) fn open_text(
        &self,
        keys: &OrgKeyring,
        org: OrgId,
        row: &[u8],
        sealed: &[u8],
    ) -> Result<Pii<String>, Error> {
        let plain = self.open(keys, org, row, sealed)?;
        let text =
            String::from_utf8(plain.to_vec()).map_err(|_| ringside_vault::Error::OpenFailed)?;
        Ok(Pii::new(text))
    }
}

/// Refuses a keyring of another org than `org` (before anything is sealed or read with it).
pub(crate) fn check_keys(keys: &OrgKeyring, org: OrgId) -> Result<(), Error> {
    if keys.org() == org {
        Ok(())
    } else {
        Err(Error::Vault(ringside_vault::Error::OrgMismatch {
            keyring: keys.org(),
            value: org,
        }))
    }
}

/// Persists the org keyring's seal counts in the same transaction as the rows they sealed, so
/// the count can never lag behind what is on disk.
pub(crate) fn persist_seal_counts(tx: &Transaction<'_>, keys: &OrgKeyring) -> Result<(), Error> {
    for (generation, count) in keys.seal_counts() {
        tx.prepare_cached("UPDATE org_keys SET seal_count = max(seal_count, ?3) WHERE org_id = ?1 AND generation = ?2")?.execute(
            params![
                keys.org().as_bytes(),
                generation.get(),
                i64::try_from(count).unwrap_or(i64::MAX)
            ],
        )?;
    }
    Ok(())
}
