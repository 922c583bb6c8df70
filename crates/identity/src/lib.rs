//! `ringside-identity`: who may sign in to a relay, how, for how long, and what they may do —
//! without HTTP.
//!
//! Ringside is invitation-only: an operator creates an org and its first owner's invitation on
//! the command line; owners and admins invite the rest; nobody signs up. Everything a security
//! reviewer needs to check is in this crate, each file saying why it is the way it is:
//!
//! - [`password`]: the password policy and argon2id hashing (constant-cost for unknown users);
//! - [`email`]: address normalization and the blind index that finds a user without decrypting;
//! - [`tokens`]: 128-bit opaque tokens, stored only as hashes;
//! - [`totp`]: RFC 6238 codes (accepted once) and single-use recovery codes;
//! - [`lockout`]: back-off per account and device, the hourly ceiling, the per-IP limit, and why
//!   an attacker cannot lock a real user out;
//! - [`service`]: the operations the HTTP layer and the CLI call ([`AuthService`]);
//! - [`config`]: every number, with its default ([`AuthConfig`]);
//! - [`error`]: one error type with stable machine codes ([`AuthError`]).
//!
//! The persistence (users, invitations, sessions, back-off state) and the org data-key cache
//! ([`OrgKeys`](ringside_store::OrgKeys)) are `ringside-store`'s; time
//! comes from the injected `Clock`, so every timeout here is tested on a fake clock.
//! `docs/security.md` lists the values and maps them to OWASP ASVS 5.0 level 2.

pub mod config;
pub mod email;
pub mod error;
pub mod lockout;
pub mod password;
pub mod service;
pub mod tokens;
pub mod totp;

pub use config::AuthConfig;
pub use email::{EMAIL_INDEX_PURPOSE, EmailIndexKey, normalize_email};
pub use error::AuthError;
pub use password::{HashParams, PasswordProblem};
pub use service::{
    AcceptedInvitation, AuthService, CreatedInvitation, DeviceInfo, InvitationView, LoginOutcome,
    LoginRequest, MfaScope, Principal, RecoveryCodes, Revocation, RevocationScope, SessionView,
    Tokens, UserView,
};
pub use tokens::{SecretToken, TokenKind};
pub use totp::Provisioning;
