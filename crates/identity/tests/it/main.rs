//! The identity core (`ringside_identity`) end to end on real SQLite files and a fake clock:
//! every timeout, back-off and expiry is exercised at its real value by moving the clock, never
//! by sleeping.

// Test helpers panic on failure: that is how a test reports it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Back-off, the hourly ceiling, the per-IP limit, and the owner never locked out.
mod lockout;
/// Personal data sealed in the file and absent from logs and error messages.
mod privacy;
/// TOTP enrolment, the ±1 step window, replay, recovery codes, step-up.
mod second_factor;
/// Token lifetimes, idle and absolute timeouts, refresh rotation and reuse, revocation.
mod sessions;
/// Invitations, passwords, sign-in and its identical answers.
mod signin;
/// Roles, the last owner, disabling, org isolation.
mod team;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use ringside_core::{FakeClock, OrgId, Role, UserId};
use ringside_identity::{
    AcceptedInvitation, AuthConfig, AuthError, AuthService, CreatedInvitation, DeviceInfo,
    EmailIndexKey, LoginOutcome, LoginRequest, Principal, Tokens,
};
use ringside_store::{AuditContext, OrgKeys, Store};
use ringside_vault::{MasterKey, MasterKeyVersion, MasterKeyring};

/// A password every test user gets unless a test says otherwise.
pub(crate) const PASSWORD: &str = "mauve kettle orbit 41";

/// The start of every test's clock.
pub(crate) const START: time::OffsetDateTime = time::macros::datetime!(2026-11-23 09:00 UTC);

/// One relay's identity core on a fresh data folder.
pub(crate) struct World {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) clock: FakeClock,
    pub(crate) store: Arc<Store>,
    pub(crate) masters: Arc<MasterKeyring>,
    pub(crate) auth: AuthService,
}

/// The default configuration with cheap password hashing (every test signs in many times) and a
/// per-IP limit out of the way (tests of it set their own).
pub(crate) fn test_config() -> AuthConfig {
    AuthConfig::fast_insecure_for_tests()
}

impl World {
    pub(crate) fn new() -> Self {
        Self::with(test_config())
    }

    pub(crate) fn with(config: AuthConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = FakeClock::new(START);
        let store = Arc::new(Store::open(dir.path(), Arc::new(clock.clone())).unwrap());
        let masters = Arc::new(MasterKeyring::single(MasterKey::generate(
            MasterKeyVersion::FIRST,
        )));
        let email_key = EmailIndexKey::load(&store, &masters).unwrap();
        let auth = AuthService::with_unvalidated_config(
            Arc::clone(&store),
            OrgKeys::new(Arc::clone(&store), Arc::clone(&masters)),
            Arc::new(clock.clone()),
            email_key,
            config,
        )
        .unwrap();
        Self {
            dir,
            clock,
            store,
            masters,
            auth,
        }
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub(crate) fn org(&self, name: &str) -> OrgId {
        self.store
            .orgs()
            .create_org(name, &self.masters, &AuditContext::system("test"))
            .unwrap()
            .id
    }

    /// An invited and accepted member with [`PASSWORD`].
    pub(crate) fn member(&self, org: OrgId, email: &str, role: Role) -> UserId {
        let invitation = self.invite(org, email, role);
        self.accept(invitation.code.expose(), "Test Person", PASSWORD)
            .unwrap()
            .user
    }

    /// The operator's invitation of `email` into `org`; panics if it is refused.
    pub(crate) fn invite(&self, org: OrgId, email: &str, role: Role) -> CreatedInvitation {
        self.auth.invite_as_operator(org, email, role).unwrap()
    }

    /// Accepts the invitation `code` from [`ip`]`(1)`.
    pub(crate) fn accept(
        &self,
        code: &str,
        display_name: &str,
        password: &str,
    ) -> Result<AcceptedInvitation, AuthError> {
        self.auth
            .accept_invitation(code, display_name, password, ip(1))
    }

    /// Signs in with [`PASSWORD`] from a new device; panics unless that completes.
    pub(crate) fn sign_in(&self, email: &str) -> Tokens {
        match self.login(email, PASSWORD, None, None).unwrap() {
            LoginOutcome::SignedIn(tokens) => *tokens,
            other => panic!("expected to be signed in, got {}", other.code()),
        }
    }

    pub(crate) fn login(
        &self,
        email: &str,
        password: &str,
        second_factor: Option<&str>,
        device_token: Option<&str>,
    ) -> Result<LoginOutcome, AuthError> {
        self.login_from(ip(1), email, password, second_factor, device_token)
    }

    pub(crate) fn login_from(
        &self,
        from: IpAddr,
        email: &str,
        password: &str,
        second_factor: Option<&str>,
        device_token: Option<&str>,
    ) -> Result<LoginOutcome, AuthError> {
        self.auth.login(&LoginRequest {
            email,
            password,
            second_factor,
            ip: from,
            device: DeviceInfo {
                name: "Test Laptop",
                token: device_token,
            },
        })
    }

    pub(crate) fn principal(&self, tokens: &Tokens) -> Principal {
        self.auth
            .authenticate(tokens.access_token.expose())
            .unwrap()
    }

    /// The error code authenticating with the access token gets; panics if it is accepted.
    pub(crate) fn access_error(&self, tokens: &Tokens) -> &'static str {
        self.auth
            .authenticate(tokens.access_token.expose())
            .unwrap_err()
            .code()
    }

    /// The tokens a refresh from [`ip`]`(1)` gives; panics if it is refused.
    pub(crate) fn refresh(&self, tokens: &Tokens) -> Tokens {
        self.auth
            .refresh(tokens.refresh_token.expose(), ip(1))
            .unwrap()
    }

    /// The error code a refresh from [`ip`]`(1)` gets; panics if it is accepted.
    pub(crate) fn refresh_error(&self, tokens: &Tokens) -> &'static str {
        self.auth
            .refresh(tokens.refresh_token.expose(), ip(1))
            .unwrap_err()
            .code()
    }
}

/// A distinct client address per `n`.
pub(crate) fn ip(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0A00_0000 | n))
}

/// Decodes RFC 4648 base32 (no padding), as authenticator apps do with the provisioning secret.
pub(crate) fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c).unwrap() as u64;
        bits = (bits << 5) | v;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// The TOTP code of `secret` at the clock's current time, shifted by `steps`.
pub(crate) fn code(world: &World, secret: &[u8], steps: i64) -> String {
    use ringside_identity::totp::{code_at_step, step_of};
    let now = ringside_core::Clock::now(&world.clock).unix_timestamp();
    code_at_step(secret, step_of(now) + steps).unwrap()
}

/// Enrols the signed-in user in TOTP; returns the secret and the recovery codes.
pub(crate) fn enrol(world: &World, tokens: &Tokens) -> (Vec<u8>, Vec<String>) {
    let p = world.principal(tokens);
    let provisioning = world.auth.enroll_totp(&p).unwrap();
    let secret = base32_decode(provisioning.secret_base32.expose());
    let codes = world
        .auth
        .confirm_totp(&p, &code(world, &secret, 0))
        .unwrap();
    (secret, codes.0.iter().map(|c| c.expose().clone()).collect())
}
