//! The simulator signs as the providers do: every provider × every state it can express, signed by
//! `simulate::sign_call` and read back by `verify_and_parse`, gives the same call; a different
//! secret is a 401; new events get new identities and a retry keeps its own; a property test
//! over random numbers and ids; and transcripts, signed by `simulate::sign_transcript`, read back
//! as the same utterances (Standard) or their joined text (Dialpad).

mod common;

use common::*;
use proptest::prelude::*;
use ringside_core::transcript::{Speaker, Utterance};
use ringside_core::{PhoneNumber, Pii};
use ringside_providers::simulate::{
    self, SignedRequest, SimulatedCall, parse_transcript_file, sends_transcripts, sign_call,
    sign_transcript, supported_states,
};
use ringside_providers::{
    CallEvent, CallState, Direction, ProviderError, ProviderKind, ProviderSecret, ProviderSettings,
    Request, verify_and_parse,
};

const URL: &str = "https://relay.example/v1/hooks/int_5f3a9c7e5f3a9c7e5f3a9c7e5f3a9c7e";
const STANDARD_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const STANDARD_OTHER: &str = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const SECRET: &str = "simulator-test-secret-7c1e";
const OTHER: &str = "simulator-test-secret-7c1f";

fn secret_for(kind: ProviderKind) -> ProviderSecret {
    secret(if kind == ProviderKind::Standard {
        STANDARD_SECRET
    } else {
        SECRET
    })
}

fn other_secret_for(kind: ProviderKind) -> ProviderSecret {
    secret(if kind == ProviderKind::Standard {
        STANDARD_OTHER
    } else {
        OTHER
    })
}

fn phone(text: &str) -> PhoneNumber {
    PhoneNumber::parse(text).expect("a valid test number")
}

fn sample(kind: ProviderKind, direction: Direction, state: CallState) -> SimulatedCall {
    SimulatedCall {
        call_id: simulate::new_call_id(kind),
        parent_call_id: Some(simulate::new_call_id(kind)),
        direction,
        state,
        from: phone(MARKER_NUMBER),
        to: Some(phone("+14155550199")),
        contact_name: Some(MARKER_NAME.to_owned()),
        provider_user_id: Some("7712".to_owned()),
        extension: Some("204".to_owned()),
        event_id: None,
    }
}

fn sign(kind: ProviderKind, call: &SimulatedCall) -> SignedRequest {
    sign_call(
        kind,
        &secret_for(kind),
        &ProviderSettings::default(),
        URL,
        call,
        now(),
    )
    .unwrap_or_else(|e| panic!("{kind} signs {:?}: {e}", call.state))
}

fn verify(
    kind: ProviderKind,
    secret: &ProviderSecret,
    signed: &SignedRequest,
) -> Result<ringside_providers::Outcome, ProviderError> {
    let headers = signed.header_pairs();
    verify_and_parse(
        kind,
        secret,
        &ProviderSettings::default(),
        &Request {
            url: &signed.url,
            headers: &headers,
            body: &signed.body,
        },
        now(),
    )
}

/// What the provider's payload can carry of the simulated call.
fn carries_agent(kind: ProviderKind) -> bool {
    matches!(
        kind,
        ProviderKind::Dialpad | ProviderKind::Ringcentral | ProviderKind::Standard
    )
}

