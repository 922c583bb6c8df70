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

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ringside_core::wire::Actor;
use ringside_core::{
    Clock, DeviceId, InvitationId, OrgId, Permission, Pii, Role, SessionId, UserId,
};
use ringside_store::{
    AuditEntry, EmailIndex, IdentityPurge, Invitation, NewInvitation, NewSession, NewUser,
    RefreshLookup, RevokeReason, Rotation, Session, Store, ThrottleKey, TokenHash,
    TotpConfirmation, UNKNOWN_DEVICE_BUCKET, User, UserStatus,
};
use ringside_vault::{MasterKeyring, OrgKeyring};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::sync::broadcast;

use crate::auth::email::{EmailIndexKey, normalize_email};
use crate::auth::lockout::{CEILING_WINDOW, IpLimiter};
use crate::auth::password::{Hasher, check_password};
use crate::auth::tokens::{SecretToken, TokenKind, hash_presented};
use crate::auth::totp::{self, Provisioning};
use crate::auth::{AuthConfig, AuthError};

/// How many revocations the channel buffers for a slow subscriber (it then sees `Lagged` and
/// must re-check its sessions).
pub const REVOCATION_CHANNEL_CAPACITY: usize = 1024;

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// What a session revocation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationScope {
    /// One session.
    Session(SessionId),
    /// Every session of the user.
    AllSessions,
}

/// Published on the revocation channel after the revocation is committed: the WebSocket hub
/// closes the matching streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    /// The user's org.
    pub org: OrgId,
    /// Whose sessions.
    pub user: UserId,
    /// Which.
    pub scope: RevocationScope,
}

/// The device a sign-in comes from.
#[derive(Debug, Clone, Copy)]
pub struct DeviceInfo<'a> {
    /// The name the client gives (e.g. the computer's name): personal data, stored sealed.
    pub name: &'a str,
    /// The device token from an earlier sign-in on this device, if the client has one.
    pub token: Option<&'a str>,
}

/// A sign-in attempt. `email` and `password` are what the person typed.
#[derive(Debug, Clone, Copy)]
pub struct LoginRequest<'a> {
    /// Email address.
    pub email: &'a str,
    /// Password.
    pub password: &'a str,
    /// A TOTP or recovery code, if the client already asked for one.
    pub second_factor: Option<&'a str>,
    /// The client's address (per-IP limit, audit).
    pub ip: IpAddr,
    /// The device.
    pub device: DeviceInfo<'a>,
}

/// A new session's tokens. `Debug` redacts the tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The session.
    pub session: SessionId,
    /// Who signed in.
    pub user: UserId,
    /// Their org.
    pub org: OrgId,
    /// Their role.
    pub role: Role,
    /// Bearer token for API calls.
    pub access_token: SecretToken,
    /// When it stops working (refresh before).
    pub access_expires_at: OffsetDateTime,
    /// Token to get the next pair; single use.
    pub refresh_token: SecretToken,
    /// When the refresh token stops working if unused (idle timeout, capped by the session end).
    pub refresh_expires_at: OffsetDateTime,
    /// The session's absolute end.
    pub session_expires_at: OffsetDateTime,
    /// A new device token, on the first sign-in from a device: keep it (OS keychain) and send it
    /// with later sign-ins. `None` when the client already presented a valid one.
    pub device_token: Option<SecretToken>,
    /// Whether the user has a second factor.
    pub mfa_enrolled: bool,
    /// What they may not do until they enrol one.
    pub mfa_required_for: MfaScope,
}

/// The result of a password check.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    /// Signed in.
    SignedIn(Box<Tokens>),
    /// The password was right and the account has a second factor: send a code with the
    /// challenge to [`AuthService::verify_second_factor`].
    NeedsSecondFactor {
        /// Single use; expires at `expires_at`.
        challenge: SecretToken,
        /// When the challenge stops working.
        expires_at: OffsetDateTime,
    },
}

impl LoginOutcome {
    /// A stable code for the HTTP layer: `signed_in` or `second_factor_required`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SignedIn(_) => "signed_in",
            Self::NeedsSecondFactor { .. } => "second_factor_required",
        }
    }
}

/// What a user without a second factor may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaScope {
    /// Nothing is held back (enrolled, or not required).
    Nothing,
    /// Owners and admins: every permission an agent does not have.
    AdminPermissions,
    /// The org requires it of everyone: every permission.
    Everything,
}

/// The authenticated caller of a request. Only [`AuthService::authenticate`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Principal {
    /// Who.
    pub user: UserId,
    /// Their org: every query the request makes is scoped to it.
    pub org: OrgId,
    /// Their role now (read on every request, so a role change applies at once).
    pub role: Role,
    /// The session.
    pub session: SessionId,
    /// The session's device.
    pub device: DeviceId,
    /// When the second factor was last verified in this session.
    pub mfa_verified_at: Option<OffsetDateTime>,
    /// Whether the user has a second factor.
    pub mfa_enrolled: bool,
    /// What is held back until they enrol one.
    pub mfa_required_for: MfaScope,
}

