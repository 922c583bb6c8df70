//! [`AuthService`]: the operations the HTTP handlers and the CLI call — sign-in, second factor,
//! sessions, invitations, team administration — as plain methods with one error type.
//!
//! Why a service and not logic in handlers: every rule that protects an account (back-off,
//! identical answers, single-use codes, last owner, org isolation, audit in the same
//! transaction) lives here once, testable on a fake clock without HTTP, and the handlers stay
//! adapters. Methods are synchronous: they hash passwords (tens of milliseconds of CPU) and
//! talk to SQLite, so async callers run them on `tokio::task::spawn_blocking` with a clone of
//! the (cheap, `Arc`-backed) service.
//!
//! Authorization happens here too, not only in the route extractor: every administrative method
//! takes the caller's [`Principal`], checks the permission matrix, `Role::can_manage` for the
//! target, and scopes every query to the caller's org (a user or session id from another org is
//! simply "not found").
//!
//! One `impl AuthService` per area, so a reviewer reads one concern at a time:
//! - this file: the service's state, its constructors, hygiene and the helpers every area uses
//!   (time, the org keys, the revocation channel, back-off of credential checks);
//! - `types`: what the methods take and return;
//! - `authorize`: the permission matrix, the second-factor rules, who may manage whom;
//! - `signin`: password sign-in, the second-factor challenge, refresh, authenticating a token;
//! - `sessions`: listing and ending sessions;
//! - `team`: the admin's operations on users and the org's second-factor policy;
//! - `invitations`: inviting, listing, revoking and accepting;
//! - `credentials`: the caller's own TOTP enrolment, step-up, and password change.

mod authorize;
mod credentials;
mod invitations;
mod sessions;
mod signin;
mod team;
mod types;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ringside_core::wire::Actor;
use ringside_core::{Clock, OrgId, UserId};
use ringside_store::{
    AuditEntry, IdentityPurge, OrgKeys, RevokeReason, Store, ThrottleKey, TokenHash, User,
    UserProfile,
};
use ringside_vault::OrgKeyring;
use time::OffsetDateTime;
use tokio::sync::broadcast;

use crate::email::EmailIndexKey;
use crate::lockout::{CEILING_WINDOW, IpLimiter};
use crate::password::Hasher;
use crate::{AuthConfig, AuthError};

use signin::Challenge;

pub use invitations::MAX_DISPLAY_NAME_CHARS;
pub use types::{
    AcceptedInvitation, CreatedInvitation, DeviceInfo, InvitationView, LoginOutcome, LoginRequest,
    MfaScope, Principal, RecoveryCodes, Revocation, RevocationScope, SessionView, Tokens, UserView,
};

/// How many revocations the channel buffers for a slow subscriber (it then sees `Lagged` and
/// must re-check its sessions).
pub const REVOCATION_CHANNEL_CAPACITY: usize = 1024;

struct Inner {
    store: Arc<Store>,
    keys: OrgKeys,
    clock: Arc<dyn Clock>,
    config: AuthConfig,
    email_key: EmailIndexKey,
    hasher: Hasher,
    ip_limiter: IpLimiter,
    challenges: Mutex<HashMap<TokenHash, Challenge>>,
    revocations: broadcast::Sender<Revocation>,
}

/// The identity core. Cheap to clone.
#[derive(Clone)]
pub struct AuthService(Arc<Inner>);

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing held under these locks can be left half-updated by a panic (plain map inserts).
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// An audit entry: `action` by `actor` on `resource_type`/`resource_id`, in `org` if any.
fn entry(
    org: Option<OrgId>,
    actor: Actor,
    action: &'static str,
    resource_type: &'static str,
    resource_id: impl std::fmt::Display,
) -> AuditEntry {
    let entry = AuditEntry::new(actor, action, resource_type).resource(resource_id);
    match org {
        Some(org) => entry.in_org(org),
        None => entry,
    }
}

/// An audit entry for what the caller `p` does in their org, from where they do it.
fn entry_by(
    p: &Principal,
    action: &'static str,
    resource_type: &'static str,
    resource_id: impl std::fmt::Display,
) -> AuditEntry {
    entry(
        Some(p.org),
        Actor::user(p.user),
        action,
        resource_type,
        resource_id,
    )
    .from_ip(p.source_ip)
}

fn store_err(err: ringside_store::Error) -> AuthError {
    match err {
        ringside_store::Error::NotFound(what) => AuthError::NotFound(what),
        ringside_store::Error::LastOwner => AuthError::LastOwner,
        ringside_store::Error::Conflict(_) => AuthError::EmailUnavailable,
        other => AuthError::from(other),
    }
}

impl AuthService {
    /// The service, after [`AuthConfig::validate`] (a refused value is an `InvalidInput` naming
    /// nothing secret; the relay validates at start-up and says which key).
    pub fn new(
        store: Arc<Store>,
        keys: OrgKeys,
        clock: Arc<dyn Clock>,
        email_key: EmailIndexKey,
        config: AuthConfig,
    ) -> Result<Self, AuthError> {
        config
            .validate()
            .map_err(|_| AuthError::InvalidInput("auth configuration"))?;
        Self::with_unvalidated_config(store, keys, clock, email_key, config)
    }

