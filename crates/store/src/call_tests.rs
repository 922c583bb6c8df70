//! Tests of calls, pops and the stream on real SQLite files: a webhook event accepted once,
//! reordered and repeated events making one pop and the right final state, per-user `seq` that
//! only grows, sealed replay, dismissal, and org isolation of the pop's events.

use ringside_core::wire::{Actor, CallState, Direction, MatchState, ServerMessage};
use ringside_core::{IntegrationId, OrgId, PhoneNumber, Pii, Role, UserId};
use ringside_vault::OrgKeyring;

use crate::identity_tests::{Fixture, fixture, fixture_at};
use crate::{AuditEntry, CallOutcome, CallUpdate, InboundEvent, NewIntegration, NumberIndexKey};

pub(crate) const NOW: i64 = 1_795_424_400; // 2026-11-23 09:00 UTC
const MARKER: &str = "+16172430734";

pub(crate) struct Line {
    pub(crate) f: Fixture,
    pub(crate) org: OrgId,
    pub(crate) keys: std::sync::Arc<OrgKeyring>,
    pub(crate) agent: UserId,
    pub(crate) integration: IntegrationId,
    pub(crate) number: Pii<PhoneNumber>,
    /// The installation's number index key (a fixed test key).
    pub(crate) index_key: NumberIndexKey,
}

pub(crate) fn line() -> Line {
    line_on(fixture())
}

pub(crate) fn line_on(f: Fixture) -> Line {
    let (org, keys) = f.org("Acme");
    f.user(
        org,
        &keys,
        1,
        Role::Owner,
        "owner@acme.example",
        "Olive Owner",
    );
    let agent = f.user(
        org,
        &keys,
        2,
        Role::Agent,
        "agent@acme.example",
        "Andy Agent",
    );
    let integration = IntegrationId::random();
    let new = NewIntegration {
        id: integration,
        org,
        provider: "twilio".to_owned(),
        settings: "{}".to_owned(),
        label: "Main".to_owned(),
        created_at: NOW,
    };
    let audit = AuditEntry::new(Actor::system("test"), "integration.create", "integration")
        .in_org(org)
        .resource(integration);
    f.store
        .integrations()
        .create_integration(&new, "secret", &keys, &audit)
        .unwrap();
    let number = Pii::new(PhoneNumber::parse(MARKER).unwrap());
    Line {
        f,
        org,
        keys: std::sync::Arc::new(keys),
        agent,
        integration,
        number,
        index_key: NumberIndexKey::new([9; 32]),
    }
}

impl Line {
    /// Sends event `event_id` of leg `leg` of call `call` in `state`, routed to `targets`.
    pub(crate) fn send(
        &self,
        event_id: &str,
        call: &str,
        leg: &str,
        state: CallState,
        targets: &[UserId],
    ) -> Option<CallOutcome> {
        let inbound = InboundEvent {
            integration: self.integration,
            org: self.org,
            event_id,
            event_json: b"{}",
            received_at: NOW,
        };
        let update = CallUpdate {
            org: self.org,
            integration: self.integration,
            call_key: call,
            leg,
            direction: Direction::Inbound,
            state,
            number: Some(&self.number),
            number_index: Some(self.index_key.index(&self.number)),
            caller_name: None,
            targets,
            match_state: MatchState::Unavailable,
        };
        self.f
            .store
            .inbox()
            .accept_call_event(&inbound, &update, &self.keys)
            .unwrap()
    }

    pub(crate) fn replay(&self, user: UserId, after: u64) -> Vec<ServerMessage> {
        self.f
            .store
            .stream()
            .stream_replay(self.org, user, after, &self.keys)
            .unwrap()
    }
}

