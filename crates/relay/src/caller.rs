//! [`Caller`]: who asks for a change to an org's configuration — a signed-in member, checked
//! against the permission matrix, or the operator on the relay's host — so the admin API and the
//! CLI run the same code with the same checks and the same audit entries.

use ringside_core::wire::Actor;
use ringside_core::{OrgId, Permission};
use ringside_identity::{AuthError, AuthService, Principal};
use ringside_store::{AuditEntry, Store};

/// Who is asking: a signed-in member (checked against the permission matrix) or the operator.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// A member of the org, through the API.
    Member(&'a Principal),
    /// The operator on the relay's command line (`system:cli`), for `org`.
    Operator(OrgId),
}

impl Caller<'_> {
    /// The org the request is about.
    pub(crate) fn org(&self) -> OrgId {
        match self {
            Self::Member(p) => p.org,
            Self::Operator(org) => *org,
        }
    }

    /// An audit entry of `action` on a `resource_type`, by this caller, in its org.
    pub(crate) fn entry(&self, action: &'static str, resource_type: &'static str) -> AuditEntry {
        let (actor, ip) = match self {
            Self::Member(p) => (Actor::user(p.user), p.source_ip),
            Self::Operator(_) => (Actor::system("cli"), None),
        };
        AuditEntry::new(actor, action, resource_type)
            .in_org(self.org())
            .from_ip(ip)
    }

    /// A member must hold `permission` (with a recent second factor for a `change`, where the
    /// matrix asks for one); the operator's org must exist.
    pub(crate) fn admit(
        &self,
        auth: &AuthService,
        store: &Store,
        permission: Permission,
        change: bool,
    ) -> Result<(), AuthError> {
        match self {
            Self::Member(p) if change => auth.authorize(p, permission),
            Self::Member(p) => auth.authorize_read(p, permission),
            Self::Operator(org) => store.orgs().org(*org).map(drop).map_err(store_err),
        }
    }
}

/// A store error as the API and the CLI report it: a missing row is "not found".
pub(crate) fn store_err(err: ringside_store::Error) -> AuthError {
    match err {
        ringside_store::Error::NotFound(what) => AuthError::NotFound(what),
        other => AuthError::from(other),
    }
}
