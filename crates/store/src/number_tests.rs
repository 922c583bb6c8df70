//! Tests of text messages kept for their sync, the SMS opt-outs, the erasure of a number and an
//! org's sealed summarizer key, on real SQLite files: what goes in, what the sync's purge and an
//! erasure leave, and that the number itself is never what the store searches by.

use ringside_core::wire::{Actor, CallState, Direction, ServerMessage};
use ringside_core::{PhoneNumber, Pii};

use crate::call_tests::{Line, NOW, line};
use crate::{
    AuditEntry, AuditFilter, AuditPage, CallKind, InboundEvent, NewSms, SyncFinish, SyncState,
};

const OTHER: &str = "+16175550188";

impl Line {
    /// The text `text` from `number` (inbound), routed to the agent, as event `event_id`.
    fn text_from(&self, event_id: &str, number: &Pii<PhoneNumber>, text: &str) {
        let inbound = InboundEvent {
            integration: self.integration,
            org: self.org,
            event_id,
            event_json: &[],
            received_at: NOW,
        };
        let text = Pii::new(text.to_owned());
        let name = Pii::new("Marker Texter".to_owned());
        let sms = NewSms {
            direction: Direction::Inbound,
            number: Some(number),
            number_index: Some(self.index_key.index(number)),
            contact_name: Some(&name),
            text: Some(&text),
        };
        let made = self
            .f
            .store
            .inbox()
            .accept_sms_event(&inbound, &sms, &[self.agent], &self.keys)
            .unwrap();
        assert!(made.is_some(), "a new text");
    }

    fn count(&self, sql: &str) -> i64 {
        let conn = rusqlite::Connection::open(self.f.store.path()).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn retained(&self, kind: &str) -> u64 {
        let all = self.f.store.sync().retention(Some(self.org)).unwrap();
        all.iter().find(|r| r.kind == kind).unwrap().records
    }
}

fn other() -> Pii<PhoneNumber> {
    Pii::new(PhoneNumber::parse(OTHER).unwrap())
}

#[test]
fn a_text_waits_sealed_for_its_sync_and_its_body_goes_with_the_purge() {
    let l = line();
    l.text_from("sms-1", &l.number, "Marker text about my policy");
    assert_eq!(l.count("SELECT count(*) FROM calls WHERE kind = 'sms'"), 1);
    assert_eq!(
        l.retained("sms_body"),
        2,
        "its body row and its stream event"
    );
    assert_eq!(l.retained("phone_number"), 1);
    let raw = std::fs::read(l.f.store.path()).unwrap();
    assert!(
        !raw.windows(11).any(|w| w == b"Marker text"),
        "the body is sealed on disk"
    );

    let jobs = l.f.store.sync().due_syncs(0, 10).unwrap();
    assert_eq!(jobs.len(), 1, "the text is owed its note");
    let m =
        l.f.store
            .sync()
            .begin_sync(jobs[0], &l.keys)
            .unwrap()
            .unwrap();
    assert_eq!(m.kind, CallKind::Sms);
    assert_eq!(m.direction, Direction::Inbound);
    assert_eq!(m.state, CallState::Ended);
    assert_eq!(
        m.text.as_ref().map(|t| t.expose().as_str()),
        Some("Marker text about my policy")
    );
    assert_eq!(
        m.number.as_ref().map(|n| n.expose().as_str()),
        Some(l.number.expose().e164())
    );

    let finish = SyncFinish::Written {
        activity_id: "act-1".to_owned(),
    };
    let purge =
        l.f.store
            .sync()
            .finish_sync(l.org, m.call, &finish, Some("***-***-0734"), None)
            .unwrap();
    assert_eq!((purge.texts, purge.pop_events), (1, 1));
    assert_eq!(l.retained("sms_body"), 0);
    assert_eq!(l.retained("contact_name"), 0);
    assert_eq!(l.retained("phone_number"), 0);
    assert_eq!(
        l.count("SELECT count(*) FROM calls WHERE number_index IS NOT NULL"),
        0,
        "the number's index goes with the number"
    );
    let rows =
        l.f.store
            .sync()
            .list_syncs(Some(l.org), &[SyncState::Done], 10)
            .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, CallKind::Sms);
    assert_eq!(rows[0].number_masked.as_deref(), Some("***-***-0734"));
}

#[test]
fn stop_marks_the_number_opted_out_on_its_next_pop_and_start_clears_it() {
    let l = line();
    let index = l.index_key.index(&l.number);
    l.text_from("sms-1", &l.number, "  Stop. ");
    assert!(l.f.store.numbers().sms_opted_out(l.org, &index).unwrap());
    assert!(
        !l.f.store
            .numbers()
            .sms_opted_out(l.org, &l.index_key.index(&other()))
            .unwrap(),
        "only that number"
    );

    let first = l
        .send("e1", "call-1", "call-1", CallState::Ringing, &[l.agent])
        .unwrap();
    let pop = first.events.iter().find_map(|e| match &e.message {
        ServerMessage::Pop(pop) => Some(pop.clone()),
        _ => None,
    });
    assert!(pop.unwrap().sms_opted_out, "the pop says so");

    l.text_from("sms-2", &l.number, "please stop calling me at work");
    assert!(
        l.f.store.numbers().sms_opted_out(l.org, &index).unwrap(),
        "a sentence is not a keyword"
    );
    l.text_from("sms-3", &l.number, "START");
    assert!(!l.f.store.numbers().sms_opted_out(l.org, &index).unwrap());
    let next = l
        .send("e2", "call-2", "call-2", CallState::Ringing, &[l.agent])
        .unwrap();
    let pop = next.events.iter().find_map(|e| match &e.message {
        ServerMessage::Pop(pop) => Some(pop.clone()),
        _ => None,
    });
    assert!(!pop.unwrap().sms_opted_out);
}

