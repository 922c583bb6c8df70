//! From what an AMS's search returned to the matches an agent sees: every candidate re-checked
//! against the caller's number digit by digit, duplicates folded, the rest ranked.
//!
//! Why re-check at all: AMS searches are fuzzy or match substrings (HubSpot's free-text phone
//! fields, NowCerts' `contains`, AgencyZoom), and "the wrong contact on a shared number" is the
//! complaint agents have about screen pops (`anchors.md` §3). A record is shown only when one of
//! its stored numbers *is* the caller's number ([`PhoneNumber::matches_loosely`]). Several
//! matches stay several — never one silently picked.

use ringside_core::PhoneNumber;
use ringside_core::wire::{Contact, RecordKind};

/// A record an AMS search returned, with the numbers it stores.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The record, as it would be shown.
    pub contact: Contact,
    /// Whether the AMS marks it active (inactive records rank last).
    pub active: bool,
    /// The phone numbers stored on it, as the AMS holds them (free text).
    pub numbers: Vec<String>,
}

/// The candidates that really have `number`, one per record, ranked: active first, then clients,
/// prospects, contact persons; otherwise in the AMS's order.
pub fn keep_matches(number: &PhoneNumber, candidates: Vec<Candidate>) -> Vec<Contact> {
    let mut kept: Vec<Candidate> = Vec::new();
    for candidate in candidates {
        if !candidate.numbers.iter().any(|n| number.matches_loosely(n)) {
            continue;
        }
        match kept
            .iter_mut()
            .find(|k| k.contact.id == candidate.contact.id)
        {
            // The same record matched twice (as the client and as its contact person): keep the
            // better-ranked reading of it.
            Some(seen) if rank(&candidate) < rank(seen) => *seen = candidate,
            Some(_) => {}
            None => kept.push(candidate),
        }
    }
    kept.sort_by_key(rank);
    kept.into_iter().map(|c| c.contact).collect()
}

fn rank(candidate: &Candidate) -> (bool, u8) {
    let kind = match candidate.contact.kind {
        RecordKind::Client => 0,
        RecordKind::Prospect => 1,
        RecordKind::Contact => 2,
    };
    (!candidate.active, kind)
}

#[cfg(test)]
mod tests {
    use ringside_core::Pii;

    use super::*;

    fn candidate(id: &str, kind: RecordKind, active: bool, numbers: &[&str]) -> Candidate {
        Candidate {
            contact: Contact {
                id: id.to_owned(),
                kind,
                name: Pii::new(format!("Name {id}")),
                detail: None,
                open_url: None,
            },
            active,
            numbers: numbers.iter().map(|n| (*n).to_owned()).collect(),
        }
    }

    #[test]
    fn only_records_that_store_the_number_are_kept_and_ranked() {
        let number = PhoneNumber::parse("+16175550199").unwrap();
        let found = keep_matches(
            &number,
            vec![
                candidate("near-miss", RecordKind::Client, true, &["(508) 555-0199"]),
                candidate("substring", RecordKind::Client, true, &["16175550199 9"]),
                candidate("old", RecordKind::Client, false, &["617.555.0199"]),
                candidate("spouse", RecordKind::Contact, true, &["6175550199 x12"]),
                candidate("lead", RecordKind::Prospect, true, &["+1 617-555-0199"]),
                candidate("client", RecordKind::Client, true, &["", "(617) 555-0199"]),
                candidate("client", RecordKind::Contact, true, &["617-555-0199"]),
            ],
        );
        let ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["client", "lead", "spouse", "old"]);
        assert_eq!(
            found[0].kind,
            RecordKind::Client,
            "the better reading of a record twice"
        );
    }
}