/// Asserts that `event` is `call` as `kind` can express it.
fn assert_same_call(
    kind: ProviderKind,
    call: &SimulatedCall,
    signed: &SignedRequest,
    event: &CallEvent,
) {
    let what = format!("{kind} {:?} {:?}", call.direction, call.state);
    assert_eq!(event.provider, kind, "{what}: provider");
    assert_eq!(event.state, call.state, "{what}: state");
    assert_eq!(event.call_id, call.call_id, "{what}: call id");
    assert_eq!(
        event.parent_call_id,
        call.parent_call_id.clone().filter(|p| *p != call.call_id),
        "{what}: parent id"
    );
    assert_eq!(event.direction, call.direction, "{what}: direction");
    assert_eq!(
        e164(event.from.as_ref()).as_deref(),
        Some(call.from.e164()),
        "{what}: from"
    );
    assert_eq!(
        e164(event.to.as_ref()),
        call.to.as_ref().map(|n| n.e164().to_owned()),
        "{what}: to"
    );
    let agency = match call.direction {
        Direction::Outbound => Some(&call.from),
        Direction::Inbound | Direction::Unknown => call.to.as_ref(),
    };
    assert_eq!(
        e164(event.routing.dialed_number.as_ref()),
        agency.map(|n| n.e164().to_owned()),
        "{what}: dialed number"
    );
    if carries_agent(kind) {
        assert_eq!(
            event.routing.provider_user_id, call.provider_user_id,
            "{what}: provider user id"
        );
        assert_eq!(event.routing.extension, call.extension, "{what}: extension");
    } else {
        assert_eq!(event.routing.provider_user_id, None, "{what}: no user id");
        assert_eq!(event.routing.extension, None, "{what}: no extension");
    }
    let name = event.contact_name.as_ref().map(|n| n.expose().clone());
    if kind == ProviderKind::Vonage {
        assert_eq!(name, None, "{what}: Vonage Voice carries no name");
    } else {
        assert_eq!(name, call.contact_name, "{what}: contact name");
    }
    assert_eq!(event.occurred_at, Some(now()), "{what}: time");
    assert_eq!(event.event_id, signed.event_id, "{what}: event identity");
}

#[test]
fn every_provider_and_state_round_trips_through_its_verifier() {
    let mut checked = 0;
    for kind in ProviderKind::ALL {
        for &state in supported_states(kind) {
            for direction in [Direction::Inbound, Direction::Outbound, Direction::Unknown] {
                let call = sample(kind, direction, state);
                let signed = sign(kind, &call);
                let event = self::call(verify(kind, &secret_for(kind), &signed));
                assert_same_call(kind, &call, &signed, &event);
                checked += 1;
            }
        }
    }
    // Dialpad, RingCentral and Standard: 6 states; Vonage and Twilio: 4; three directions each.
    assert_eq!(checked, (6 + 6 + 4 + 4 + 6) * 3, "every combination ran");
}

#[test]
fn a_different_secret_is_a_401_for_every_provider_and_state() {
    for kind in ProviderKind::ALL {
        for &state in supported_states(kind) {
            let signed = sign(kind, &sample(kind, Direction::Inbound, state));
            let error = verify(kind, &other_secret_for(kind), &signed)
                .expect_err("another integration's secret must not verify");
            assert_eq!(error.http_status(), 401, "{kind} {state:?}: {error:?}");
        }
    }
}

#[test]
fn a_tampered_body_is_refused() {
    for kind in ProviderKind::ALL {
        let mut signed = sign(kind, &sample(kind, Direction::Inbound, CallState::Ringing));
        if kind == ProviderKind::Ringcentral {
            // RingCentral signs nothing (a static token): the documented limit of its scheme.
            continue;
        }
        let last = signed.body.len() - 1;
        signed.body = flipped(&signed.body, last - 1);
        assert!(
            verify(kind, &secret_for(kind), &signed).is_err(),
            "{kind}: a changed body must be refused"
        );
    }
}

#[test]
fn states_a_provider_cannot_express_are_refused_when_signing() {
    for kind in ProviderKind::ALL {
        for state in CallState::ALL {
            let result = sign_call(
                kind,
                &secret_for(kind),
                &ProviderSettings::default(),
                URL,
                &sample(kind, Direction::Inbound, state),
                now(),
            );
            if supported_states(kind).contains(&state) {
                assert!(result.is_ok(), "{kind} can express {state:?}");
            } else {
                assert!(
                    matches!(result, Err(ProviderError::Unprocessable { .. })),
                    "{kind} cannot express {state:?}: {result:?}"
                );
            }
        }
    }
    assert_eq!(
        supported_states(ProviderKind::Twilio),
        [
            CallState::Ringing,
            CallState::Answered,
            CallState::Ended,
            CallState::Missed
        ],
        "Twilio has no voicemail or transfer status"
    );
}