fn types(messages: &[ServerMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| {
            serde_json::to_value(m).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn repeated_and_reordered_events_make_one_pop_and_end_in_the_right_state() {
    let l = line();
    let to = [l.agent];
    let first = l.send("e1", "CA1", "CA1", CallState::Ringing, &to).unwrap();
    assert_eq!(first.new_pops.len(), 1, "the first ringing pops");
    assert!(
        l.send("e1", "CA1", "CA1", CallState::Ringing, &to)
            .is_none(),
        "same event: a duplicate"
    );
    let again = l.send("e2", "CA1", "CA1", CallState::Ringing, &to).unwrap();
    assert!(
        again.new_pops.is_empty() && !again.changed,
        "another ringing: no second pop"
    );
    let ended = l.send("e4", "CA1", "CA1", CallState::Ended, &to).unwrap();
    assert_eq!(ended.state, CallState::Ended);
    let late = l
        .send("e3", "CA1", "CA1", CallState::Answered, &to)
        .unwrap();
    assert_eq!(late.state, CallState::Ended, "a final state is never left");
    assert!(!late.changed && late.events.is_empty() && late.new_pops.is_empty());
    assert_eq!(
        l.f.store.calls().call_state(l.org, first.call).unwrap(),
        Some(CallState::Ended)
    );

    let stream = l.replay(l.agent, 0);
    assert_eq!(types(&stream), ["pop", "call_state"]);
    let seqs: Vec<u64> = stream.iter().filter_map(ServerMessage::seq).collect();
    assert_eq!(seqs, [1, 2], "seq starts at 1 and grows by one");
    assert_eq!(l.f.store.stream().stream_last_seq(l.agent).unwrap(), 2);
    assert_eq!(
        types(&l.replay(l.agent, 1)),
        ["call_state"],
        "resume after 1"
    );
}

#[test]
fn an_event_seen_first_after_the_ring_still_pops_but_a_finished_call_never_does() {
    let l = line();
    let answered = l
        .send("a1", "CA2", "CA2", CallState::Answered, &[l.agent])
        .unwrap();
    assert_eq!(
        answered.new_pops.len(),
        1,
        "answered before ringing arrived: pop anyway"
    );
    let ring = l
        .send("a0", "CA2", "CA2", CallState::Ringing, &[l.agent])
        .unwrap();
    assert_eq!(
        ring.state,
        CallState::Answered,
        "ringing does not pull it back"
    );
    assert!(ring.events.is_empty());

    let over = l
        .send("b1", "CA3", "CA3", CallState::Missed, &[l.agent])
        .unwrap();
    assert_eq!(over.state, CallState::Missed);
    assert!(
        over.new_pops.is_empty(),
        "no pop for a call that is already over"
    );
}

#[test]
fn a_transfer_pops_the_new_agent_and_the_call_ends_with_its_last_leg() {
    let l = line();
    let second = l.f.user(
        l.org,
        &l.keys,
        3,
        Role::Agent,
        "b@acme.example",
        "Bea Agent",
    );
    l.send("t1", "M1", "L1", CallState::Ringing, &[l.agent])
        .unwrap();
    l.send("t2", "M1", "L1", CallState::Answered, &[l.agent])
        .unwrap();
    let moved = l
        .send("t3", "M1", "L1", CallState::Transferred, &[l.agent])
        .unwrap();
    assert_eq!(moved.state, CallState::Transferred);
    let ring = l
        .send("t4", "M1", "L2", CallState::Ringing, &[second])
        .unwrap();
    assert_eq!(ring.new_pops.len(), 1, "the transfer target gets a pop");
    assert_eq!(ring.new_pops[0].1, second);
    let first_leg_done = l.send("t5", "M1", "L1", CallState::Ended, &[]).unwrap();
    assert_eq!(
        first_leg_done.state,
        CallState::Transferred,
        "leg 2 still rings"
    );
    let done = l.send("t6", "M1", "L2", CallState::Missed, &[]).unwrap();
    assert_eq!(
        done.state,
        CallState::Ended,
        "an answered call ended, it was not missed"
    );
    let users: Vec<UserId> = done.events.iter().map(|e| e.user).collect();
    assert_eq!(users, [l.agent, second], "both pop holders learn the end");
}

#[test]
fn dismissing_clears_the_pop_from_replay_and_tells_the_other_devices() {
    let l = line();
    let out = l
        .send("d1", "CA4", "CA4", CallState::Ringing, &[l.agent])
        .unwrap();
    let (pop, _) = out.new_pops[0];
    let stranger =
        l.f.user(l.org, &l.keys, 4, Role::Agent, "c@acme.example", "Cy Agent");
    assert!(
        l.f.store
            .stream()
            .dismiss_pop(l.org, stranger, pop, &l.keys)
            .unwrap()
            .is_none(),
        "only the pop's user can dismiss it"
    );
    let gone =
        l.f.store
            .stream()
            .dismiss_pop(l.org, l.agent, pop, &l.keys)
            .unwrap()
            .unwrap();
    assert!(matches!(gone.message, ServerMessage::PopDismissed(ref g) if g.pop_id == pop));
    assert_eq!(types(&l.replay(l.agent, 0)), ["pop_dismissed"]);
    assert!(
        l.f.store
            .stream()
            .dismiss_pop(l.org, l.agent, pop, &l.keys)
            .unwrap()
            .is_none(),
        "once"
    );
    let update =
        l.f.store
            .stream()
            .update_pop_match(l.org, pop, &MatchState::NoMatch, &l.keys)
            .unwrap();
    assert!(update.is_none(), "a dismissed pop gets no update");
}

#[test]
fn the_number_is_sealed_in_the_call_and_in_every_stream_event() {
    let l = line();
    let out = l
        .send("s1", "CA5", "CA5", CallState::Ringing, &[l.agent])
        .unwrap();
    let (pop, _) = out.new_pops[0];
    let update =
        l.f.store
            .stream()
            .update_pop_match(l.org, pop, &MatchState::NoMatch, &l.keys)
            .unwrap()
            .unwrap();
    assert_eq!(update.message.seq(), Some(2));
    let number =
        l.f.store
            .calls()
            .call_number(l.org, out.call, &l.keys)
            .unwrap()
            .unwrap();
    assert_eq!(number.expose(), MARKER);
    match &l.replay(l.agent, 0)[0] {
        ServerMessage::Pop(p) => assert_eq!(p.number.as_ref().unwrap().expose(), MARKER),
        other => panic!("expected the pop first, got {other:?}"),
    }
    let digits = &MARKER[1..];
    for file in ["ringside.db", "ringside.db-wal"] {
        let path = l.f.store.path().with_file_name(file);
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !bytes.windows(digits.len()).any(|w| w == digits.as_bytes()),
            "{file} holds the number in clear"
        );
    }
    let (other_org, other_keys) = l.f.org("Other");
    assert!(
        l.f.store
            .stream()
            .stream_replay(l.org, l.agent, 0, &other_keys)
            .is_err(),
        "another org's keys are refused"
    );
    assert!(
        l.f.store
            .stream()
            .stream_replay(other_org, l.agent, 0, &other_keys)
            .unwrap()
            .is_empty(),
        "scoped to the org"
    );
}

#[test]
fn pops_expire_after_five_minutes_and_numbers_at_the_pii_cap() {
    let clock = ringside_core::FakeClock::new(time::macros::datetime!(2026-11-23 09:00 UTC));
    let l = line_on(fixture_at(clock.clone()));
    let out = l
        .send("x1", "CA6", "CA6", CallState::Ringing, &[l.agent])
        .unwrap();
    let (pop, _) = out.new_pops[0];
    let keyring = |_| Ok(std::sync::Arc::clone(&l.keys));
    clock.advance(std::time::Duration::from_secs(299));
    assert!(
        l.f.store
            .stream()
            .expire_stream(&keyring)
            .unwrap()
            .events
            .is_empty(),
        "4:59: still live"
    );
    clock.advance(std::time::Duration::from_secs(1));
    let expired = l.f.store.stream().expire_stream(&keyring).unwrap();
    assert_eq!(expired.events.len(), 1);
    assert!(
        matches!(expired.events[0].message, ServerMessage::PopExpired(ref g) if g.pop_id == pop)
    );
    assert_eq!(
        types(&l.replay(l.agent, 0)),
        ["pop_expired"],
        "the pop's own events went with it"
    );

    let cap = std::time::Duration::from_secs(30 * 86_400);
    assert_eq!(
        l.f.store.calls().purge_call_pii(cap).unwrap().numbers,
        0,
        "not yet"
    );
    assert!(
        l.f.store
            .calls()
            .call_number(l.org, out.call, &l.keys)
            .unwrap()
            .is_some()
    );
    clock.advance(cap);
    assert_eq!(l.f.store.calls().purge_call_pii(cap).unwrap().numbers, 1);
    assert!(
        l.f.store
            .calls()
            .call_number(l.org, out.call, &l.keys)
            .unwrap()
            .is_none(),
        "purged"
    );
    assert_eq!(
        l.f.store.calls().call_state(l.org, out.call).unwrap(),
        Some(CallState::Ringing),
        "the call itself (no personal data) stays for the metrics"
    );
}

#[test]
fn a_call_pops_each_user_once_even_after_the_pop_expired_and_later_events_route_elsewhere() {
    let clock = ringside_core::FakeClock::new(time::macros::datetime!(2026-11-23 09:00 UTC));
    let l = line_on(fixture_at(clock.clone()));
    let other =
        l.f.user(l.org, &l.keys, 5, Role::Agent, "d@acme.example", "Di Agent");
    let rang = l
        .send("o1", "CA7", "CA7", CallState::Ringing, &[l.agent])
        .unwrap();
    assert_eq!(rang.new_pops.len(), 1);
    let answered = l
        .send("o2", "CA7", "CA7", CallState::Answered, &[l.agent, other])
        .unwrap();
    assert!(
        answered.new_pops.is_empty(),
        "an answer routed elsewhere pops nobody"
    );

    clock.advance(std::time::Duration::from_secs(6 * 60));
    let keyring = |_| Ok(std::sync::Arc::clone(&l.keys));
    assert_eq!(
        l.f.store
            .stream()
            .expire_stream(&keyring)
            .unwrap()
            .events
            .len(),
        1
    );
    let moved = l
        .send("o3", "CA7", "CA7", CallState::Transferred, &[l.agent])
        .unwrap();
    assert!(
        moved.new_pops.is_empty(),
        "the expired pop is not made again"
    );
    assert!(
        moved.events.is_empty(),
        "and an expired pop gets no call_state"
    );
    assert!(
        l.f.store
            .stream()
            .expire_stream(&keyring)
            .unwrap()
            .events
            .is_empty(),
        "a pop expires once"
    );
}

#[test]
fn a_leg_whose_last_word_is_transferred_lets_the_call_end_with_the_next_leg() {
    let l = line();
    l.send("p1", "M2", "L1", CallState::Ringing, &[l.agent])
        .unwrap();
    l.send("p2", "M2", "L1", CallState::Answered, &[]).unwrap();
    l.send("p3", "M2", "L1", CallState::Transferred, &[])
        .unwrap();
    l.send("p4", "M2", "L2", CallState::Answered, &[]).unwrap();
    let done = l.send("p5", "M2", "L2", CallState::Ended, &[]).unwrap();
    assert_eq!(
        done.state,
        CallState::Ended,
        "no ended event for L1 ever comes"
    );
}

#[test]
fn a_finished_calls_legs_and_pop_markers_are_pruned_after_a_day_and_the_call_stays_finished() {
    let clock = ringside_core::FakeClock::new(time::macros::datetime!(2026-11-23 09:00 UTC));
    let l = line_on(fixture_at(clock.clone()));
    let keyring = |_| Ok(std::sync::Arc::clone(&l.keys));
    let rang = l
        .send("q1", "CA8", "CA8", CallState::Ringing, &[l.agent])
        .unwrap();
    l.send("q2", "CA8", "CA8", CallState::Missed, &[]).unwrap();
    let live = l
        .send("q3", "CA9", "CA9", CallState::Ringing, &[l.agent])
        .unwrap();
    clock.advance(std::time::Duration::from_secs(6 * 60));
    l.f.store.stream().expire_stream(&keyring).unwrap();

    let day = std::time::Duration::from_secs(86_400);
    assert_eq!(
        l.f.store.calls().prune_finished_calls(day).unwrap(),
        0,
        "not a day yet"
    );
    clock.advance(day);
    assert_eq!(
        l.f.store.calls().prune_finished_calls(day).unwrap(),
        2,
        "the finished call's leg and its pop marker; the live call keeps both"
    );
    let late = l
        .send("q4", "CA8", "CA8", CallState::Ringing, &[l.agent])
        .unwrap();
    assert_eq!(
        late.call, rang.call,
        "a very late event still finds the call"
    );
    assert_eq!(late.state, CallState::Missed, "finished, and no pop");
    assert!(late.new_pops.is_empty());
    let again = l
        .send("q5", "CA9", "CA9", CallState::Answered, &[l.agent])
        .unwrap();
    assert_eq!(again.call, live.call);
    assert!(again.new_pops.is_empty(), "the live call's marker was kept");
}

fn note_audit(action: &'static str) -> AuditEntry {
    AuditEntry::new(Actor::system("test"), action, "call")
}

#[test]
fn only_a_user_the_call_rang_adds_notes_and_a_pick_which_are_joined_sealed_and_purged_at_the_cap() {
    let clock = ringside_core::FakeClock::new(time::macros::datetime!(2026-11-23 09:00 UTC));
    let l = line_on(fixture_at(clock.clone()));
    let other = l.f.user(
        l.org,
        &l.keys,
        3,
        Role::Agent,
        "other@acme.example",
        "Otto Other",
    );
    let out = l
        .send("n1", "CA9", "CA9", CallState::Ringing, &[l.agent])
        .unwrap();
    let notes = l.f.store.notes();
    let note = |user, text: &str| {
        notes
            .add_note(
                l.org,
                out.call,
                user,
                &Pii::new(text.to_owned()),
                &l.keys,
                &note_audit("call.note"),
            )
            .unwrap()
    };
    assert!(note(l.agent, "Wants to add a teen driver (QX-8812)").is_ok());
    assert!(note(l.agent, "Call back Friday").is_ok());
    assert_eq!(
        note(other, "not my call"),
        Err(crate::NoteRefusal::NotRouted),
        "the call did not ring for them"
    );
    assert_eq!(
        note(l.agent, "   "),
        Err(crate::NoteRefusal::TooLong),
        "no empty note"
    );
    let long = "x".repeat(crate::MAX_NOTES_CHARS);
    assert_eq!(
        note(l.agent, &long),
        Err(crate::NoteRefusal::TooLong),
        "past the call's total"
    );
    let pick = |user, contact: &str| {
        notes
            .pick_contact(
                l.org,
                out.call,
                user,
                &Pii::new(contact.to_owned()),
                &l.keys,
                &note_audit("call.pick"),
            )
            .unwrap()
    };
    assert!(pick(l.agent, "client-1").is_ok());
    assert!(
        pick(l.agent, "client-2").is_ok(),
        "a later pick replaces it"
    );
    assert_eq!(pick(other, "client-3"), Err(crate::NoteRefusal::NotRouted));

    let added = notes.call_additions(l.org, out.call, &l.keys).unwrap();
    let texts: Vec<&str> = added.notes.iter().map(|n| n.expose().as_str()).collect();
    assert_eq!(
        texts,
        ["Wants to add a teen driver (QX-8812)", "Call back Friday"]
    );
    assert_eq!(added.pick.unwrap().expose(), "client-2");
    let (other_org, other_keys) = l.f.org("Other");
    assert!(
        notes
            .call_additions(other_org, out.call, &other_keys)
            .unwrap()
            .notes
            .is_empty(),
        "another org sees none of it"
    );
    let file = std::fs::read(l.f.dir.path().join("ringside.db")).unwrap_or_default();
    let wal = std::fs::read(l.f.dir.path().join("ringside.db-wal")).unwrap_or_default();
    for bytes in [file, wal] {
        assert!(!bytes.windows(7).any(|w| w == b"QX-8812"), "sealed at rest");
    }

    let cap = std::time::Duration::from_secs(30 * 86_400);
    assert_eq!(
        l.f.store.calls().purge_call_pii(cap).unwrap().notes,
        0,
        "not yet"
    );
    clock.advance(cap + std::time::Duration::from_secs(1));
    assert_eq!(
        l.f.store.calls().purge_call_pii(cap).unwrap().notes,
        3,
        "both notes and the pick, at the cap, synced or not"
    );
    let gone = notes.call_additions(l.org, out.call, &l.keys).unwrap();
    assert!(gone.notes.is_empty() && gone.pick.is_none());
}
