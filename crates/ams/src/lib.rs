//! `ringside-ams`: the agency's management system, asked live. Two questions, one trait:
//! [`AmsConnector::lookup_by_phone`] — who is calling? — while the call rings, and
//! [`AmsConnector::write_activity`] — the call's note, in the AMS — after it.
//!
//! Why it is its own crate: it is the only code that talks to an AMS, and it must be impossible
//! for it to keep what the AMS says. It depends on `ringside-core` and an HTTP client, never on
//! the store (docs/architecture.md#crates-and-dependencies): a match lives in the caller's memory
//! for the pop, nowhere else.
//!
//! - [`connection`]: what connecting takes — kind, base URL, credentials — validated once;
//! - [`http`]: the shared client and the rules every connector obeys (budget, body bound, no
//!   redirects, `Retry-After`, statuses → [`AmsError`]);
//! - [`matching`]: the re-check of every candidate digit by digit, and the ranking of matches;
//! - one module per AMS: [`applied_epic`], [`hubspot`], [`nowcerts`];
//! - [`sandbox`]: a small stateful AMS speaking the Applied Epic subset, for the demo and tests.
//!
//! No log line or error here carries a number, a name or a note (docs/ams.md#privacy).

pub mod applied_epic;
pub mod connection;
mod error;
pub mod http;
pub mod hubspot;
pub mod matching;
pub mod nowcerts;
pub mod sandbox;
mod token;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ringside_core::wire::{Contact, Direction, RecordKind};
use ringside_core::{Clock, PhoneNumber, Pii};
use time::OffsetDateTime;

pub use connection::{AmsKind, BaseUrl, Connection, Credentials, Secret};
pub use error::AmsError;
pub use http::{Http, Limits};

/// A request to an AMS in flight.
pub type AmsFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AmsError>> + Send + 'a>>;

/// One AMS, as the relay asks it.
pub trait AmsConnector: Send + Sync + fmt::Debug {
    /// Every record whose phone number is `number`, ranked (active first, clients before
    /// prospects before contact persons). Each candidate the AMS's own search returns is
    /// re-checked digit by digit ([`PhoneNumber::matches_loosely`]), so a fuzzy or substring hit
    /// on another number is dropped. Empty: no match.
    fn lookup_by_phone<'a>(&'a self, number: &'a PhoneNumber) -> AmsFuture<'a, Vec<Contact>>;

    /// Writes `note` as one activity on its record; the AMS's id of what was written.
    fn write_activity<'a>(&'a self, note: &'a ActivityNote) -> AmsFuture<'a, ActivityRef>;

    /// The activity an earlier attempt wrote for `note`, found by its
    /// [`reference`](ActivityNote::reference), if it landed. The sync asks this before writing
    /// a note again after a crash mid-write, so a call never gets two notes.
    ///
    /// # Errors
    /// [`AmsError::Unsupported`] when the AMS offers no way to search its activities (the
    /// default): the sync then leaves the call for an admin rather than risk a second note.
    fn find_activity<'a>(&'a self, note: &'a ActivityNote) -> AmsFuture<'a, Option<ActivityRef>> {
        let _ = note;
        Box::pin(std::future::ready(Err(AmsError::Unsupported(
            "this AMS cannot be searched for a note already written",
        ))))
    }

    /// A real, harmless request that proves the connection works (`ams test`).
    fn check(&self) -> AmsFuture<'_, ()>;
}

/// The note of one call, as the sync worker composes it.
#[derive(Debug, Clone)]
pub struct ActivityNote {
    /// The record it belongs to: its AMS id…
    pub record_id: String,
    /// …and kind.
    pub record_kind: RecordKind,
    /// A one-line subject (`Inbound call, answered, 4 min 12 s`).
    pub subject: String,
    /// The whole note: call details, summary, agent notes, transcript.
    pub body: Pii<String>,
    /// When the call started.
    pub started_at: OffsetDateTime,
    /// How long it lasted, in seconds.
    pub duration_secs: Option<u32>,
    /// Which way it went.
    pub direction: Direction,
    /// Ringside's reference of the call (`call_…`, no personal data), written into the body's
    /// first line so [`AmsConnector::find_activity`] can find the note again.
    pub reference: String,
}

/// What an AMS wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRef {
    /// The AMS's id of the activity (or note, or call engagement).
    pub id: String,
}

/// The entry point: one shared HTTP client and token cache for every org's AMS. Build a
/// connector per use from that org's unsealed [`Connection`]; drop it (and the credentials)
/// after.
#[derive(Debug, Clone)]
pub struct Ams {
    http: Http,
    tokens: Arc<token::TokenCache>,
    call_codes: Arc<applied_epic::CallCodes>,
}

impl Ams {
    /// A client bounded by `limits`, on `clock`.
    ///
    /// # Errors
    /// [`AmsError::Config`] when the TLS client cannot be built.
    pub fn new(limits: Limits, clock: Arc<dyn Clock>) -> Result<Self, AmsError> {
        Ok(Self {
            http: Http::new(limits, clock)?,
            tokens: Arc::new(token::TokenCache::default()),
            call_codes: Arc::default(),
        })
    }

    /// The limits every request runs under.
    pub fn limits(&self) -> Limits {
        self.http.limits()
    }

    /// The connector for `connection`.
    pub fn connector(&self, connection: Connection) -> Box<dyn AmsConnector> {
        let (http, tokens) = (self.http.clone(), Arc::clone(&self.tokens));
        match connection.kind {
            AmsKind::AppliedEpic | AmsKind::Sandbox => Box::new(applied_epic::AppliedEpic::new(
                connection,
                http,
                tokens,
                Arc::clone(&self.call_codes),
            )),
            AmsKind::Hubspot => Box::new(hubspot::Hubspot::new(connection, http)),
            AmsKind::Nowcerts => Box::new(nowcerts::Nowcerts::new(connection, http, tokens)),
        }
    }
}