#[test]
fn each_signing_is_a_new_event_and_a_retry_keeps_its_identity() {
    for kind in ProviderKind::ALL {
        let call = sample(kind, Direction::Inbound, CallState::Ringing);
        let first = sign(kind, &call);
        // A later state change of the same state (Dialpad's identity includes its time).
        let second = sign_call(
            kind,
            &secret_for(kind),
            &ProviderSettings::default(),
            URL,
            &call,
            at(now().unix_timestamp() + 1),
        )
        .unwrap();
        if kind == ProviderKind::Vonage {
            assert_eq!(
                first.event_id, second.event_id,
                "Vonage Voice's identity is uuid:status, whatever we do"
            );
        } else {
            assert_ne!(
                first.event_id, second.event_id,
                "{kind}: two signings are two events"
            );
        }
        let retry = sign(
            kind,
            &SimulatedCall {
                event_id: Some(first.event_id.clone()),
                ..call.clone()
            },
        );
        let event = self::call(verify(kind, &secret_for(kind), &retry));
        assert_eq!(
            event.event_id, first.event_id,
            "{kind}: a retry carries the first delivery's identity"
        );
    }
}

#[test]
fn a_dialpad_retry_needs_a_dialpad_identity() {
    let call = SimulatedCall {
        event_id: Some("not-a-dialpad-id".to_owned()),
        ..sample(
            ProviderKind::Dialpad,
            Direction::Inbound,
            CallState::Ringing,
        )
    };
    let result = sign_call(
        ProviderKind::Dialpad,
        &secret(SECRET),
        &ProviderSettings::default(),
        URL,
        &call,
        now(),
    );
    assert!(
        matches!(result, Err(ProviderError::Unprocessable { .. })),
        "{result:?}"
    );
}

#[test]
fn payloads_use_each_providers_own_words() {
    let call = sample(
        ProviderKind::Dialpad,
        Direction::Inbound,
        CallState::Answered,
    );
    let signed = sign(ProviderKind::Dialpad, &call);
    let token = std::str::from_utf8(&signed.body).unwrap();
    let claims =
        ringside_providers::jwt::verify_hs256(token.as_bytes(), SECRET.as_bytes()).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
    assert_eq!(claims["state"], "connected", "Dialpad says connected");
    assert!(claims["call_id"].is_u64(), "Dialpad ids are numbers");
    assert!(claims["date_started"].is_i64(), "epoch milliseconds");
    assert_eq!(claims["target"]["type"], "user");

    let call = sample(
        ProviderKind::Twilio,
        Direction::Inbound,
        CallState::Answered,
    );
    let signed = sign(ProviderKind::Twilio, &call);
    let form = String::from_utf8(signed.body.clone()).unwrap();
    assert!(form.contains("CallStatus=in-progress"), "{form}");
    assert!(form.contains("From=%2B1"), "E.164, form-encoded");
    assert_eq!(signed.content_type, simulate::FORM);
    assert!(
        form.contains("CallSid=CA"),
        "Twilio call sids start with CA: {form}"
    );

    let call = sample(ProviderKind::Vonage, Direction::Inbound, CallState::Ended);
    let signed = sign(ProviderKind::Vonage, &call);
    let body: serde_json::Value = serde_json::from_slice(&signed.body).unwrap();
    assert_eq!(body["status"], "completed");
    assert_eq!(
        body["from"], "14155550123",
        "Vonage writes numbers without +"
    );
    assert!(
        signed
            .header_pairs()
            .iter()
            .any(|(k, v)| *k == "Authorization" && v.starts_with("Bearer ")),
        "a bearer JWT"
    );

    let call = sample(
        ProviderKind::Ringcentral,
        Direction::Inbound,
        CallState::Missed,
    );
    let signed = sign(ProviderKind::Ringcentral, &call);
    let body: serde_json::Value = serde_json::from_slice(&signed.body).unwrap();
    assert_eq!(body["body"]["parties"][0]["status"]["code"], "Disconnected");
    assert_eq!(body["body"]["parties"][0]["missedCall"], true);
}

#[test]
fn debug_prints_no_number_name_token_or_signature() {
    for kind in ProviderKind::ALL {
        let call = sample(kind, Direction::Inbound, CallState::Ringing);
        let signed = sign(kind, &call);
        for printed in [format!("{call:?}"), format!("{signed:?}")] {
            assert_no_markers(&printed);
            assert!(
                !printed.contains(SECRET),
                "{kind}: the secret leaked: {printed}"
            );
            for (name, value) in &signed.headers {
                if *value != signed.event_id {
                    assert!(
                        !printed.contains(value.as_str()),
                        "{kind}: the {name} header leaked: {printed}"
                    );
                }
            }
        }
    }
}