#[test]
fn erasing_a_number_removes_its_calls_and_texts_and_nothing_else() {
    let l = line();
    l.send("e1", "call-1", "call-1", CallState::Ringing, &[l.agent])
        .unwrap();
    l.send("e2", "call-1", "call-1", CallState::Ended, &[])
        .unwrap();
    l.text_from("sms-1", &l.number, "STOP");
    l.text_from("sms-2", &other(), "Marker other text");
    assert_eq!(l.count("SELECT count(*) FROM calls"), 3);

    let audit = AuditEntry::new(Actor::system("test"), "privacy.erase", "number").in_org(l.org);
    let index = l.index_key.index(&l.number);
    let erased =
        l.f.store
            .numbers()
            .erase_number(l.org, &index, audit)
            .unwrap();
    assert_eq!((erased.calls, erased.texts), (1, 1));
    assert_eq!(
        l.count("SELECT count(*) FROM calls"),
        1,
        "the other number's text stays"
    );
    assert_eq!(l.count("SELECT count(*) FROM pops"), 0);
    assert_eq!(l.count("SELECT count(*) FROM sync_outbox"), 1);
    assert_eq!(l.count("SELECT count(*) FROM sms_bodies"), 1);
    assert_eq!(
        l.count("SELECT count(*) FROM stream_events WHERE call_id IS NOT NULL"),
        1,
        "only the other text's event"
    );
    assert_eq!(
        l.count("SELECT count(*) FROM stream_events WHERE pop_id IS NOT NULL"),
        0,
        "the pop's events went with it"
    );
    assert!(
        l.f.store.numbers().sms_opted_out(l.org, &index).unwrap(),
        "the opt-out is the suppression list: it stays"
    );

    let filter = AuditFilter {
        action: Some("privacy.erase".to_owned()),
        ..AuditFilter::default()
    };
    let page = AuditPage {
        after_seq: None,
        limit: 10,
    };
    let entries = l.f.store.audit().query_audit(l.org, &filter, page).unwrap();
    assert_eq!(entries.len(), 1);
    assert!(
        entries[0].details.contains("\"calls\":\"1\""),
        "{}",
        entries[0].details
    );
    assert!(
        !entries[0].details.contains("0734"),
        "no number in the audit"
    );

    let again = AuditEntry::new(Actor::system("test"), "privacy.erase", "number").in_org(l.org);
    let erased =
        l.f.store
            .numbers()
            .erase_number(l.org, &index, again)
            .unwrap();
    assert_eq!(
        (erased.calls, erased.texts),
        (0, 0),
        "nothing left to erase"
    );
}

#[test]
fn a_summarizer_key_is_sealed_on_disk_opened_only_with_the_orgs_keys_and_cleared() {
    use crate::{NewSummarizer, SummarizerRow};

    let l = line();
    let store = &l.f.store;
    assert_eq!(store.summarizers().summarizer(l.org).unwrap(), None);
    let audit = || AuditEntry::new(Actor::system("test"), "summarizer.set", "org").in_org(l.org);
    let new = NewSummarizer {
        base_url: "https://models.agency.example/v1",
        model: "gpt-4o-mini",
        auth: "bearer",
        api_key: Some("sk-marker-key-7731"),
    };
    store
        .summarizers()
        .set_summarizer(l.org, &new, &l.keys, &audit())
        .unwrap();
    let shown = store.summarizers().summarizer(l.org).unwrap().unwrap();
    assert_eq!(
        shown,
        SummarizerRow {
            base_url: "https://models.agency.example/v1".to_owned(),
            model: "gpt-4o-mini".to_owned(),
            auth: "bearer".to_owned(),
            has_key: true,
            updated_at: NOW,
        }
    );
    let (_, key) = store
        .summarizers()
        .open_summarizer(l.org, &l.keys)
        .unwrap()
        .unwrap();
    assert_eq!(
        key.as_deref().map(String::as_str),
        Some("sk-marker-key-7731")
    );
    let raw = std::fs::read(store.path()).unwrap();
    assert!(
        !raw.windows(10).any(|w| w == b"marker-key"),
        "the key is sealed"
    );

    store
        .summarizers()
        .clear_summarizer(l.org, &audit())
        .unwrap();
    assert_eq!(store.summarizers().summarizer(l.org).unwrap(), None);
    assert!(matches!(
        store.summarizers().clear_summarizer(l.org, &audit()),
        Err(crate::Error::NotFound(_))
    ));
}