/// A session as its owner (or an admin) sees it.
#[derive(Debug, Clone)]
pub struct SessionView {
    /// Id.
    pub id: SessionId,
    /// Device id.
    pub device: DeviceId,
    /// Device name.
    pub device_name: Pii<String>,
    /// Signed in at.
    pub created_at: OffsetDateTime,
    /// Last activity (to within a minute).
    pub last_seen_at: OffsetDateTime,
    /// Absolute end.
    pub expires_at: OffsetDateTime,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// A user as the team list and "me" show them.
#[derive(Debug, Clone)]
pub struct UserView {
    /// Id.
    pub id: UserId,
    /// Email address.
    pub email: Pii<String>,
    /// Display name.
    pub display_name: Pii<String>,
    /// Role.
    pub role: Role,
    /// Whether they may sign in.
    pub active: bool,
    /// Whether they have a second factor.
    pub mfa_enrolled: bool,
    /// Joined at.
    pub created_at: OffsetDateTime,
}

/// A new invitation: the code is shown once, to whoever sends it on.
#[derive(Debug, Clone)]
pub struct CreatedInvitation {
    /// The invitation's id (for lists and revocation).
    pub id: InvitationId,
    /// The org.
    pub org: OrgId,
    /// The secret code.
    pub code: SecretToken,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// A pending invitation, for the admin's list.
#[derive(Debug, Clone)]
pub struct InvitationView {
    /// Id.
    pub id: InvitationId,
    /// Invited address.
    pub email: Pii<String>,
    /// Role to be granted.
    pub role: Role,
    /// Who invited (`None`: the operator).
    pub invited_by: Option<UserId>,
    /// Expires at.
    pub expires_at: OffsetDateTime,
}

/// The user an accepted invitation created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptedInvitation {
    /// The new user.
    pub user: UserId,
    /// Their org.
    pub org: OrgId,
    /// Their role.
    pub role: Role,
}

/// Recovery codes, shown once.
#[derive(Debug, Clone)]
pub struct RecoveryCodes(pub Vec<Pii<String>>);

struct Challenge {
    user: UserId,
    org: OrgId,
    key: ThrottleKey,
    device: Option<(DeviceId, TokenHash)>,
    device_name: Pii<String>,
    expires_at: i64,
    attempts: u32,
}

struct Inner {
    store: Arc<Store>,
    masters: Arc<MasterKeyring>,
    clock: Arc<dyn Clock>,
    config: AuthConfig,
    email_key: EmailIndexKey,
    hasher: Hasher,
    ip_limiter: IpLimiter,
    keyrings: Mutex<HashMap<OrgId, Arc<OrgKeyring>>>,
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

fn store_err(err: ringside_store::Error) -> AuthError {
    match err {
        ringside_store::Error::NotFound(what) => AuthError::NotFound(what),
        ringside_store::Error::LastOwner => AuthError::LastOwner,
        ringside_store::Error::Conflict(_) => AuthError::EmailUnavailable,
        other => AuthError::from(other),
    }
}

/// The back-off bucket of step-up attempts in one session's device (kept apart from sign-in
/// buckets, so guessing codes with a stolen session cannot slow the owner's sign-in down).
fn step_up_bucket(device: DeviceId) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"ringside/step-up-bucket/v1\0");
    h.update(device.as_bytes());
    h.finalize().into()
}

impl AuthService {
    /// The service, after [`AuthConfig::validate`] (a refused value is an `InvalidInput` naming
    /// nothing secret; the relay validates at start-up and says which key).
    pub fn new(
        store: Arc<Store>,
        masters: Arc<MasterKeyring>,
        clock: Arc<dyn Clock>,
        email_key: EmailIndexKey,
        config: AuthConfig,
    ) -> Result<Self, AuthError> {
        config
            .validate()
            .map_err(|_| AuthError::InvalidInput("auth configuration"))?;
        Self::with_unvalidated_config(store, masters, clock, email_key, config)
    }

    /// The service on a running relay's store: loads (or, on first start, creates) the
    /// `email-index` installation secret, then [`AuthService::new`].
    pub fn load(
        store: Arc<Store>,
        masters: Arc<MasterKeyring>,
        clock: Arc<dyn Clock>,
        config: AuthConfig,
    ) -> Result<Self, AuthError> {
        let email_key = EmailIndexKey::load(&store, &masters)?;
        Self::new(store, masters, clock, email_key, config)
    }