fn utterance(speaker: Speaker, text: &str, start_ms: Option<u64>) -> Utterance {
    Utterance {
        speaker,
        text: Pii::new(text.to_owned()),
        start_ms,
    }
}

fn sample_transcript() -> Vec<Utterance> {
    vec![
        utterance(
            Speaker::Agent,
            "Thanks for calling, how can I help?",
            Some(0),
        ),
        utterance(
            Speaker::Caller,
            &format!("{MARKER_TEXT}: I need to add a driver"),
            Some(2300),
        ),
        utterance(Speaker::Unknown, "   ", Some(2400)),
        utterance(Speaker::Unknown, "Sure — what's their name?", None),
    ]
}

fn sign_lines(
    kind: ProviderKind,
    call: &SimulatedCall,
    utterances: &[Utterance],
) -> Result<SignedRequest, ProviderError> {
    sign_transcript(
        kind,
        &secret_for(kind),
        &ProviderSettings::default(),
        URL,
        call,
        utterances,
        now(),
    )
}

#[test]
fn a_standard_transcript_round_trips_with_its_speakers_and_times() {
    let kind = ProviderKind::Standard;
    let call = sample(kind, Direction::Inbound, CallState::Ended);
    let signed = sign_lines(kind, &call, &sample_transcript()).unwrap();
    let event = transcript(verify(kind, &secret_for(kind), &signed));
    let spoken: Vec<Utterance> = sample_transcript()
        .into_iter()
        .filter(|u| !u.text.expose().trim().is_empty())
        .collect();
    assert_eq!(
        event.utterances, spoken,
        "the same utterances, blank ones left out"
    );
    assert_eq!(event.provider, kind, "provider");
    assert_eq!(event.call_id, call.call_id, "call id");
    assert_eq!(event.parent_call_id, call.parent_call_id, "parent id");
    assert_eq!(event.event_id, signed.event_id, "identity");
    let body: serde_json::Value = serde_json::from_slice(&signed.body).unwrap();
    assert_eq!(body["type"], "call.transcript", "the event type");
    assert_eq!(
        body["data"]["transcript"][0]["speaker"], "agent",
        "speaker words"
    );
    assert_eq!(body["data"]["transcript"][1]["start_ms"], 2300, "times");
    assert!(
        body["data"]["transcript"][2].get("start_ms").is_none(),
        "no start_ms when there is none"
    );
    assert_no_markers(&format!("{signed:?}"));
    assert_no_markers(&format!("{event:?}"));
}

#[test]
fn a_dialpad_transcript_is_a_transcription_event_with_the_joined_text() {
    let kind = ProviderKind::Dialpad;
    let call = sample(kind, Direction::Inbound, CallState::Voicemail);
    let signed = sign_lines(kind, &call, &sample_transcript()).unwrap();
    let event = transcript(verify(kind, &secret_for(kind), &signed));
    let joined = format!(
        "Thanks for calling, how can I help?\n{MARKER_TEXT}: I need to add a driver\n\
         Sure — what's their name?"
    );
    assert_eq!(
        lines(&event.utterances),
        vec![(Speaker::Unknown, joined, None)],
        "one utterance: the text joined by newlines (Dialpad's has no speakers or times)"
    );
    assert_eq!(event.call_id, call.call_id, "call id");
    assert_eq!(event.parent_call_id, call.parent_call_id, "master call id");
    assert_eq!(event.event_id, signed.event_id, "identity");
    assert!(
        signed
            .event_id
            .starts_with(&format!("{}:transcription:", call.call_id)),
        "{}",
        signed.event_id
    );
    let voicemail = sign(kind, &call);
    assert_ne!(
        voicemail.event_id, signed.event_id,
        "the voicemail state and its transcription are two events"
    );
    assert_no_markers(&format!("{event:?}"));
}

