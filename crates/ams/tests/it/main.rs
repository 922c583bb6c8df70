//! The AMS connectors against servers that speak each vendor's API: Stoplight Prism serving the
//! vendors' own OpenAPI files (every request validated against the contract), small in-process
//! fakes for what Prism cannot do (several matches, a free-text hit on another number, slow
//! answers, huge or malformed bodies, 429s), and the sandbox AMS.
//!
//! One binary (style.md item 11); each module says what belongs in it.

// Test helpers panic on failure: that is how a test reports it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Applied Epic: Prism behind an Applied-style gateway, fakes for the failure modes.
mod applied_epic;
/// Small in-process HTTP servers the fake-server tests script.
mod fake;
/// Applied's API gateway in front of Prism: one base URL, the APIs under their prefixes.
mod gateway;
/// HubSpot: Prism on the contacts and calls specs, fakes for matching.
mod hubspot;
/// NowCerts: a fake built from its documentation (there is no vendor spec).
mod nowcerts;
/// Starting Stoplight Prism on a vendor spec.
mod prism;
/// The Applied Epic connector against the sandbox AMS.
mod sandbox;

use std::sync::Arc;
use std::time::Duration;

use ringside_ams::{Ams, AmsConnector, AmsKind, Connection, Credentials, Limits};
use ringside_core::SystemClock;

/// A connector of `kind` at `base`, with the JSON `credentials`, limited to `timeout`.
pub(crate) fn connector(
    kind: AmsKind,
    base: &str,
    credentials: &str,
    timeout: Duration,
) -> Box<dyn AmsConnector> {
    let ams = Ams::new(
        Limits {
            timeout,
            ..Limits::default()
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let credentials = Credentials::from_json(kind, credentials.as_bytes()).unwrap();
    ams.connector(Connection::new(kind, Some(base), credentials).unwrap())
}
