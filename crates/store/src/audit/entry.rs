//! What one audit entry may say, and the check that keeps personal data out of it.
//!
//! Why a builder with `&'static str` names and a validator: entries are written by every
//! repository method, so the shape of what reaches the log is decided here, once. Names come from
//! code, values are ids, counts, flags and short codes; anything else (an email address, a phone
//! number, a name) is refused before a row is written.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use ringside_core::OrgId;
use ringside_core::wire::{Actor, AuditOutcome};

use crate::Error;

/// Most details one entry may carry: they are a few ids and counts, not a payload.
const MAX_DETAILS: usize = 16;
/// Longest id, code or detail text.
const MAX_TOKEN_LEN: usize = 128;
/// Longest action or resource-type name.
const MAX_NAME_LEN: usize = 64;

/// Who is acting and from where: what every mutating repository method takes so it can write
/// its own audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    /// Who.
    pub actor: Actor,
    /// The client's address, when the action came over the network.
    pub source_ip: Option<IpAddr>,
}

impl AuditContext {
    /// An actor, from an address or none.
    pub fn new(actor: Actor, source_ip: Option<IpAddr>) -> Self {
        Self { actor, source_ip }
    }

    /// A relay component acting on its own (`cli`, `hygiene`, ...), with no address.
    pub fn system(component: &'static str) -> Self {
        Self::new(Actor::system(component), None)
    }

    /// A successful `action` on a `resource_type` by this actor, to fill in further.
    pub fn entry(&self, action: &'static str, resource_type: &'static str) -> AuditEntry {
        AuditEntry::new(self.actor.clone(), action, resource_type).from_ip(self.source_ip)
    }
}

/// One audit entry to write. Built from code-chosen names plus ids, counts, flags and short
/// lowercase codes; the store's `append` refuses anything else, so an email address, a
/// phone number or a name cannot end up in the log by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The org concerned; `None` for installation-level events.
    pub org: Option<OrgId>,
    /// Who.
    pub actor: Actor,
    /// From where.
    pub source_ip: Option<IpAddr>,
    /// What, dotted lowercase: `org.create`, `auth.login`, `audit.export`.
    pub action: &'static str,
    /// The kind of thing acted on: `org`, `user`, `audit_log`, `master_key`.
    pub resource_type: &'static str,
    /// Its id text (an id, a version), if any.
    pub resource_id: Option<String>,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// Extra machine facts.
    pub details: AuditDetails,
}

impl AuditEntry {
    /// A successful `action` by `actor` on a `resource_type`, installation-level, no details.
    pub fn new(actor: Actor, action: &'static str, resource_type: &'static str) -> Self {
        Self {
            org: None,
            actor,
            source_ip: None,
            action,
            resource_type,
            resource_id: None,
            outcome: AuditOutcome::Success,
            details: AuditDetails::default(),
        }
    }

    /// Scopes the entry to an org (its admins can query it).
    pub fn in_org(mut self, org: OrgId) -> Self {
        self.org = Some(org);
        self
    }

    /// Names the resource: an id's text form (`org_…`, `usr_…`, `v2`), never personal data.
    pub fn resource(mut self, id: impl fmt::Display) -> Self {
        self.resource_id = Some(id.to_string());
        self
    }

    /// Sets the client's address.
    pub fn from_ip(mut self, ip: Option<IpAddr>) -> Self {
        self.source_ip = ip;
        self
    }

    /// Sets how it ended.
    pub fn outcome(mut self, outcome: AuditOutcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// Marks it as attempted and failed.
    pub fn failed(self) -> Self {
        self.outcome(AuditOutcome::Failure)
    }

    /// Marks it as refused by access control.
    pub fn denied(self) -> Self {
        self.outcome(AuditOutcome::Denied)
    }

    /// Adds a count (`rewrapped: 3`).
    pub fn count(mut self, key: &'static str, n: u64) -> Self {
        self.details.0.insert(key, DetailValue::Count(n));
        self
    }

    /// Adds a flag (`mfa: true`).
    pub fn flag(mut self, key: &'static str, on: bool) -> Self {
        self.details.0.insert(key, DetailValue::Flag(on));
        self
    }

    /// Adds an id or a short lowercase code (`reason: "bad_password"`, `user: "usr_…"`). The
    /// text must be 1–128 characters of `a-z 0-9 _ - . :`; anything else refuses the entry.
    pub fn detail(mut self, key: &'static str, value: impl fmt::Display) -> Self {
        self.details
            .0
            .insert(key, DetailValue::Text(value.to_string()));
        self
    }
}

/// The details of an entry: keys chosen in code, values that are counts, flags or short codes.
/// Stored as a compact JSON object with sorted keys — the exact text that is hashed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditDetails(BTreeMap<&'static str, DetailValue>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum DetailValue {
    Count(u64),
    Flag(bool),
    Text(String),
}

impl AuditDetails {
    /// The JSON text stored and hashed: `{"a":1,"b":"x"}`, keys sorted, no spaces.
    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .0
            .iter()
            .map(|(key, value)| {
                let value = match value {
                    DetailValue::Count(n) => serde_json::Value::from(*n),
                    DetailValue::Flag(b) => serde_json::Value::from(*b),
                    DetailValue::Text(t) => serde_json::Value::from(t.as_str()),
                };
                ((*key).to_owned(), value)
            })
            .collect();
        serde_json::Value::Object(map).to_string()
    }
}

fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_TOKEN_LEN
        && text.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.' | b':')
        })
}

fn is_name_segment(text: &str) -> bool {
    text.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_action(text: &str) -> bool {
    text.len() <= MAX_NAME_LEN
        && text.split('.').count() >= 2
        && text.split('.').all(is_name_segment)
}

fn invalid(field: &'static str, reason: &'static str) -> Error {
    Error::InvalidAuditEntry { field, reason }
}

/// Refuses an entry with anything but code-chosen names, ids and codes. Messages name the field,
/// never the value (which might be exactly the personal data being kept out).
pub(super) fn validate(entry: &AuditEntry) -> Result<(), Error> {
    if !is_action(entry.action) {
        return Err(invalid(
            "action",
            "must be dotted lowercase words, e.g. `org.create`",
        ));
    }
    if entry.resource_type.len() > MAX_NAME_LEN || !is_name_segment(entry.resource_type) {
        return Err(invalid(
            "resource_type",
            "must be one lowercase word, e.g. `org`",
        ));
    }
    if entry.resource_id.as_deref().is_some_and(|id| !is_token(id)) {
        return Err(invalid(
            "resource_id",
            "must be an id: 1 to 128 characters of a-z 0-9 _ - . :",
        ));
    }
    if !is_token(&entry.actor.id) {
        return Err(invalid(
            "actor",
            "the actor id must be an id or component name: a-z 0-9 _ - . :",
        ));
    }
    if entry.details.0.len() > MAX_DETAILS {
        return Err(invalid("details", "at most 16 details per entry"));
    }
    for (key, value) in &entry.details.0 {
        if key.len() > MAX_NAME_LEN || !is_name_segment(key) {
            return Err(invalid(key, "a detail key must be one lowercase word"));
        }
        if let DetailValue::Text(text) = value
            && !is_token(text)
        {
            return Err(invalid(
                key,
                "a detail must be a count, a flag, or an id or code of a-z 0-9 _ - . :",
            ));
        }
    }
    Ok(())
}