#[test]
fn a_transcript_retry_keeps_its_identity_and_a_new_signing_does_not() {
    for kind in [ProviderKind::Standard, ProviderKind::Dialpad] {
        let call = sample(kind, Direction::Inbound, CallState::Ended);
        let first = sign_lines(kind, &call, &sample_transcript()).unwrap();
        let later = sign_transcript(
            kind,
            &secret_for(kind),
            &ProviderSettings::default(),
            URL,
            &call,
            &sample_transcript(),
            at(now().unix_timestamp() + 1),
        )
        .unwrap();
        assert_ne!(
            first.event_id, later.event_id,
            "{kind}: two signings, two events"
        );
        let retry = sign_lines(
            kind,
            &SimulatedCall {
                event_id: Some(first.event_id.clone()),
                ..call.clone()
            },
            &sample_transcript(),
        )
        .unwrap();
        let event = transcript(verify(kind, &secret_for(kind), &retry));
        assert_eq!(
            event.event_id, first.event_id,
            "{kind}: the retry's identity"
        );
        let wrong = verify(kind, &other_secret_for(kind), &first);
        assert_eq!(
            wrong.map_err(|e| e.http_status()).err(),
            Some(401),
            "{kind}: another secret"
        );
    }
    let bad_retry = sign_lines(
        ProviderKind::Dialpad,
        &SimulatedCall {
            event_id: Some("123:voicemail:1700000000000".to_owned()),
            ..sample(ProviderKind::Dialpad, Direction::Inbound, CallState::Ended)
        },
        &sample_transcript(),
    );
    assert!(
        matches!(bad_retry, Err(ProviderError::Unprocessable { .. })),
        "a Dialpad transcript retry needs a transcription identity: {bad_retry:?}"
    );
}

#[test]
fn providers_without_webhook_transcripts_and_empty_or_oversize_transcripts_are_refused() {
    for kind in ProviderKind::ALL {
        let call = sample(kind, Direction::Inbound, CallState::Ended);
        let signed = sign_lines(kind, &call, &sample_transcript());
        assert_eq!(
            sends_transcripts(kind),
            signed.is_ok(),
            "{kind}: signs a transcript iff it sends one: {signed:?}"
        );
        if !sends_transcripts(kind) {
            assert!(
                matches!(&signed, Err(ProviderError::Unprocessable { what }) if what.contains("no transcript by webhook")),
                "{kind}: {signed:?}"
            );
            continue;
        }
        for utterances in [
            Vec::new(),
            vec![utterance(Speaker::Caller, " \n ", None)],
            vec![
                utterance(Speaker::Agent, "hi", None);
                ringside_providers::MAX_TRANSCRIPT_LINES + 1
            ],
        ] {
            let result = sign_lines(kind, &call, &utterances);
            assert!(
                matches!(result, Err(ProviderError::Unprocessable { .. })),
                "{kind}, {} utterances: {result:?}",
                utterances.len()
            );
        }
    }
    assert!(sends_transcripts(ProviderKind::Standard), "Standard");
    assert!(sends_transcripts(ProviderKind::Dialpad), "Dialpad");
}

#[test]
fn a_transcript_file_reads_labels_in_any_case_and_unlabelled_lines() {
    let file = "\u{feff}Caller: Hi, I need to add a driver.\r\n\
                \n\
                AGENT : Sure, what's their name?\n\
                   agent:   Got it.   \n\
                caller:\n\
                Just a line without a label\n\
                Note: a colon, but not a speaker\n\
                Callers: not a label either\n";
    assert_eq!(
        lines(&parse_transcript_file(file)),
        vec![
            (
                Speaker::Caller,
                "Hi, I need to add a driver.".to_owned(),
                None
            ),
            (Speaker::Agent, "Sure, what's their name?".to_owned(), None),
            (Speaker::Agent, "Got it.".to_owned(), None),
            (
                Speaker::Unknown,
                "Just a line without a label".to_owned(),
                None
            ),
            (
                Speaker::Unknown,
                "Note: a colon, but not a speaker".to_owned(),
                None
            ),
            (
                Speaker::Unknown,
                "Callers: not a label either".to_owned(),
                None
            ),
        ],
        "labels in any case with spaces; empty lines and empty labelled lines skipped"
    );
    assert!(parse_transcript_file("").is_empty(), "an empty file");
    assert!(
        parse_transcript_file("\n  \n\t\n").is_empty(),
        "blank lines"
    );

    // The file, signed and verified, comes back as it was read.
    let utterances = parse_transcript_file(file);
    let kind = ProviderKind::Standard;
    let call = sample(kind, Direction::Inbound, CallState::Ended);
    let signed = sign_lines(kind, &call, &utterances).unwrap();
    assert_eq!(
        transcript(verify(kind, &secret_for(kind), &signed)).utterances,
        utterances,
        "file → signed → verified"
    );
}