    /// The service without validating `config`: for tests, which use cheap password hashing.
    #[doc(hidden)]
    pub fn with_unvalidated_config(
        store: Arc<Store>,
        masters: Arc<MasterKeyring>,
        clock: Arc<dyn Clock>,
        email_key: EmailIndexKey,
        config: AuthConfig,
    ) -> Result<Self, AuthError> {
        let hasher = Hasher::new(config.password_hash)?;
        let ip_limiter = IpLimiter::new(config.ip_limit, Arc::clone(&clock));
        let (revocations, _) = broadcast::channel(REVOCATION_CHANNEL_CAPACITY);
        Ok(Self(Arc::new(Inner {
            store,
            masters,
            clock,
            config,
            email_key,
            hasher,
            ip_limiter,
            keyrings: Mutex::new(HashMap::new()),
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

    fn now(&self) -> i64 {
        self.0.clock.now().unix_timestamp()
    }

    fn store(&self) -> &Store {
        &self.0.store
    }

    fn publish(&self, org: OrgId, user: UserId, scope: RevocationScope) {
        // No subscriber yet is fine: nothing is listening, so nothing needs closing.
        let _ = self.0.revocations.send(Revocation { org, user, scope });
    }

    /// The org's data keys (cached: unwrapping costs a master-key decryption).
    fn keys(&self, org: OrgId) -> Result<Arc<OrgKeyring>, AuthError> {
        if let Some(keys) = lock(&self.0.keyrings).get(&org) {
            return Ok(Arc::clone(keys));
        }
        let keys = Arc::new(
            self.store()
                .org_keyring(org, &self.0.masters)
                .map_err(store_err)?,
        );
        lock(&self.0.keyrings).insert(org, Arc::clone(&keys));
        Ok(keys)
    }

    /// Drops a cached org keyring (after a new data-key generation was added elsewhere).
    pub fn forget_keyring(&self, org: OrgId) {
        lock(&self.0.keyrings).remove(&org);
    }

    fn check_ip(&self, ip: IpAddr) -> Result<(), AuthError> {
        self.0
            .ip_limiter
            .check(ip)
            .map_err(|retry_after| AuthError::RateLimited { retry_after })
    }

    fn mfa_scope(&self, user: &User) -> Result<MfaScope, AuthError> {
        if user.mfa_enrolled_at.is_some() {
            return Ok(MfaScope::Nothing);
        }
        if self.store().org_requires_mfa_for_all(user.org)? {
            return Ok(MfaScope::Everything);
        }
        Ok(if matches!(user.role, Role::Owner | Role::Admin) {
            MfaScope::AdminPermissions
        } else {
            MfaScope::Nothing
        })
    }

    // ---- sign-in -------------------------------------------------------------------------

    /// Signs in with email and password (and a second-factor code when the account has one).
    ///
    /// An unknown address, a wrong password and a disabled account all answer
    /// [`AuthError::InvalidCredentials`] after the same argon2id work. Attempts are refused
    /// with [`AuthError::Locked`] during back-off (without checking the password) and with
    /// [`AuthError::RateLimited`] over the per-IP limit.
    pub fn login(&self, req: &LoginRequest<'_>) -> Result<LoginOutcome, AuthError> {
        self.check_ip(req.ip)?;
        let now = self.now();
        let Ok(email) = normalize_email(req.email) else {
            // No account can have a malformed address: same answer, same cost, nothing to count.
            self.0.hasher.verify_dummy(req.password);
            return Err(AuthError::InvalidCredentials);
        };
        let subject = self.0.email_key.index(&email);
        let user = self.store().user_by_email_index(&subject)?;
        let device = match (
            &user,
            req.device
                .token
                .and_then(|t| hash_presented(TokenKind::Device, t)),
        ) {
            (Some(u), Some(hash)) => self
                .store()
                .known_device(u.org, u.id, &hash)?
                .map(|id| (id, hash)),
            _ => None,
        };
        let key = ThrottleKey {
            subject,
            bucket: device.map_or(UNKNOWN_DEVICE_BUCKET, |(_, h)| h.0),
        };
        let attempt = self.audit_for(user.as_ref(), "auth.login", req.ip);
        self.check_throttle(&key, now, &attempt)?;

        let password_ok = match &user {
            Some(u) => self.0.hasher.verify(&u.password_hash, req.password),
            None => self.0.hasher.verify_dummy(req.password),
        };
        let user = match user {
            Some(u) if password_ok && u.status == UserStatus::Active => u,
            _ => {
                self.record_failure(&key, now, attempt.failed().detail("reason", "credentials"))?;
                return Err(AuthError::InvalidCredentials);
            }
        };
        if self.0.hasher.needs_rehash(&user.password_hash) {
            let fresh = self.0.hasher.hash(req.password)?;
            let audit = entry(
                Some(user.org),
                Actor::system("auth"),
                "user.password_rehash",
                "user",
                user.id,
            );
            self.store()
                .set_password_hash(user.org, user.id, &fresh, now, &audit)?;
        }

        let mut mfa_verified = false;
        if user.mfa_enrolled_at.is_some() {
            match req.second_factor {
                Some(code) => {
                    if !self.verify_factor(&user, code, now, req.ip)? {
                        let audit = self
                            .audit_for(Some(&user), "auth.second_factor", req.ip)
                            .failed();
                        self.record_failure(&key, now, audit)?;
                        return Err(AuthError::InvalidSecondFactor);
                    }
                    mfa_verified = true;
                }
                None => return Ok(self.new_challenge(&user, key, device, req.device.name, now)),
            }
        }
        self.store().clear_throttle_bucket(&key)?;
        let tokens =
            self.open_session(&user, device, req.device.name, mfa_verified, now, req.ip)?;
        Ok(LoginOutcome::SignedIn(Box::new(tokens)))
    }

    /// Completes a sign-in that answered [`LoginOutcome::NeedsSecondFactor`] with a TOTP code or
    /// a recovery code. A wrong code counts as a failed sign-in (same back-off); after
    /// `challenge_attempts` wrong codes, or once expired, the challenge is void
    /// ([`AuthError::Unauthenticated`]: sign in again).
    pub fn verify_second_factor(
        &self,
        challenge: &str,
        code: &str,
        ip: IpAddr,
    ) -> Result<Tokens, AuthError> {
        self.check_ip(ip)?;
        let now = self.now();
        let hash =
            hash_presented(TokenKind::Challenge, challenge).ok_or(AuthError::Unauthenticated)?;
        let (user_id, org, key, device, device_name) = {
            let mut challenges = lock(&self.0.challenges);
            challenges.retain(|_, c| c.expires_at > now);
            let c = challenges
                .get_mut(&hash)
                .ok_or(AuthError::Unauthenticated)?;
            c.attempts += 1;
            (c.user, c.org, c.key, c.device, c.device_name.clone())
        };
        let user = self.store().user(org, user_id).map_err(store_err)?;
        let attempt = self.audit_for(Some(&user), "auth.second_factor", ip);
        self.check_throttle(&key, now, &attempt)?;
        if user.status != UserStatus::Active {
            lock(&self.0.challenges).remove(&hash);
            return Err(AuthError::InvalidCredentials);
        }
        if !self.verify_factor(&user, code, now, ip)? {
            self.record_failure(&key, now, attempt.failed())?;
            let mut challenges = lock(&self.0.challenges);
            if challenges
                .get(&hash)
                .is_some_and(|c| c.attempts >= self.0.config.challenge_attempts)
            {
                challenges.remove(&hash);
            }
            return Err(AuthError::InvalidSecondFactor);
        }
        lock(&self.0.challenges).remove(&hash);
        self.store().clear_throttle_bucket(&key)?;
        self.open_session(&user, device, device_name.expose(), true, now, ip)
    }

    fn new_challenge(
        &self,
        user: &User,
        key: ThrottleKey,
        device: Option<(DeviceId, TokenHash)>,
        device_name: &str,
        now: i64,
    ) -> LoginOutcome {
        let token = SecretToken::generate(TokenKind::Challenge);
        let expires_at = now + secs(self.0.config.challenge_ttl);
        let mut challenges = lock(&self.0.challenges);
        challenges.retain(|_, c| c.expires_at > now);
        challenges.insert(
            token.hash(),
            Challenge {
                user: user.id,
                org: user.org,
                key,
                device,
                device_name: Pii::new(device_name.to_owned()),
                expires_at,
                attempts: 0,
            },
        );
        LoginOutcome::NeedsSecondFactor {
            challenge: token,
            expires_at: at(expires_at),
        }
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
        let state = self.store().throttle_state(key)?;
        let window = self
            .store()
            .failures_since(&key.subject, now - secs(CEILING_WINDOW))?;
        if let Err(retry_after) = self.0.config.lockout.check(state, window, now) {
            self.store()
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
        self.store().record_login_failure(
            key,
            now,
            now - secs(CEILING_WINDOW),
            |previous| policy.after_failure(previous, now),
            &audit,
        )?;
        Ok(())
    }

    /// Checks a TOTP code (accepted once: its step must be after the last accepted one) or a
    /// recovery code (used up). `Ok(false)` for anything that is not a valid, unused code.
    fn verify_factor(
        &self,
        user: &User,
        code: &str,
        now: i64,
        ip: IpAddr,
    ) -> Result<bool, AuthError> {
        let trimmed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if trimmed.len() == totp::DIGITS && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            let keys = self.keys(user.org)?;
            let Some(secret) = self.store().totp_secret(user.org, user.id, &keys)? else {
                return Ok(false);
            };
            return match totp::matching_step(&secret, &trimmed, now)? {
                Some(step) => Ok(self.store().accept_totp_step(user.org, user.id, step)?),
                None => Ok(false),
            };
        }
        let Some(hash) = totp::hash_recovery_code(code) else {
            return Ok(false);
        };
        let used = self
            .store()
            .use_recovery_code(user.org, user.id, &hash, now)?;
        if used {
            let left = self.store().recovery_codes_left(user.org, user.id)?;
            self.store().record_audit(
                &self
                    .audit_for(Some(user), "user.recovery_code_use", ip)
                    .count("codes_left", u64::from(left)),
            )?;
        }
        Ok(used)
    }

    fn open_session(
        &self,
        user: &User,
        device: Option<(DeviceId, TokenHash)>,
        device_name: &str,
        mfa_verified: bool,
        now: i64,
        ip: IpAddr,
    ) -> Result<Tokens, AuthError> {
        let name: String = device_name
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let (device_id, device_token) = match device {
            Some((id, hash)) => {
                self.store()
                    .remember_device(user.org, user.id, id, &hash, now)?;
                (id, None)
            }
            None => {
                let token = SecretToken::generate(TokenKind::Device);
                let id = DeviceId::random();
                self.store()
                    .remember_device(user.org, user.id, id, &token.hash(), now)?;
                (id, Some(token))
            }
        };
        let c = &self.0.config;
        let id = SessionId::random();
        let access = SecretToken::generate(TokenKind::Access);
        let refresh = SecretToken::generate(TokenKind::Refresh);
        let absolute = now + secs(c.absolute_timeout);
        let access_expires = (now + secs(c.access_ttl)).min(absolute);
        let keys = self.keys(user.org)?;
        let audit = self
            .audit_for(Some(user), "auth.login", ip)
            .detail("session", id)
            .flag("second_factor", mfa_verified);
        self.store()
            .create_session(
                &NewSession {
                    id,
                    org: user.org,
                    user: user.id,
                    device: device_id,
                    device_name: Pii::new(name),
                    access_hash: access.hash(),
                    access_expires_at: access_expires,
                    refresh_hash: refresh.hash(),
                    created_at: now,
                    absolute_expires_at: absolute,
                    mfa_verified_at: mfa_verified.then_some(now),
                },
                &keys,
                &audit,
            )
            .map_err(store_err)?;
        Ok(Tokens {
            session: id,
            user: user.id,
            org: user.org,
            role: user.role,
            access_token: access,
            access_expires_at: at(access_expires),
            refresh_token: refresh,
            refresh_expires_at: at((now + secs(c.idle_timeout)).min(absolute)),
            session_expires_at: at(absolute),
            device_token,
            mfa_enrolled: user.mfa_enrolled_at.is_some(),
            mfa_required_for: self.mfa_scope(user)?,
        })
    }

    // ---- tokens --------------------------------------------------------------------------

    /// Exchanges a refresh token for a new pair; the old refresh token is void from now on.
    /// Presenting a refresh token that was already used revokes the whole session (family):
    /// one of the two holders is not its owner.
    pub fn refresh(&self, refresh_token: &str, ip: IpAddr) -> Result<Tokens, AuthError> {
        let now = self.now();
        let hash =
            hash_presented(TokenKind::Refresh, refresh_token).ok_or(AuthError::Unauthenticated)?;
        let session = match self.store().session_by_refresh_hash(&hash)? {
            RefreshLookup::Unknown => return Err(AuthError::Unauthenticated),
            RefreshLookup::Retired(session) => {
                self.revoke_family_for_reuse(&session, now, ip)?;
                return Err(AuthError::SessionRevoked);
            }
            RefreshLookup::Current(session) => session,
        };
        self.check_live(&session, now)?;
        let user = self
            .store()
            .user(session.org, session.user)
            .map_err(store_err)?;
        if user.status != UserStatus::Active {
            return Err(AuthError::SessionRevoked);
        }
        let c = &self.0.config;
        let access = SecretToken::generate(TokenKind::Access);
        let refresh = SecretToken::generate(TokenKind::Refresh);
        let access_expires = (now + secs(c.access_ttl)).min(session.absolute_expires_at);
        let audit = entry(
            Some(session.org),
            Actor::user(session.user),
            "auth.refresh",
            "session",
            session.id,
        )
        .from_ip(Some(ip));
        let rotated = self.store().rotate_session(
            session.org,
            session.id,
            &hash,
            &Rotation {
                access_hash: access.hash(),
                access_expires_at: access_expires,
                refresh_hash: refresh.hash(),
                now,
            },
            &audit,
        )?;
        if !rotated {
            // Another refresh with this same token won the race: it is now a retired token.
            self.revoke_family_for_reuse(&session, now, ip)?;
            return Err(AuthError::SessionRevoked);
        }
        Ok(Tokens {
            session: session.id,
            user: user.id,
            org: user.org,
            role: user.role,
            access_token: access,
            access_expires_at: at(access_expires),
            refresh_token: refresh,
            refresh_expires_at: at((now + secs(c.idle_timeout)).min(session.absolute_expires_at)),
            session_expires_at: at(session.absolute_expires_at),
            device_token: None,
            mfa_enrolled: user.mfa_enrolled_at.is_some(),
            mfa_required_for: self.mfa_scope(&user)?,
        })
    }

    fn revoke_family_for_reuse(
        &self,
        session: &Session,
        now: i64,
        ip: IpAddr,
    ) -> Result<(), AuthError> {
        if session.revoked_at.is_some() {
            return Ok(());
        }
        let audit = entry(
            Some(session.org),
            Actor::anonymous(),
            "session.revoke",
            "session",
            session.id,
        )
        .from_ip(Some(ip))
        .detail("reason", RevokeReason::RefreshReuse.as_str())
        .detail("user", session.user);
        if self
            .store()
            .revoke_session(
                session.org,
                session.id,
                RevokeReason::RefreshReuse,
                now,
                &audit,
            )
            .map_err(store_err)?
            .is_some()
        {
            tracing::warn!(session = %session.id, user = %session.user, "refresh token reused: session revoked");
            self.publish(
                session.org,
                session.user,
                RevocationScope::Session(session.id),
            );
        }
        Ok(())
    }

    fn check_live(&self, session: &Session, now: i64) -> Result<(), AuthError> {
        if session.revoked_at.is_some() {
            return Err(AuthError::SessionRevoked);
        }
        if now >= session.absolute_expires_at
            || now - session.last_seen_at >= secs(self.0.config.idle_timeout)
        {
            return Err(AuthError::SessionExpired);
        }
        Ok(())
    }

    /// The caller behind an access token. Refused once the access token, the idle timeout or the
    /// absolute lifetime has run out ([`AuthError::SessionExpired`]), or the session was ended
    /// or the user disabled ([`AuthError::SessionRevoked`]). The role is read now, so role
    /// changes apply to the very next request.
    pub fn authenticate(&self, access_token: &str) -> Result<Principal, AuthError> {
        let now = self.now();
        let hash =
            hash_presented(TokenKind::Access, access_token).ok_or(AuthError::Unauthenticated)?;
        let session = self
            .store()
            .session_by_access_hash(&hash)?
            .ok_or(AuthError::Unauthenticated)?;
        self.check_live(&session, now)?;
        if now >= session.access_expires_at {
            return Err(AuthError::SessionExpired);
        }
        let user = self
            .store()
            .user(session.org, session.user)
            .map_err(store_err)?;
        if user.status != UserStatus::Active {
            return Err(AuthError::SessionRevoked);
        }
        if now - session.last_seen_at >= secs(self.0.config.touch_interval) {
            self.store().touch_session(session.id, now)?;
        }
        Ok(Principal {
            user: user.id,
            org: user.org,
            role: user.role,
            session: session.id,
            device: session.device,
            mfa_verified_at: session.mfa_verified_at.map(at),
            mfa_enrolled: user.mfa_enrolled_at.is_some(),
            mfa_required_for: self.mfa_scope(&user)?,
        })
    }

    /// Whether `principal` may use `permission` now: the role must hold it; without an enrolled
    /// second factor, owners and admins may use only what agents may (and nothing, if the org
    /// requires it of everyone); permissions marked in the matrix need the second factor
    /// verified within `step_up_window`. Refusals are audited.
    pub fn authorize(
        &self,
        principal: &Principal,
        permission: Permission,
    ) -> Result<(), AuthError> {
        self.authorize_with(
            principal,
            permission,
            permission.requires_recent_second_factor(),
        )
    }

    /// [`AuthService::authorize`] for read-only use of a permission (listing the team): the
    /// same checks except the recent second factor, which guards changes.
    pub fn authorize_read(
        &self,
        principal: &Principal,
        permission: Permission,
    ) -> Result<(), AuthError> {
        self.authorize_with(principal, permission, false)
    }

    fn authorize_with(
        &self,
        p: &Principal,
        permission: Permission,
        step_up: bool,
    ) -> Result<(), AuthError> {
        let result = if !p.role.allows(permission) {
            Err(AuthError::Forbidden)
        } else if !p.mfa_enrolled
            && match p.mfa_required_for {
                MfaScope::Nothing => false,
                MfaScope::AdminPermissions => !Role::Agent.allows(permission),
                MfaScope::Everything => true,
            }
        {
            Err(AuthError::MfaEnrollmentRequired)
        } else if step_up && !self.recently_verified(p) {
            Err(if p.mfa_enrolled {
                AuthError::StepUpRequired
            } else {
                AuthError::MfaEnrollmentRequired
            })
        } else {
            Ok(())
        };
        if let Err(err) = &result {
            self.store().record_audit(
                &entry(
                    Some(p.org),
                    Actor::user(p.user),
                    "authz.check",
                    "permission",
                    permission,
                )
                .denied()
                .detail("reason", err.code()),
            )?;
        }
        result
    }

    fn recently_verified(&self, p: &Principal) -> bool {
        p.mfa_verified_at.is_some_and(|t| {
            let age = self.0.clock.now() - t;
            age >= time::Duration::ZERO && age <= self.0.config.step_up_window
        })
    }

    /// Checks `permission` and that the caller may manage `target` (`Role::can_manage`), in the
    /// caller's org. A user of another org is "not found".
    fn manage_target(
        &self,
        p: &Principal,
        target: UserId,
        permission: Permission,
    ) -> Result<User, AuthError> {
        self.authorize(p, permission)?;
        let user = self.store().user(p.org, target).map_err(store_err)?;
        if !p.role.can_manage(user.role) {
            return Err(AuthError::Forbidden);
        }
        Ok(user)
    }

    // ---- sessions ------------------------------------------------------------------------

    /// Ends the caller's session.
    pub fn logout(&self, p: &Principal) -> Result<(), AuthError> {
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "auth.logout",
            "session",
            p.session,
        );
        if self
            .store()
            .revoke_session(p.org, p.session, RevokeReason::Logout, self.now(), &audit)
            .map_err(store_err)?
            .is_some()
        {
            self.publish(p.org, p.user, RevocationScope::Session(p.session));
        }
        Ok(())
    }

    /// The caller's live sessions, newest first.
    pub fn list_sessions(&self, p: &Principal) -> Result<Vec<SessionView>, AuthError> {
        self.sessions_view(p, p.user)
    }

    /// A user's live sessions (admins; read-only).
    pub fn list_user_sessions(
        &self,
        p: &Principal,
        user: UserId,
    ) -> Result<Vec<SessionView>, AuthError> {
        self.authorize_read(p, Permission::ManageTeam)?;
        let target = self.store().user(p.org, user).map_err(store_err)?;
        if !p.role.can_manage(target.role) && target.id != p.user {
            return Err(AuthError::Forbidden);
        }
        self.sessions_view(p, user)
    }

    fn sessions_view(&self, p: &Principal, user: UserId) -> Result<Vec<SessionView>, AuthError> {
        let keys = self.keys(p.org)?;
        let sessions = self
            .store()
            .sessions_of_user(p.org, user, self.now(), &keys)
            .map_err(store_err)?;
        Ok(sessions
            .into_iter()
            .map(|s| SessionView {
                id: s.session.id,
                device: s.session.device,
                device_name: s.device_name,
                created_at: at(s.session.created_at),
                last_seen_at: at(s.session.last_seen_at),
                expires_at: at(s.session.absolute_expires_at),
                current: s.session.id == p.session,
            })
            .collect())
    }

    /// Ends one session: the caller's own, or (with `manage_team` over its user) anyone's in the
    /// org. Another org's session is "not found".
    pub fn revoke_session(&self, p: &Principal, session: SessionId) -> Result<(), AuthError> {
        let target = self.store().session(p.org, session).map_err(store_err)?;
        let reason = if target.user == p.user {
            RevokeReason::RevokedByUser
        } else {
            self.manage_target(p, target.user, Permission::ManageTeam)?;
            RevokeReason::RevokedByAdmin
        };
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "session.revoke",
            "session",
            session,
        )
        .detail("reason", reason.as_str());
        if self
            .store()
            .revoke_session(p.org, session, reason, self.now(), &audit)
            .map_err(store_err)?
            .is_some()
        {
            self.publish(p.org, target.user, RevocationScope::Session(session));
        }
        Ok(())
    }

    /// Ends every session of the caller except the current one (after changing a factor,
    /// ASVS 7.4.3). Returns how many ended.
    pub fn revoke_other_sessions(&self, p: &Principal) -> Result<usize, AuthError> {
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "session.revoke_others",
            "user",
            p.user,
        );
        let ended = self.store().revoke_user_sessions(
            p.org,
            p.user,
            RevokeReason::RevokedByUser,
            self.now(),
            Some(p.session),
            &audit,
        )?;
        for id in &ended {
            self.publish(p.org, p.user, RevocationScope::Session(*id));
        }
        Ok(ended.len())
    }

    /// Ends every session of a user of the org (admins, ASVS 7.4.5). Returns how many ended.
    pub fn revoke_user_sessions(&self, p: &Principal, user: UserId) -> Result<usize, AuthError> {
        self.manage_target(p, user, Permission::ManageTeam)?;
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "session.revoke_all",
            "user",
            user,
        );
        let ended = self.store().revoke_user_sessions(
            p.org,
            user,
            RevokeReason::RevokedByAdmin,
            self.now(),
            None,
            &audit,
        )?;
        self.publish(p.org, user, RevocationScope::AllSessions);
        Ok(ended.len())
    }

    // ---- team ----------------------------------------------------------------------------

    /// Disables a user: they cannot sign in, and every session of theirs ends at once (in the
    /// same transaction) and is announced on the revocation channel (ASVS 7.4.2).
    pub fn disable_user(&self, p: &Principal, user: UserId) -> Result<(), AuthError> {
        self.manage_target(p, user, Permission::ManageTeam)?;
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "user.disable",
            "user",
            user,
        );
        let ended = self
            .store()
            .set_user_status(p.org, user, UserStatus::Disabled, self.now(), &audit)
            .map_err(store_err)?;
        tracing::info!(%user, sessions = ended.len(), "user disabled; sessions ended");
        self.publish(p.org, user, RevocationScope::AllSessions);
        Ok(())
    }

