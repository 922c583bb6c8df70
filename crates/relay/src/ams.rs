//! An org's AMS connection (docs/ams.md): connected by an owner (`ManageCredentials`, with a
//! recent second factor) or the operator's CLI; shown without its credentials; tested with a
//! real request; disconnected, which deletes the sealed credentials at once. The same code, the
//! same checks and the same audit entries for the admin API and `ringside-relay ams`.
//!
//! Why here and not in `ringside-ams`: connecting is storage, keys and authorization — the
//! relay's — while what a connection *is* (kinds, URLs, credential shapes) and how to talk to
//! one is `ringside-ams`'s. The credentials are opened only for the one lookup, test or note that
//! needs them ([`AmsConnections::open`]) and wiped when that is done.

use std::str::FromStr;
use std::sync::Arc;

use ringside_ams::{Ams, AmsConnector, AmsError, AmsKind, Connection, Credentials};
use ringside_core::{Clock, OrgId, Permission, Role, UserId};
use ringside_identity::{AuthError, AuthService};
use ringside_store::{AmsConnection, NewAmsConnection, OrgKeys, Store};

use crate::caller::{Caller, store_err};
use crate::calls::breaker::Breakers;

/// The connection `kind`, `base_url` and JSON `credentials` describe, checked.
///
/// # Errors
/// [`AmsError::Config`] naming the field and the problem (never a value).
pub fn connection(
    kind: &str,
    base_url: Option<&str>,
    credentials: &[u8],
) -> Result<Connection, AmsError> {
    let kind = AmsKind::from_str(kind)?;
    Connection::new(kind, base_url, Credentials::from_json(kind, credentials)?)
}

/// A catch-all record id as given, checked: 1–128 printable characters, no spaces around it.
///
/// # Errors
/// [`AmsError::Config`] naming `catch_all_record`.
pub fn catch_all_record(record: Option<&str>) -> Result<Option<&str>, AmsError> {
    match record {
        None => Ok(None),
        Some(id)
            if !id.is_empty()
                && id.len() <= 128
                && id.trim() == id
                && !id.chars().any(char::is_control) =>
        {
            Ok(Some(id))
        }
        Some(_) => Err(AmsError::config(
            "catch_all_record",
            "must be an AMS record id of 1 to 128 printable characters",
        )),
    }
}

/// What `ams test` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tested {
    /// `Ok`, or why the AMS refused or failed.
    pub result: Result<(), AmsError>,
    /// When (unix seconds).
    pub at: i64,
}

impl Tested {
    /// `ok` or the failure's stable reason.
    pub fn reason(&self) -> &'static str {
        self.result
            .as_ref()
            .map_or_else(AmsError::reason, |()| "ok")
    }
}

/// Connecting, showing, testing and disconnecting orgs' AMSs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AmsConnections {
    store: Arc<Store>,
    keys: OrgKeys,
    auth: AuthService,
    clock: Arc<dyn Clock>,
    ams: Ams,
    breakers: Breakers,
}

impl AmsConnections {
    /// Connections in `store`, sealed with `keys`, authorized through `auth`, spoken to through
    /// `ams`.
    pub fn new(
        store: Arc<Store>,
        keys: OrgKeys,
        auth: AuthService,
        clock: Arc<dyn Clock>,
        ams: Ams,
    ) -> Self {
        Self {
            breakers: Breakers::new(Arc::clone(&clock)),
            store,
            keys,
            auth,
            clock,
            ams,
        }
    }

    /// Connects the caller's org to `connection`, replacing any connection it had; a call that
    /// matches no record is written on `catch_all` (checked by [`catch_all_record`]), or
    /// skipped when `None`.
    pub fn connect(
        &self,
        caller: Caller<'_>,
        connection: &Connection,
        catch_all: Option<&str>,
    ) -> Result<AmsConnection, AuthError> {
        caller.admit(&self.auth, &self.store, Permission::ManageCredentials, true)?;
        let org = caller.org();
        let keys = self.keys.get(org).map_err(store_err)?;
        let credentials = connection.credentials.to_json();
        let new = NewAmsConnection {
            org,
            kind: connection.kind.as_str(),
            base_url: connection.base_url.as_str(),
            credentials: &credentials,
            catch_all_record: catch_all,
            now: self.now(),
        };
        let audit = caller
            .entry("ams.connect", "ams_connection")
            .resource(org)
            .detail("kind", connection.kind.as_str());
        self.store
            .ams()
            .connect_ams(&new, &keys, &audit)
            .map_err(store_err)?;
        self.breakers.reset(org);
        tracing::info!(%org, kind = connection.kind.as_str(), "AMS connected");
        self.store
            .ams()
            .ams_connection(org)
            .map_err(store_err)?
            .ok_or(AuthError::NotFound("AMS connection"))
    }

