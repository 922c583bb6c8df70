//! Integrations: an org's connection to one telephony provider (docs/providers.md#connecting-a-provider).
//!
//! Why it looks like this: the integration id is the only thing in the webhook URL, so it is a
//! random 128-bit token; the provider's secret is sealed with the org's data key and bound to
//! the row, so the database file alone authenticates nothing. The store does not know the
//! provider schemes: it keeps the provider's name and its settings as text and the relay maps them
//! to `ringside-providers` types. Revoking deletes the sealed secret in the same audited
//! transaction that marks the row disabled, so a revoked integration can never authenticate again.

use ringside_core::{IntegrationId, OrgId};
use ringside_vault::OrgKeyring;
use rusqlite::{OptionalExtension, Row, params};
use zeroize::Zeroizing;

use crate::audit::AuditEntry;
use crate::rows::{Table, id, require_changed};
use crate::sealed::{SealedColumn, check_keys, persist_seal_counts};
use crate::{Error, Store};

/// What creating an integration needs.
#[derive(Debug)]
pub struct NewIntegration {
    /// Fresh random id (it is the webhook URL's only secret-looking part).
    pub id: IntegrationId,
    /// The org it belongs to.
    pub org: OrgId,
    /// The provider's lowercase name (`dialpad`, `ringcentral`, `vonage`, `twilio`, `standard`).
    pub provider: String,
    /// Non-secret provider settings, as JSON text.
    pub settings: String,
    /// A short admin-given label (not personal data).
    pub label: String,
    /// Now.
    pub created_at: i64,
}

/// An integration as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    /// Id.
    pub id: IntegrationId,
    /// The org it belongs to.
    pub org: OrgId,
    /// The provider's lowercase name.
    pub provider: String,
    /// Non-secret provider settings, as JSON text.
    pub settings: String,
    /// The admin-given label.
    pub label: String,
    /// Created.
    pub created_at: i64,
    /// Revoked (its secret is then gone).
    pub disabled_at: Option<i64>,
    /// Whether a provider API key is kept (sealed) for it.
    pub has_api_key: bool,
    /// The provider API's base URL, when not the provider's own.
    pub api_base: Option<String>,
    /// Its org is terminated: its webhooks are refused (410). Read in the same statement, so
    /// the webhook's path needs no second query.
    pub org_terminated: bool,
}

/// An active integration with its secret opened, for the webhook route.
pub struct IntegrationSecret {
    /// The integration.
    pub integration: Integration,
    /// The provider secret, wiped when dropped.
    pub secret: Zeroizing<String>,
}

impl std::fmt::Debug for IntegrationSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationSecret")
            .field("integration", &self.integration)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// An integration's provider API key, opened, and where the API is. `Debug` hides the key.
pub struct ProviderApiKey {
    /// The key, wiped when dropped.
    pub key: Zeroizing<String>,
    /// The API's base URL, when not the provider's own.
    pub api_base: Option<String>,
}

impl std::fmt::Debug for ProviderApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderApiKey")
            .field("key", &"<redacted>")
            .field("api_base", &self.api_base)
            .finish()
    }
}

const INTEGRATIONS: Table<Integration> = Table {
    name: "integrations",
    columns: "id, org_id, provider, settings, label, created_at, disabled_at, \
              api_key_sealed IS NOT NULL, api_base, \
              (SELECT terminated_at IS NOT NULL FROM orgs WHERE orgs.id = integrations.org_id)",
    what: "integration",
    read: integration_row,
};

/// The provider secret, sealed with the org's data key.
const SECRET: SealedColumn = SealedColumn::new("integrations", "secret");

/// The provider API key, sealed with the org's data key.
const API_KEY: SealedColumn = SealedColumn::new("integrations", "api_key");

fn integration_row(r: &Row<'_>) -> rusqlite::Result<Integration> {
    Ok(Integration {
        id: id(r, 0, IntegrationId::from_bytes)?,
        org: id(r, 1, OrgId::from_bytes)?,
        provider: r.get(2)?,
        settings: r.get(3)?,
        label: r.get(4)?,
        created_at: r.get(5)?,
        disabled_at: r.get(6)?,
        has_api_key: r.get(7)?,
        api_base: r.get(8)?,
        org_terminated: r.get(9)?,
    })
}

