//! The audit log as the admin UI and the exports see it: one [`AuditRecord`] per entry.
//!
//! A record carries the entry's `prev_hash` and `hash` and its `details` as the exact JSON text
//! that was hashed, so whoever receives a record (the admin UI, a SIEM reading `audit export`)
//! can recompute the chain without trusting the relay (`docs/audit.md` specifies the hash).
//! Nothing here is personal data by construction: the store only accepts ids, counts, flags and
//! reason codes chosen in code.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{IntegrationId, UserId};

/// Who did it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum ActorKind {
    /// A signed-in person; the id is a user id.
    User,
    /// The relay itself (CLI, hygiene, start-up); the id names the component, e.g. `cli`.
    System,
    /// A VoIP provider or AMS connection acting through its credentials; the id is an
    /// integration id.
    Integration,
    /// Someone not (yet) identified: a sign-in attempt for an address that belongs to nobody,
    /// an invitation code that matches nothing. The id is always `anonymous`: whatever they
    /// typed is never recorded.
    Anonymous,
}

impl ActorKind {
    /// The text stored and hashed: `user`, `system`, `integration`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::System => "system",
            Self::Integration => "integration",
            Self::Anonymous => "anonymous",
        }
    }
}

impl fmt::Display for ActorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActorKind {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Self::User),
            "system" => Ok(Self::System),
            "integration" => Ok(Self::Integration),
            "anonymous" => Ok(Self::Anonymous),
            _ => Err(crate::Error::InvalidValue {
                what: "audit actor kind",
                expected: "user, system, integration or anonymous",
            }),
        }
    }
}

/// The actor of an audit entry: a kind and an id text (a user or integration id, or the name of
/// a relay component). Never a name or an email.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Actor {
    /// What kind of actor.
    pub kind: ActorKind,
    /// Its id text.
    pub id: String,
}

impl Actor {
    /// A signed-in user.
    pub fn user(id: UserId) -> Self {
        Self {
            kind: ActorKind::User,
            id: id.to_string(),
        }
    }

    /// An integration (VoIP provider, AMS connection).
    pub fn integration(id: IntegrationId) -> Self {
        Self {
            kind: ActorKind::Integration,
            id: id.to_string(),
        }
    }

    /// A relay component, named in code: `cli`, `hygiene`, `keys-rotate`, ...
    pub fn system(component: &'static str) -> Self {
        Self {
            kind: ActorKind::System,
            id: component.to_owned(),
        }
    }

    /// Someone not identified; see [`ActorKind::Anonymous`].
    pub fn anonymous() -> Self {
        Self {
            kind: ActorKind::Anonymous,
            id: "anonymous".to_owned(),
        }
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum AuditOutcome {
    /// It was done.
    Success,
    /// It was attempted and failed (wrong password, unreachable AMS, ...).
    Failure,
    /// It was refused by access control (missing permission, other org, locked account).
    Denied,
}

impl AuditOutcome {
    /// The text stored and hashed: `success`, `failure`, `denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
}

impl fmt::Display for AuditOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditOutcome {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "success" => Ok(Self::Success),
            "failure" => Ok(Self::Failure),
            "denied" => Ok(Self::Denied),
            _ => Err(crate::Error::InvalidValue {
                what: "audit outcome",
                expected: "success, failure or denied",
            }),
        }
    }
}

/// One audit-log entry, as stored: what admins query and what `audit export` writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AuditRecord {
    /// The entry number: 1 for the first entry of an installation, +1 for each one after.
    #[ts(type = "number")]
    pub seq: u64,
    /// When, in unix milliseconds (UTC).
    #[ts(type = "number")]
    pub time_ms: i64,
    /// The org it concerns; `null` for installation-level events (master-key rotation, pruning).
    pub org: Option<String>,
    /// Who did it.
    pub actor: Actor,
    /// The client's IP address, when the action came over the network.
    pub source_ip: Option<String>,
    /// What was done, dotted: `org.create`, `auth.login`, `audit.export`.
    pub action: String,
    /// The kind of thing it was done to: `org`, `user`, `audit_log`, ...
    pub resource_type: String,
    /// Its id, when there is one.
    pub resource_id: Option<String>,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// A JSON object of ids, counts, flags and reason codes — the exact text that was hashed.
    pub details: String,
    /// The previous entry's hash (hex; 64 zeros before the first entry).
    pub prev_hash: String,
    /// This entry's hash (hex): SHA-256 over `prev_hash` and the fields above.
    pub hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_outcomes_round_trip_through_their_text() {
        for kind in [
            ActorKind::User,
            ActorKind::System,
            ActorKind::Integration,
            ActorKind::Anonymous,
        ] {
            assert_eq!(kind.as_str().parse::<ActorKind>().unwrap(), kind);
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{kind}\""),
                "serde and the stored text agree"
            );
        }
        for outcome in [
            AuditOutcome::Success,
            AuditOutcome::Failure,
            AuditOutcome::Denied,
        ] {
            assert_eq!(outcome.as_str().parse::<AuditOutcome>().unwrap(), outcome);
            assert_eq!(
                serde_json::to_string(&outcome).unwrap(),
                format!("\"{outcome}\""),
                "serde and the stored text agree"
            );
        }
        assert!(
            "User".parse::<ActorKind>().is_err(),
            "the text form is exact"
        );
        assert!("ok".parse::<AuditOutcome>().is_err());
    }

    #[test]
    fn actors_carry_id_text_only() {
        let user = UserId::random();
        assert_eq!(Actor::user(user).id, user.to_string());
        assert_eq!(Actor::system("cli").kind, ActorKind::System);
    }
}
