//! Each org's summarizer (docs/lifecycle.md, "Summaries"): the built-in one unless the org's
//! admins point Ringside at an OpenAI-compatible endpoint they trust. The endpoint and model are
//! kept in clear (configuration, shown back to admins); the API key only sealed, and opened only
//! for the sync that uses it.

use ringside_core::OrgId;
use ringside_vault::OrgKeyring;
use rusqlite::{OptionalExtension, params};
use zeroize::Zeroizing;

use crate::audit::AuditEntry;
use crate::rows::require_changed;
use crate::sealed::{SealedColumn, check_keys, persist_seal_counts};
use crate::{Error, Store};

/// The API key, sealed, bound to the org.
const KEY: SealedColumn = SealedColumn::new("summarizers", "key");

/// An org's summarizer endpoint, without its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummarizerRow {
    /// The chat-completions base URL.
    pub base_url: String,
    /// The model (or Azure deployment).
    pub model: String,
    /// How the key is sent: `bearer` or `azure_api_key`.
    pub auth: String,
    /// Whether a key is kept.
    pub has_key: bool,
    /// When it was set (unix seconds).
    pub updated_at: i64,
}

/// An org's endpoint with its key opened (wiped when dropped).
pub type OpenedSummarizer = (SummarizerRow, Option<Zeroizing<String>>);

/// What setting a summarizer stores.
#[derive(Debug)]
pub struct NewSummarizer<'a> {
    /// The base URL (validated by the caller).
    pub base_url: &'a str,
    /// The model.
    pub model: &'a str,
    /// `bearer` or `azure_api_key`.
    pub auth: &'a str,
    /// The key, sealed before it is written.
    pub api_key: Option<&'a str>,
}

/// The org's summarizer settings.
pub trait SummarizerStore {
    /// Sets (or replaces) `org`'s summarizer endpoint, with `audit`.
    fn set_summarizer(
        &self,
        org: OrgId,
        new: &NewSummarizer<'_>,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// `org`'s summarizer endpoint, if it set one (no key).
    fn summarizer(&self, org: OrgId) -> Result<Option<SummarizerRow>, Error>;

    /// `org`'s endpoint with its key opened, for one summary; the key is wiped when dropped.
    fn open_summarizer(
        &self,
        org: OrgId,
        keys: &OrgKeyring,
    ) -> Result<Option<OpenedSummarizer>, Error>;

    /// Back to the built-in summarizer: the row and its sealed key deleted, with `audit`.
    /// [`Error::NotFound`] when none was set.
    fn clear_summarizer(&self, org: OrgId, audit: &AuditEntry) -> Result<(), Error>;
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SummarizerRow> {
    Ok(SummarizerRow {
        base_url: r.get(0)?,
        model: r.get(1)?,
        auth: r.get(2)?,
        has_key: r.get::<_, Option<Vec<u8>>>(3)?.is_some(),
        updated_at: r.get(4)?,
    })
}

const COLUMNS: &str = "base_url, model, auth, key_sealed, updated_at";

impl SummarizerStore for Store {
    fn set_summarizer(
        &self,
        org: OrgId,
        new: &NewSummarizer<'_>,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        check_keys(keys, org)?;
        let sealed = new
            .api_key
            .map(|key| KEY.seal(keys, org, org.as_bytes(), key.as_bytes()))
            .transpose()?;
        let now = self.now();
        self.audited(audit, |tx| {
            tx.prepare_cached(
                "INSERT INTO summarizers (org_id, base_url, model, auth, key_sealed, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (org_id) DO UPDATE SET
                     base_url = excluded.base_url, model = excluded.model,
                     auth = excluded.auth, key_sealed = excluded.key_sealed,
                     updated_at = excluded.updated_at",
            )?
            .execute(params![
                org.as_bytes(),
                new.base_url,
                new.model,
                new.auth,
                sealed,
                now
            ])?;
            persist_seal_counts(tx, keys)
        })
    }

    fn summarizer(&self, org: OrgId) -> Result<Option<SummarizerRow>, Error> {
        Ok(self
            .read()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM summarizers WHERE org_id = ?1"
            ))?
            .query_row([org.as_bytes()], row)
            .optional()?)
    }

    fn open_summarizer(
        &self,
        org: OrgId,
        keys: &OrgKeyring,
    ) -> Result<Option<OpenedSummarizer>, Error> {
        check_keys(keys, org)?;
        let found = self
            .read()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM summarizers WHERE org_id = ?1"
            ))?
            .query_row([org.as_bytes()], |r| {
                Ok((row(r)?, r.get::<_, Option<Vec<u8>>>(3)?))
            })
            .optional()?;
        let Some((settings, sealed)) = found else {
            return Ok(None);
        };
        let key = sealed
            .map(|sealed| {
                let opened = KEY.open(keys, org, org.as_bytes(), &sealed)?;
                std::str::from_utf8(&opened)
                    .map(|key| Zeroizing::new(key.to_owned()))
                    .map_err(|_| Error::from(crate::rows::conversion("summarizer key")))
            })
            .transpose()?;
        Ok(Some((settings, key)))
    }

    fn clear_summarizer(&self, org: OrgId, audit: &AuditEntry) -> Result<(), Error> {
        self.audited(audit, |tx| {
            let changed = tx
                .prepare_cached("DELETE FROM summarizers WHERE org_id = ?1")?
                .execute([org.as_bytes()])?;
            require_changed(changed, "summarizer")
        })
    }
}
