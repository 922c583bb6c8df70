//! AMS connections: at most one per org — which AMS, where, and its credentials sealed
//! (docs/ams.md).
//!
//! Why it looks like this: the store keeps the kind and base URL as text and the credentials as
//! opaque sealed bytes; what they mean is `ringside-ams`'s business, and the relay maps between
//! the two. The credentials are bound to the org's row, so they open only for that org, and
//! disconnecting deletes the row — and the sealed credentials with it — in the audited
//! transaction. Nothing an AMS answers is ever stored here.

use ringside_core::OrgId;
use ringside_vault::OrgKeyring;
use rusqlite::{OptionalExtension, Row, params};
use zeroize::Zeroizing;

use crate::audit::AuditEntry;
use crate::rows::require_changed;
use crate::sealed::{SealedColumn, check_keys, persist_seal_counts};
use crate::{Error, Store};

/// The credentials, sealed with the org's data key.
const CREDENTIALS: SealedColumn = SealedColumn::new("ams_connections", "credentials");

/// An org's AMS connection as shown: never its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmsConnection {
    /// The org.
    pub org: OrgId,
    /// The AMS kind's name (`applied-epic`, `hubspot`, `nowcerts`, `sandbox`).
    pub kind: String,
    /// Its API's base URL.
    pub base_url: String,
    /// When it was connected (unix seconds).
    pub connected_at: i64,
    /// The last test: when, and `ok` or the failure's reason.
    pub last_test: Option<(i64, String)>,
    /// Where a call that matches no record is written: this catch-all record's AMS id, or
    /// nowhere (`None`: the call is skipped and purged).
    pub catch_all_record: Option<String>,
}

/// What connecting stores.
#[derive(Debug)]
pub struct NewAmsConnection<'a> {
    /// The org.
    pub org: OrgId,
    /// The kind's name.
    pub kind: &'a str,
    /// The base URL.
    pub base_url: &'a str,
    /// The credentials as JSON (sealed before they are written).
    pub credentials: &'a [u8],
    /// The catch-all record for calls that match no one (`None`: skip them).
    pub catch_all_record: Option<&'a str>,
    /// Now (unix seconds).
    pub now: i64,
}

fn connection_row(r: &Row<'_>) -> rusqlite::Result<AmsConnection> {
    let at: Option<i64> = r.get(4)?;
    let result: Option<String> = r.get(5)?;
    Ok(AmsConnection {
        org: crate::rows::id(r, 0, OrgId::from_bytes)?,
        kind: r.get(1)?,
        base_url: r.get(2)?,
        connected_at: r.get(3)?,
        last_test: at.zip(result),
        catch_all_record: r.get(6)?,
    })
}

/// A connection with its credentials opened (JSON, wiped when dropped).
pub type OpenedAmsConnection = (AmsConnection, Zeroizing<Vec<u8>>);

const COLUMNS: &str =
    "org_id, kind, base_url, connected_at, last_test_at, last_test_result, catch_all_record";

/// The orgs' AMS connections.
pub trait AmsStore {
    /// Connects `new.org` to an AMS, replacing any connection it had (its credentials deleted),
    /// with `audit` in the same transaction.
    fn connect_ams(
        &self,
        new: &NewAmsConnection<'_>,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// The org's connection, if it has one.
    fn ams_connection(&self, org: OrgId) -> Result<Option<AmsConnection>, Error>;

    /// The org's connection with its credentials opened, for one lookup, test or note; wiped
    /// when dropped.
    fn open_ams_credentials(
        &self,
        org: OrgId,
        keys: &OrgKeyring,
    ) -> Result<Option<OpenedAmsConnection>, Error>;

    /// Records the result of `ams test` (`ok` or a reason), with `audit`.
    /// [`Error::NotFound`] when the org has no connection.
    fn record_ams_test(
        &self,
        org: OrgId,
        now: i64,
        result: &str,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// Disconnects the org: the row and its sealed credentials are deleted at once, with
    /// `audit`. [`Error::NotFound`] when there was none.
    fn disconnect_ams(&self, org: OrgId, audit: &AuditEntry) -> Result<(), Error>;
}

impl AmsStore for Store {
    fn connect_ams(
        &self,
        new: &NewAmsConnection<'_>,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        check_keys(keys, new.org)?;
        let sealed = CREDENTIALS.seal(keys, new.org, new.org.as_bytes(), new.credentials)?;
        self.audited(audit, |tx| {
            tx.execute(
                "INSERT INTO ams_connections (org_id, kind, base_url, credentials_sealed,
                                              connected_at, catch_all_record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (org_id) DO UPDATE SET
                     kind = excluded.kind, base_url = excluded.base_url,
                     credentials_sealed = excluded.credentials_sealed,
                     connected_at = excluded.connected_at,
                     catch_all_record = excluded.catch_all_record,
                     last_test_at = NULL, last_test_result = NULL",
                params![
                    new.org.as_bytes(),
                    new.kind,
                    new.base_url,
                    sealed,
                    new.now,
                    new.catch_all_record
                ],
            )?;
            persist_seal_counts(tx, keys)
        })
    }

    fn ams_connection(&self, org: OrgId) -> Result<Option<AmsConnection>, Error> {
        Ok(self
            .read()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM ams_connections WHERE org_id = ?1"
            ))?
            .query_row([org.as_bytes()], connection_row)
            .optional()?)
    }

    fn open_ams_credentials(
        &self,
        org: OrgId,
        keys: &OrgKeyring,
    ) -> Result<Option<OpenedAmsConnection>, Error> {
        check_keys(keys, org)?;
        let row = self
            .read()
            .prepare_cached(&format!(
                "SELECT {COLUMNS}, credentials_sealed FROM ams_connections WHERE org_id = ?1"
            ))?
            .query_row([org.as_bytes()], |r| {
                Ok((connection_row(r)?, r.get::<_, Vec<u8>>(7)?))
            })
            .optional()?;
        let Some((connection, sealed)) = row else {
            return Ok(None);
        };
        let credentials = CREDENTIALS.open(keys, org, org.as_bytes(), &sealed)?;
        Ok(Some((connection, credentials)))
    }

    fn record_ams_test(
        &self,
        org: OrgId,
        now: i64,
        result: &str,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        self.audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE ams_connections SET last_test_at = ?2, last_test_result = ?3
                 WHERE org_id = ?1",
                params![org.as_bytes(), now, result],
            )?;
            require_changed(changed, "AMS connection")
        })
    }

    fn disconnect_ams(&self, org: OrgId, audit: &AuditEntry) -> Result<(), Error> {
        self.audited(audit, |tx| {
            let changed = tx.execute(
                "DELETE FROM ams_connections WHERE org_id = ?1",
                [org.as_bytes()],
            )?;
            require_changed(changed, "AMS connection")
        })
    }
}