    /// Re-enables a disabled user.
    pub fn enable_user(&self, p: &Principal, user: UserId) -> Result<(), AuthError> {
        self.manage_target(p, user, Permission::ManageTeam)?;
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "user.enable",
            "user",
            user,
        );
        self.store()
            .set_user_status(p.org, user, UserStatus::Active, self.now(), &audit)
            .map_err(store_err)?;
        Ok(())
    }

    /// Clears a user's sign-in back-off (every bucket and the hourly count).
    pub fn unlock_user(&self, p: &Principal, user: UserId) -> Result<(), AuthError> {
        let target = self.manage_target(p, user, Permission::ManageTeam)?;
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "user.unlock",
            "user",
            user,
        );
        self.store()
            .clear_login_throttle(&target.email_index, &audit)?;
        Ok(())
    }

    /// Changes a user's role. The caller must be able to manage both the current and the new
    /// role (an admin can neither touch an owner nor make one), and the org keeps at least one
    /// active owner.
    pub fn set_role(&self, p: &Principal, user: UserId, role: Role) -> Result<(), AuthError> {
        let target = self.manage_target(p, user, Permission::ManageTeam)?;
        if !p.role.can_manage(role) {
            return Err(AuthError::Forbidden);
        }
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "user.role_change",
            "user",
            user,
        )
        .detail("from", target.role)
        .detail("to", role);
        self.store()
            .set_user_role(p.org, user, role, self.now(), &audit)
            .map_err(store_err)
    }

    /// Removes a user's second factor (lost phone); they must enrol again, and their sessions
    /// end.
    pub fn reset_second_factor(&self, p: &Principal, user: UserId) -> Result<(), AuthError> {
        self.manage_target(p, user, Permission::ManageTeam)?;
        let now = self.now();
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "user.mfa_reset",
            "user",
            user,
        );
        self.store()
            .remove_totp(p.org, user, now, &audit)
            .map_err(store_err)?;
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "session.revoke_all",
            "user",
            user,
        )
        .detail("reason", RevokeReason::CredentialsChanged.as_str());
        self.store().revoke_user_sessions(
            p.org,
            user,
            RevokeReason::CredentialsChanged,
            now,
            None,
            &audit,
        )?;
        self.publish(p.org, user, RevocationScope::AllSessions);
        Ok(())
    }

    /// Sets whether everyone in the org (not only owners and admins) must enrol a second factor.
    pub fn set_org_mfa_policy(
        &self,
        p: &Principal,
        require_for_all: bool,
    ) -> Result<(), AuthError> {
        self.authorize(p, Permission::ManageTeam)?;
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "org.mfa_policy",
            "org",
            p.org,
        )
        .flag("require_for_all", require_for_all);
        self.store()
            .set_org_requires_mfa_for_all(p.org, require_for_all, self.now(), &audit)?;
        Ok(())
    }

    /// The caller's own profile.
    pub fn me(&self, p: &Principal) -> Result<UserView, AuthError> {
        let keys = self.keys(p.org)?;
        let profile = self
            .store()
            .user_profile(p.org, p.user, &keys)
            .map_err(store_err)?;
        Ok(user_view(profile))
    }

    /// Everyone in the caller's org (admins). A read of personal data, so it is audited.
    pub fn list_users(&self, p: &Principal) -> Result<Vec<UserView>, AuthError> {
        self.authorize_read(p, Permission::ManageTeam)?;
        let keys = self.keys(p.org)?;
        let users = self.store().users(p.org, &keys)?;
        self.store().record_audit(
            &entry(Some(p.org), Actor::user(p.user), "user.list", "org", p.org)
                .count("count", u64::try_from(users.len()).unwrap_or(u64::MAX)),
        )?;
        Ok(users.into_iter().map(user_view).collect())
    }

    // ---- invitations ---------------------------------------------------------------------

    /// Invites `email` into the caller's org with `role` (which the caller must be able to
    /// grant). [`AuthError::EmailUnavailable`] if the address already belongs to a user.
    pub fn create_invitation(
        &self,
        p: &Principal,
        email: &str,
        role: Role,
    ) -> Result<CreatedInvitation, AuthError> {
        self.authorize(p, Permission::ManageTeam)?;
        if !p.role.can_manage(role) {
            return Err(AuthError::Forbidden);
        }
        self.invite(p.org, email, role, Some(p.user), Actor::user(p.user))
    }

    /// Invites `email` as the operator on the relay's command line (no signed-in caller): how
    /// the first owner of an org gets in.
    pub fn invite_as_operator(
        &self,
        org: OrgId,
        email: &str,
        role: Role,
    ) -> Result<CreatedInvitation, AuthError> {
        self.store().org(org).map_err(store_err)?;
        self.invite(org, email, role, None, Actor::system("cli"))
    }

    fn invite(
        &self,
        org: OrgId,
        email: &str,
        role: Role,
        invited_by: Option<UserId>,
        actor: Actor,
    ) -> Result<CreatedInvitation, AuthError> {
        let email = normalize_email(email)?;
        let email_index: EmailIndex = self.0.email_key.index(&email);
        let now = self.now();
        let code = SecretToken::generate(TokenKind::Invitation);
        let id = InvitationId::random();
        let expires_at = now + secs(self.0.config.invitation_ttl);
        let keys = self.keys(org)?;
        let audit =
            entry(Some(org), actor, "invitation.create", "invitation", id).detail("role", role);
        self.store()
            .create_invitation(
                &NewInvitation {
                    id,
                    org,
                    code_hash: code.hash(),
                    email,
                    email_index,
                    role,
                    invited_by,
                    created_at: now,
                    expires_at,
                },
                &keys,
                &audit,
            )
            .map_err(store_err)?;
        Ok(CreatedInvitation {
            id,
            org,
            code,
            expires_at: at(expires_at),
        })
    }

    /// Whether an address already belongs to a user (in any org). For the operator's CLI, which
    /// is trusted with the whole installation; the API never answers this question.
    pub fn email_in_use(&self, email: &str) -> Result<bool, AuthError> {
        let email = normalize_email(email)?;
        Ok(self
            .store()
            .email_index_in_use(&self.0.email_key.index(&email))?)
    }

    /// The org's invitations that can still be accepted.
    pub fn list_invitations(&self, p: &Principal) -> Result<Vec<InvitationView>, AuthError> {
        self.authorize_read(p, Permission::ManageTeam)?;
        let keys = self.keys(p.org)?;
        Ok(self
            .store()
            .pending_invitations(p.org, self.now(), &keys)?
            .into_iter()
            .map(|i| InvitationView {
                id: i.invitation.id,
                email: i.email,
                role: i.invitation.role,
                invited_by: i.invitation.invited_by,
                expires_at: at(i.invitation.expires_at),
            })
            .collect())
    }

    /// Revokes a pending invitation of the caller's org.
    pub fn revoke_invitation(&self, p: &Principal, id: InvitationId) -> Result<(), AuthError> {
        self.authorize(p, Permission::ManageTeam)?;
        let invitation: Invitation = self.store().invitation(p.org, id).map_err(store_err)?;
        if !p.role.can_manage(invitation.role) {
            return Err(AuthError::Forbidden);
        }
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "invitation.revoke",
            "invitation",
            id,
        );
        self.store()
            .revoke_invitation(p.org, id, self.now(), &audit)
            .map_err(store_err)
    }

    /// Accepts an invitation: sets the display name and password and creates the user. The code
    /// is then used up. Unknown, used, revoked and expired codes are one answer,
    /// [`AuthError::InvitationInvalid`]; a refused password is [`AuthError::WeakPassword`] and
    /// leaves the code usable.
    pub fn accept_invitation(
        &self,
        code: &str,
        display_name: &str,
        password: &str,
        ip: IpAddr,
    ) -> Result<AcceptedInvitation, AuthError> {
        self.check_ip(ip)?;
        let now = self.now();
        let anonymous = entry(
            None,
            Actor::anonymous(),
            "invitation.accept",
            "invitation",
            "unknown",
        )
        .from_ip(Some(ip))
        .failed();
        let hash = hash_presented(TokenKind::Invitation, code);
        let invitation = match hash {
            Some(h) => self.store().invitation_by_code(&h)?,
            None => None,
        };
        let (Some(hash), Some(invitation)) = (hash, invitation) else {
            self.store().record_audit(&anonymous)?;
            return Err(AuthError::InvitationInvalid);
        };
        if !invitation.is_usable(now) {
            let mut audit = anonymous;
            audit.org = Some(invitation.org);
            audit.resource_id = Some(invitation.id.to_string());
            self.store().record_audit(&audit)?;
            return Err(AuthError::InvitationInvalid);
        }
        let name = display_name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_DISPLAY_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(AuthError::InvalidInput("display_name"));
        }
        let keys = self.keys(invitation.org)?;
        let email = self
            .store()
            .invitation_email(invitation.org, invitation.id, &keys)
            .map_err(store_err)?;
        check_password(password, &email).map_err(AuthError::WeakPassword)?;
        let password_hash = self.0.hasher.hash(password)?;
        let user = UserId::random();
        let audit = entry(
            Some(invitation.org),
            Actor::user(user),
            "invitation.accept",
            "invitation",
            invitation.id,
        )
        .from_ip(Some(ip))
        .detail("user", user)
        .detail("role", invitation.role);
        let created = self
            .store()
            .accept_invitation(
                &hash,
                now,
                &NewUser {
                    id: user,
                    org: invitation.org,
                    email,
                    email_index: invitation.email_index,
                    display_name: Pii::new(name.to_owned()),
                    role: invitation.role,
                    password_hash,
                },
                &keys,
                &audit,
            )
            .map_err(|e| match e {
                ringside_store::Error::NotFound(_) => AuthError::InvitationInvalid,
                other => store_err(other),
            })?;
        Ok(AcceptedInvitation {
            user: created.id,
            org: created.org,
            role: created.role,
        })
    }

    /// [`AuthService::accept_invitation`], then a session on the named device: the invitee has
    /// just proved the code and chosen the password, so asking for it again adds nothing. A new
    /// user has no second factor, so this is exactly the session a sign-in would open (with the
    /// permissions enrolment unlocks still held back).
    pub fn accept_invitation_and_sign_in(
        &self,
        code: &str,
        display_name: &str,
        password: &str,
        device_name: &str,
        ip: IpAddr,
    ) -> Result<Tokens, AuthError> {
        let accepted = self.accept_invitation(code, display_name, password, ip)?;
        let user = self
            .store()
            .user(accepted.org, accepted.user)
            .map_err(store_err)?;
        self.open_session(&user, None, device_name, false, self.now(), ip)
    }

    // ---- second factor -------------------------------------------------------------------

    /// Starts TOTP enrolment: a new secret, pending until [`AuthService::confirm_totp`]. Replacing
    /// an enrolled factor needs a recent second factor (ASVS 7.5.1); the old one keeps working
    /// until the new one is confirmed.
    pub fn enroll_totp(&self, p: &Principal) -> Result<Provisioning, AuthError> {
        if p.mfa_enrolled && !self.recently_verified(p) {
            return Err(AuthError::StepUpRequired);
        }
        let keys = self.keys(p.org)?;
        let profile = self
            .store()
            .user_profile(p.org, p.user, &keys)
            .map_err(store_err)?;
        let secret = totp::new_secret();
        let provisioning = totp::provisioning(&secret, &profile.email)?;
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "user.mfa_enroll_start",
            "user",
            p.user,
        );
        self.store()
            .set_pending_totp(p.org, p.user, &secret, self.now(), &keys, &audit)
            .map_err(store_err)?;
        Ok(provisioning)
    }

    /// Confirms enrolment with a first code from the app; returns ten recovery codes (shown
    /// once). The session counts as second-factor verified from now.
    pub fn confirm_totp(&self, p: &Principal, code: &str) -> Result<RecoveryCodes, AuthError> {
        let now = self.now();
        let keys = self.keys(p.org)?;
        let pending = self
            .store()
            .pending_totp(p.org, p.user, &keys)
            .map_err(store_err)?
            .ok_or(AuthError::NoPendingEnrollment)?;
        if now - pending.created_at > secs(self.0.config.enrollment_ttl) {
            return Err(AuthError::NoPendingEnrollment);
        }
        let Some(step) = totp::matching_step(&pending.secret, code, now)? else {
            return Err(AuthError::InvalidSecondFactor);
        };
        let (codes, hashes) = totp::new_recovery_codes();
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "user.mfa_enroll",
            "user",
            p.user,
        );
        self.store()
            .confirm_totp(
                p.org,
                p.user,
                &TotpConfirmation {
                    step,
                    recovery: &hashes,
                    now,
                },
                &keys,
                &audit,
            )
            .map_err(|e| match e {
                ringside_store::Error::NotFound(_) => AuthError::NoPendingEnrollment,
                other => store_err(other),
            })?;
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "auth.step_up",
            "session",
            p.session,
        );
        self.store()
            .mark_session_mfa_verified(p.org, p.session, now, &audit)
            .map_err(store_err)?;
        Ok(RecoveryCodes(codes))
    }

    /// Step-up: verifies a TOTP or recovery code in the current session, which then counts as
    /// second-factor verified for `step_up_window`. Wrong codes are throttled like sign-ins, in
    /// a bucket of this device's own.
    pub fn verify_step_up(&self, p: &Principal, code: &str, ip: IpAddr) -> Result<(), AuthError> {
        let now = self.now();
        let user = self.store().user(p.org, p.user).map_err(store_err)?;
        if user.mfa_enrolled_at.is_none() {
            return Err(AuthError::MfaEnrollmentRequired);
        }
        let key = ThrottleKey {
            subject: user.email_index,
            bucket: step_up_bucket(p.device),
        };
        let attempt = self.audit_for(Some(&user), "auth.step_up", ip);
        self.check_throttle(&key, now, &attempt)?;
        if !self.verify_factor(&user, code, now, ip)? {
            self.record_failure(&key, now, attempt.failed())?;
            return Err(AuthError::InvalidSecondFactor);
        }
        self.store().clear_throttle_bucket(&key)?;
        self.store()
            .mark_session_mfa_verified(p.org, p.session, now, &attempt)
            .map_err(store_err)
    }

    /// Changes the caller's password (ASVS 6.2.2, 6.2.3): the current password is required and
    /// wrong guesses are throttled like step-up codes; the new one must pass the policy. Every
    /// other session of the user ends (the current one stays), and the revocations are
    /// published. Returns how many sessions ended.
    pub fn change_password(
        &self,
        p: &Principal,
        current: &str,
        new: &str,
        ip: IpAddr,
    ) -> Result<usize, AuthError> {
        let now = self.now();
        let user = self.store().user(p.org, p.user).map_err(store_err)?;
        let key = ThrottleKey {
            subject: user.email_index,
            bucket: step_up_bucket(p.device),
        };
        let attempt = self.audit_for(Some(&user), "user.password_change", ip);
        self.check_throttle(&key, now, &attempt)?;
        if !self.0.hasher.verify(&user.password_hash, current) {
            self.record_failure(&key, now, attempt.failed())?;
            return Err(AuthError::InvalidCredentials);
        }
        let keys = self.keys(p.org)?;
        let profile = self
            .store()
            .user_profile(p.org, p.user, &keys)
            .map_err(store_err)?;
        check_password(new, &profile.email).map_err(AuthError::WeakPassword)?;
        let hash = self.0.hasher.hash(new)?;
        self.store().clear_throttle_bucket(&key)?;
        self.store()
            .set_password_hash(p.org, p.user, &hash, now, &attempt)
            .map_err(store_err)?;
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "session.revoke_others",
            "user",
            p.user,
        )
        .detail("reason", RevokeReason::CredentialsChanged.as_str());
        let ended = self.store().revoke_user_sessions(
            p.org,
            p.user,
            RevokeReason::CredentialsChanged,
            now,
            Some(p.session),
            &audit,
        )?;
        for id in &ended {
            self.publish(p.org, p.user, RevocationScope::Session(*id));
        }
        Ok(ended.len())
    }

    // ---- hygiene -------------------------------------------------------------------------

    /// Removes what has run its course: sessions ended over a day ago, devices unused for
    /// `device_ttl`, invitations finished over a day ago, quiet back-off state, idle per-IP
    /// counters. DESIGN §2 step 8 runs this at start-up and hourly.
    pub fn purge_expired(&self) -> Result<IdentityPurge, AuthError> {
        let now = self.now();
        let day = 24 * 3600;
        let purge = self.store().purge_identity(
            now - day,
            now - secs(self.0.config.device_ttl),
            now - day,
        )?;
        self.store().prune_login_throttle(
            now - secs(CEILING_WINDOW),
            now - secs(self.0.config.lockout.forget_after),
        )?;
        self.0.ip_limiter.forget_idle();
        lock(&self.0.challenges).retain(|_, c| c.expires_at > now);
        Ok(purge)
    }
}

fn user_view(profile: ringside_store::UserProfile) -> UserView {
    UserView {
        id: profile.user.id,
        email: profile.email,
        display_name: profile.display_name,
        role: profile.user.role,
        active: profile.user.status == UserStatus::Active,
        mfa_enrolled: profile.user.mfa_enrolled_at.is_some(),
        created_at: at(profile.user.created_at),
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

    #[test]
    fn step_up_buckets_differ_per_device_and_from_the_unknown_bucket() {
        let a = step_up_bucket(DeviceId::random());
        let b = step_up_bucket(DeviceId::random());
        assert_ne!(a, b, "each device has its own bucket");
        assert_ne!(a, UNKNOWN_DEVICE_BUCKET);
    }
}