    /// The service on a running relay's store: loads (or, on first start, creates) the
    /// `email-index` installation secret, then [`AuthService::new`].
    pub fn load(
        store: Arc<Store>,
        keys: OrgKeys,
        clock: Arc<dyn Clock>,
        config: AuthConfig,
    ) -> Result<Self, AuthError> {
        let email_key = EmailIndexKey::load(&store, keys.masters())?;
        Self::new(store, keys, clock, email_key, config)
    }

    /// The service without validating `config`: for tests, which use cheap password hashing.
    #[doc(hidden)]
    pub fn with_unvalidated_config(
        store: Arc<Store>,
        keys: OrgKeys,
        clock: Arc<dyn Clock>,
        email_key: EmailIndexKey,
        config: AuthConfig,
    ) -> Result<Self, AuthError> {
        let hasher = Hasher::new(config.password_hash)?;
        let ip_limiter = IpLimiter::new(config.ip_limit, Arc::clone(&clock));
        let (revocations, _) = broadcast::channel(REVOCATION_CHANNEL_CAPACITY);
        Ok(Self(Arc::new(Inner {
            store,
            keys,
            clock,
            config,
            email_key,
            hasher,
            ip_limiter,
            challenges: Mutex::new(HashMap::new()),
            revocations,
        })))
    }

    /// The settings in force.
    pub fn config(&self) -> &AuthConfig {
        &self.0.config
    }

    /// Revocations, as they are committed (for the WebSocket hub).
    pub fn subscribe_revocations(&self) -> broadcast::Receiver<Revocation> {
        self.0.revocations.subscribe()
    }

    /// Removes what has run its course: sessions ended over a day ago, devices unused for
    /// `device_ttl`, invitations finished over a day ago, quiet back-off state, idle per-IP
    /// counters. The relay's hygiene pass runs this at start-up and hourly (docs/operations.md#hygiene).
    pub fn purge_expired(&self) -> Result<IdentityPurge, AuthError> {
        let now = self.now();
        let day = 24 * 3600;
        let purge = self.store().sessions().purge_identity(
            now - day,
            now - secs(self.0.config.device_ttl),
            now - day,
        )?;
        self.store().throttle().prune_login_throttle(
            now - secs(CEILING_WINDOW),
            now - secs(self.0.config.lockout.forget_after),
        )?;
        self.0.ip_limiter.forget_idle();
        drop(self.live_challenges(now));
        Ok(purge)
    }

    fn now(&self) -> i64 {
        self.0.clock.now().unix_timestamp()
    }

    fn store(&self) -> &Store {
        &self.0.store
    }

    fn publish(&self, org: OrgId, user: UserId, scope: RevocationScope, reason: RevokeReason) {
        // No subscriber yet is fine: nothing is listening, so nothing needs closing.
        let _ = self.0.revocations.send(Revocation {
            org,
            user,
            scope,
            reason,
        });
    }

    /// The org's data keys (cached by the shared [`OrgKeys`]).
    fn keys(&self, org: OrgId) -> Result<Arc<OrgKeyring>, AuthError> {
        self.0.keys.get(org).map_err(store_err)
    }

    /// The caller's own user with their personal data opened.
    fn own_profile(&self, p: &Principal) -> Result<UserProfile, AuthError> {
        let keys = self.keys(p.org)?;
        self.store()
            .users()
            .user_profile(p.org, p.user, &keys)
            .map_err(store_err)
    }

    fn check_ip(&self, ip: IpAddr) -> Result<(), AuthError> {
        self.0
            .ip_limiter
            .check(ip)
            .map_err(|retry_after| AuthError::RateLimited { retry_after })
    }

    fn audit_for(&self, user: Option<&User>, action: &'static str, ip: IpAddr) -> AuditEntry {
        match user {
            Some(u) => entry(Some(u.org), Actor::user(u.id), action, "user", u.id),
            None => entry(None, Actor::anonymous(), action, "user", "unknown"),
        }
        .from_ip(Some(ip))
    }

    fn check_throttle(
        &self,
        key: &ThrottleKey,
        now: i64,
        attempt: &AuditEntry,
    ) -> Result<(), AuthError> {
        let state = self.store().throttle().throttle_state(key)?;
        let window = self
            .store()
            .throttle()
            .failures_since(&key.subject, now - secs(CEILING_WINDOW))?;
        if let Err(retry_after) = self.0.config.lockout.check(state, window, now) {
            self.store()
                .audit()
                .record_audit(&attempt.clone().denied().detail("reason", "back_off"))?;
            return Err(AuthError::Locked { retry_after });
        }
        Ok(())
    }

    fn record_failure(
        &self,
        key: &ThrottleKey,
        now: i64,
        audit: AuditEntry,
    ) -> Result<(), AuthError> {
        let policy = self.0.config.lockout;
        self.store().throttle().record_login_failure(
            key,
            now,
            now - secs(CEILING_WINDOW),
            &|previous| policy.after_failure(previous, now),
            &audit,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_can_be_shared_across_threads_and_tasks() {
        fn shareable<T: Send + Sync + Clone + 'static>() {}
        shareable::<AuthService>();
        fn sendable<T: Send + 'static>() {}
        sendable::<Principal>();
        sendable::<Tokens>();
        sendable::<Revocation>();
    }
}