/// Any E.164 number our parser keeps as it is.
fn e164_number() -> impl Strategy<Value = PhoneNumber> {
    prop_oneof![
        "[2-9][0-9]{2}[2-9][0-9]{6}".prop_map(|d| format!("+1{d}")),
        "[2-9][0-9]{6,13}".prop_map(|d| format!("+{d}")),
    ]
    .prop_filter_map("a number the parser accepts", |text| {
        PhoneNumber::parse(&text).ok().filter(|n| n.e164() == text)
    })
}

fn id() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9]{1,18}", "[A-Za-z0-9_-]{1,64}"]
}

fn direction() -> impl Strategy<Value = Direction> {
    prop::sample::select(vec![
        Direction::Inbound,
        Direction::Outbound,
        Direction::Unknown,
    ])
}

proptest! {
    // Each case signs and verifies once per provider: a few dozen cases are plenty.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_numbers_and_ids_round_trip_for_every_provider(
        from in e164_number(),
        to in prop::option::of(e164_number()),
        call_id in id(),
        parent in prop::option::of(id()),
        user in prop::option::of(id()),
        extension in prop::option::of("[0-9]{1,6}"),
        name in prop::option::of("[A-Za-z][A-Za-z .'-]{0,30}[A-Za-z]"),
        direction in direction(),
        state_at in 0usize..6,
    ) {
        for kind in ProviderKind::ALL {
            let states = supported_states(kind);
            let call = SimulatedCall {
                call_id: call_id.clone(),
                parent_call_id: parent.clone(),
                direction,
                state: states[state_at % states.len()],
                from: from.clone(),
                to: to.clone(),
                contact_name: name.clone(),
                provider_user_id: user.clone(),
                extension: extension.clone(),
                event_id: None,
            };
            let signed = sign(kind, &call);
            let event = self::call(verify(kind, &secret_for(kind), &signed));
            assert_same_call(kind, &call, &signed, &event);
        }
    }
}

fn speaker() -> impl Strategy<Value = Speaker> {
    prop::sample::select(vec![Speaker::Caller, Speaker::Agent, Speaker::Unknown])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_transcripts_round_trip_for_both_providers_that_send_them(
        raw in prop::collection::vec(
            (speaker(), "[ -~\u{e9}\u{4e2d}\n]{0,40}", prop::option::of(any::<u64>())),
            1..20,
        ),
        call_id in id(),
    ) {
        let utterances: Vec<Utterance> = raw
            .iter()
            .map(|(speaker, text, start_ms)| utterance(*speaker, text, *start_ms))
            .collect();
        let spoken: Vec<Utterance> = utterances
            .iter()
            .filter(|u| !u.text.expose().trim().is_empty())
            .map(|u| utterance(u.speaker, u.text.expose().trim(), u.start_ms))
            .collect();
        for kind in [ProviderKind::Standard, ProviderKind::Dialpad] {
            let call = SimulatedCall {
                call_id: call_id.clone(),
                ..sample(kind, Direction::Inbound, CallState::Ended)
            };
            let signed = sign_lines(kind, &call, &utterances);
            if spoken.is_empty() {
                prop_assert!(signed.is_err(), "{kind}: nothing to sign");
                continue;
            }
            let event = transcript(verify(kind, &secret_for(kind), &signed.unwrap()));
            if kind == ProviderKind::Standard {
                prop_assert_eq!(&event.utterances, &spoken);
            } else {
                let joined: Vec<&str> = spoken.iter().map(|u| u.text.expose().as_str()).collect();
                prop_assert_eq!(
                    lines(&event.utterances),
                    vec![(Speaker::Unknown, joined.join("\n"), None)]
                );
            }
        }
    }
}