    /// The caller's org's connection, if any; never its credentials.
    pub fn status(&self, caller: Caller<'_>) -> Result<Option<AmsConnection>, AuthError> {
        caller.admit(
            &self.auth,
            &self.store,
            Permission::ManageCredentials,
            false,
        )?;
        self.store
            .ams()
            .ams_connection(caller.org())
            .map_err(store_err)
    }

    /// The caller's org's connector, for `ams test` (blocking). [`AuthError::NotFound`] when
    /// the org has no connection.
    pub fn tester(&self, caller: Caller<'_>) -> Result<Box<dyn AmsConnector>, AuthError> {
        caller.admit(&self.auth, &self.store, Permission::ManageCredentials, true)?;
        self.open(caller.org())
            .map_err(|e| match e {
                Opened::Store(err) => store_err(err),
                Opened::Unusable(_) => AuthError::InvalidInput("credentials"),
            })?
            .ok_or(AuthError::NotFound("AMS connection"))
    }

    /// Runs `connector`'s check within the request budget.
    pub async fn check(&self, connector: &dyn AmsConnector) -> Result<(), AmsError> {
        tokio::time::timeout(self.ams.limits().timeout, connector.check())
            .await
            .unwrap_or(Err(AmsError::Timeout))
    }

    /// Records the result of a test of the caller's org's AMS, audited (blocking).
    pub fn record_test(
        &self,
        caller: Caller<'_>,
        result: Result<(), AmsError>,
    ) -> Result<Tested, AuthError> {
        let org = caller.org();
        let tested = Tested {
            result,
            at: self.now(),
        };
        let audit = caller
            .entry("ams.test", "ams_connection")
            .resource(org)
            .detail("result", tested.reason());
        self.store
            .ams()
            .record_ams_test(org, tested.at, tested.reason(), &audit)
            .map_err(store_err)?;
        Ok(tested)
    }

    /// Disconnects the caller's org: its credentials are deleted at once.
    pub fn disconnect(&self, caller: Caller<'_>) -> Result<(), AuthError> {
        caller.admit(&self.auth, &self.store, Permission::ManageCredentials, true)?;
        let org = caller.org();
        let audit = caller
            .entry("ams.disconnect", "ams_connection")
            .resource(org);
        self.store
            .ams()
            .disconnect_ams(org, &audit)
            .map_err(store_err)?;
        self.breakers.reset(org);
        tracing::info!(%org, "AMS disconnected");
        Ok(())
    }

    /// Whether `org` has an AMS connected (blocking: a store read).
    pub(crate) fn connected(&self, org: OrgId) -> Result<bool, ringside_store::Error> {
        Ok(self.store.ams().ams_connection(org)?.is_some())
    }

    /// `org`'s connector with its credentials unsealed, for one use (blocking). `None`: no AMS.
    pub(crate) fn open(&self, org: OrgId) -> Result<Option<Box<dyn AmsConnector>>, Opened> {
        let keys = self.keys.get(org).map_err(Opened::Store)?;
        let Some((row, credentials)) = self
            .store
            .ams()
            .open_ams_credentials(org, &keys)
            .map_err(Opened::Store)?
        else {
            return Ok(None);
        };
        let connection =
            connection(&row.kind, Some(&row.base_url), &credentials).map_err(Opened::Unusable)?;
        Ok(Some(self.ams.connector(connection)))
    }

    /// Who is told when `org`'s AMS refuses its credentials: the active owners and admins
    /// (blocking).
    pub(crate) fn admins(&self, org: OrgId) -> Result<Vec<UserId>, ringside_store::Error> {
        self.store
            .users()
            .active_users_with_roles(org, &[Role::Owner, Role::Admin])
    }

    /// The org data keys.
    pub(crate) fn keys(&self) -> &OrgKeys {
        &self.keys
    }

    /// The store.
    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The orgs' circuit breakers (reset here whenever a connection changes).
    pub(crate) fn breakers(&self) -> &Breakers {
        &self.breakers
    }

    /// The budget of one request to an AMS.
    pub(crate) fn budget(&self) -> std::time::Duration {
        self.ams.limits().timeout
    }

    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }
}

/// Why a stored connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Opened {
    /// The store or the keys.
    #[error(transparent)]
    Store(ringside_store::Error),
    /// What is stored no longer parses (a connection from a newer relay, say).
    #[error(transparent)]
    Unusable(AmsError),
}