/// Provider integrations and their sealed webhook secrets.
pub trait IntegrationStore {
    /// Stores a new integration with its `secret` sealed, and `audit` in the same transaction.
    fn create_integration(
        &self,
        new: &NewIntegration,
        secret: &str,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// The integrations of `org`, oldest first, revoked ones included; no secrets.
    fn list(&self, org: OrgId) -> Result<Vec<Integration>, Error>;

    /// One integration of `org`; [`Error::NotFound`] if it belongs to another org.
    fn integration(&self, org: OrgId, id: IntegrationId) -> Result<Integration, Error>;

    /// The integration a webhook names, not scoped by org (the id in the URL is the lookup key;
    /// the row names the org). `None` when there is none or it was revoked, so the caller
    /// answers the same 404 either way.
    fn integration_for_webhook(
        &self,
        id: IntegrationId,
    ) -> Result<Option<(Integration, Vec<u8>)>, Error>;

    /// Opens the sealed secret returned by [`IntegrationStore::integration_for_webhook`] with the keyring
    /// of the integration's org.
    fn open_integration_secret(
        &self,
        integration: Integration,
        sealed: &[u8],
        keys: &OrgKeyring,
    ) -> Result<IntegrationSecret, Error>;

    /// Keeps `api_key` (sealed) for an active integration of `org`, to call the provider's API
    /// at `api_base` (its own when `None`); `None` deletes the key. With `audit`.
    /// [`Error::NotFound`] if it is not `org`'s active integration.
    fn set_integration_api_key(
        &self,
        org: OrgId,
        id: IntegrationId,
        api_key: Option<&str>,
        api_base: Option<&str>,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// The provider API key of an active integration of `org`, opened (wiped when dropped),
    /// with the API's base URL; `None` when it has none.
    fn open_integration_api_key(
        &self,
        org: OrgId,
        id: IntegrationId,
        keys: &OrgKeyring,
    ) -> Result<Option<ProviderApiKey>, Error>;

    /// Revokes an integration of `org`: marks it disabled and deletes its sealed secret and API
    /// key, with `audit` in the same transaction. [`Error::NotFound`] if it is not `org`'s or
    /// already revoked.
    fn delete_integration(
        &self,
        org: OrgId,
        id: IntegrationId,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error>;
}

impl IntegrationStore for Store {
    fn create_integration(
        &self,
        new: &NewIntegration,
        secret: &str,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        check_keys(keys, new.org)?;
        let sealed = SECRET.seal(keys, new.org, new.id.as_bytes(), secret.as_bytes())?;
        self.audited(audit, |tx| {
            tx.execute(
                "INSERT INTO integrations (id, org_id, provider, secret_sealed, settings, label,
                                           created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    new.id.as_bytes(),
                    new.org.as_bytes(),
                    new.provider,
                    sealed,
                    new.settings,
                    new.label,
                    new.created_at
                ],
            )?;
            persist_seal_counts(tx, keys)
        })
    }

    fn list(&self, org: OrgId) -> Result<Vec<Integration>, Error> {
        let conn = self.read();
        let mut stmt =
            conn.prepare(&INTEGRATIONS.select("", "WHERE org_id = ?1 ORDER BY created_at, id"))?;
        let rows = stmt.query_map([org.as_bytes()], integration_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn integration(&self, org: OrgId, id: IntegrationId) -> Result<Integration, Error> {
        INTEGRATIONS.in_org(&self.read(), org, id.as_bytes())
    }

    fn integration_for_webhook(
        &self,
        id: IntegrationId,
    ) -> Result<Option<(Integration, Vec<u8>)>, Error> {
        let conn = self.read();
        let row = conn
            .prepare_cached(&INTEGRATIONS.select(
                "secret_sealed",
                "WHERE id = ?1 AND disabled_at IS NULL AND secret_sealed IS NOT NULL",
            ))?
            .query_row([id.as_bytes()], |r| {
                Ok((integration_row(r)?, r.get::<_, Vec<u8>>(10)?))
            })
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })?;
        Ok(row)
    }

    fn open_integration_secret(
        &self,
        integration: Integration,
        sealed: &[u8],
        keys: &OrgKeyring,
    ) -> Result<IntegrationSecret, Error> {
        check_keys(keys, integration.org)?;
        let plain = SECRET.open(keys, integration.org, integration.id.as_bytes(), sealed)?;
        let text =
            String::from_utf8(plain.to_vec()).map_err(|_| ringside_vault::Error::OpenFailed)?;
        Ok(IntegrationSecret {
            integration,
            secret: Zeroizing::new(text),
        })
    }

    fn set_integration_api_key(
        &self,
        org: OrgId,
        id: IntegrationId,
        api_key: Option<&str>,
        api_base: Option<&str>,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        check_keys(keys, org)?;
        let sealed = api_key
            .map(|key| API_KEY.seal(keys, org, id.as_bytes(), key.as_bytes()))
            .transpose()?;
        self.audited(audit, |tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE integrations SET api_key_sealed = ?3, api_base = ?4
                     WHERE org_id = ?1 AND id = ?2 AND disabled_at IS NULL",
                )?
                .execute(params![
                    org.as_bytes(),
                    id.as_bytes(),
                    sealed,
                    api_key.and(api_base)
                ])?;
            require_changed(changed, "integration")?;
            persist_seal_counts(tx, keys)
        })
    }

    fn open_integration_api_key(
        &self,
        org: OrgId,
        id: IntegrationId,
        keys: &OrgKeyring,
    ) -> Result<Option<ProviderApiKey>, Error> {
        check_keys(keys, org)?;
        let row: Option<(Option<Vec<u8>>, Option<String>)> = self
            .read()
            .prepare_cached(
                "SELECT api_key_sealed, api_base FROM integrations
                 WHERE org_id = ?1 AND id = ?2 AND disabled_at IS NULL",
            )?
            .query_row(params![org.as_bytes(), id.as_bytes()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((Some(sealed), base)) = row else {
            return Ok(None);
        };
        let plain = API_KEY.open(keys, org, id.as_bytes(), &sealed)?;
        let key = std::str::from_utf8(&plain).map_err(|_| ringside_vault::Error::OpenFailed)?;
        Ok(Some(ProviderApiKey {
            key: Zeroizing::new(key.to_owned()),
            api_base: base,
        }))
    }

    fn delete_integration(
        &self,
        org: OrgId,
        id: IntegrationId,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        self.audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE integrations SET secret_sealed = NULL, api_key_sealed = NULL,
                        disabled_at = ?3
                 WHERE org_id = ?1 AND id = ?2 AND disabled_at IS NULL",
                params![org.as_bytes(), id.as_bytes(), now],
            )?;
            require_changed(changed, "integration")
        })
    }
}
