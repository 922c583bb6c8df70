//! The agent's additions to a call — notes and the picked contact — wherever they arrive from:
//! the stream's `note`/`pick` messages (`hub/connection.rs`) or `POST /v1/calls/{id}/note|pick`
//! (`api/calls.rs`). One rule for both: only a user the call popped for may add to it; anyone
//! else is refused and nothing is stored. Stored sealed and audited without the text, for the
//! call's AMS note (docs/lifecycle.md).

use std::net::IpAddr;

use ringside_core::wire::Actor;
use ringside_core::{CallId, OrgId, Pii, UserId};
use ringside_store::{AuditEntry, NoteRefusal, OrgKeys, Store};

use crate::Error;

/// What the agent adds.
#[derive(Debug)]
pub(crate) enum Addition {
    /// A note (several are joined, oldest first).
    Note(Pii<String>),
    /// The AMS record to log the call against, among several matches.
    Pick(Pii<String>),
}

/// Who adds it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Author {
    pub(crate) org: OrgId,
    pub(crate) user: UserId,
    pub(crate) ip: Option<IpAddr>,
}

/// Stores `addition` to `call` by `author` (blocking: SQLite); `Ok(Err(..))` when refused.
pub(crate) fn add(
    store: &Store,
    keys: &OrgKeys,
    author: Author,
    call: CallId,
    addition: &Addition,
) -> Result<Result<(), NoteRefusal>, Error> {
    let keys = keys.get(author.org)?;
    let action = match addition {
        Addition::Note(_) => "call.note",
        Addition::Pick(_) => "call.pick",
    };
    let audit = AuditEntry::new(Actor::user(author.user), action, "call")
        .resource(call)
        .in_org(author.org)
        .from_ip(author.ip);
    let notes = store.notes();
    Ok(match addition {
        Addition::Note(text) => notes
            .add_note(author.org, call, author.user, text, &keys, &audit)?
            .map(drop),
        Addition::Pick(contact) => {
            notes.pick_contact(author.org, call, author.user, contact, &keys, &audit)?
        }
    })
}

/// A refusal as the stream's `error` message and the API's problem say it: code and words.
pub(crate) fn refusal_text(refusal: NoteRefusal) -> (&'static str, &'static str) {
    match refusal {
        NoteRefusal::NotRouted => (
            "call_not_routed",
            "this call did not ring for you: only the agents it rang may add to its note",
        ),
        NoteRefusal::TooLong => (
            "note_too_long",
            "a note must have text, and a call's notes together at most 20,000 characters",
        ),
        NoteRefusal::Synced => (
            "call_synced",
            "this call's note is already in the AMS and its data is purged: nothing more can be added",
        ),
    }
}
