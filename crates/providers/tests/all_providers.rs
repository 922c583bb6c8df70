//! Rules every provider keeps: oversize bodies are refused before any work, errors carry no
//! personal data, secrets never print, provider names parse; and property tests that no input —
//! unsigned or correctly signed — makes a parser panic.

mod common;

use common::*;
use proptest::prelude::*;
use ringside_providers::{
    MAX_BODY_BYTES, ProviderError, ProviderKind, ProviderSecret, ProviderSettings, Request,
    jwt::sign_hs256, standard, twilio, verify_and_parse, vonage,
};

#[test]
fn an_oversize_body_is_refused_for_every_provider() {
    let body = vec![b'a'; MAX_BODY_BYTES + 1];
    for kind in ProviderKind::ALL {
        let outcome = run(
            kind,
            "whsec_AAAA",
            "https://relay.example/",
            &[],
            &body,
            now(),
        );
        assert_eq!(
            outcome,
            Err(ProviderError::BodyTooLarge {
                limit: MAX_BODY_BYTES
            }),
            "{kind} must refuse an oversize body"
        );
        assert_eq!(outcome.unwrap_err().http_status(), 413, "oversize is 413");
    }
}

#[test]
fn an_unsigned_request_is_a_401_for_every_provider() {
    let body = format!(r#"{{"from":"{MARKER_NUMBER}","name":"{MARKER_NAME}"}}"#);
    for kind in ProviderKind::ALL {
        let error = run(
            kind,
            "whsec_AAAA",
            "https://relay.example/",
            &[],
            body.as_bytes(),
            now(),
        )
        .expect_err("an unsigned request must be refused");
        assert_eq!(
            error.http_status(),
            401,
            "{kind}: unsigned is 401 ({error:?})"
        );
        assert!(error.is_auth_failure(), "{kind}: an auth failure");
        assert_no_markers(&error.to_string());
        assert_no_markers(&format!("{error:?}"));
    }
}

#[test]
fn error_statuses_follow_the_contract() {
    for (error, status) in [
        (ProviderError::MissingSignature { what: "x" }, 401),
        (ProviderError::BadSignature, 401),
        (ProviderError::BodyHashMismatch, 401),
        (ProviderError::TimestampOutOfTolerance, 401),
        (ProviderError::UnsupportedAlgorithm { what: "x" }, 401),
        (ProviderError::Malformed { what: "x" }, 400),
        (ProviderError::Unprocessable { what: "x" }, 422),
        (ProviderError::BodyTooLarge { limit: 1 }, 413),
        (ProviderError::InvalidSecret { what: "x" }, 500),
    ] {
        assert_eq!(error.http_status(), status, "{error:?}");
        assert!(!error.code().is_empty(), "{error:?} has a code");
    }
}

#[test]
fn secrets_never_print_and_empty_secrets_are_refused() {
    let secret = ProviderSecret::new("hunter2-super-secret").unwrap();
    assert_eq!(
        format!("{secret:?}"),
        "ProviderSecret([redacted])",
        "Debug shows nothing of the secret"
    );
    for bad in ["", " padded", "trailing\n", "tab\tinside"] {
        assert!(
            matches!(
                ProviderSecret::new(bad),
                Err(ProviderError::InvalidSecret { .. })
            ),
            "{bad:?} must be refused as a secret"
        );
    }
}

#[test]
fn provider_names_parse_and_serialize_lowercase() {
    for kind in ProviderKind::ALL {
        assert_eq!(
            kind.as_str().parse::<ProviderKind>(),
            Ok(kind),
            "{kind} parses"
        );
        assert_eq!(
            kind.as_str().to_ascii_uppercase().parse::<ProviderKind>(),
            Ok(kind),
            "{kind} parses in any case"
        );
        assert_eq!(
            serde_json::to_string(&kind).unwrap(),
            format!("\"{kind}\""),
            "{kind} serializes lowercase"
        );
    }
    assert_eq!(
        "aircall".parse::<ProviderKind>(),
        Err(ProviderError::UnknownProvider),
        "unknown providers are refused"
    );
    let settings: ProviderSettings =
        serde_json::from_str(r#"{"vonage_sms_signature_method":"sha256"}"#).unwrap();
    assert_eq!(
        settings.vonage_sms_signature_method,
        vonage::SmsSignatureMethod::Sha256,
        "settings deserialize with defaults for the rest"
    );
}

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Authorization".to_owned()),
        Just("X-Twilio-Signature".to_owned()),
        Just("Verification-Token".to_owned()),
        Just("Validation-Token".to_owned()),
        Just("X-Vonage-Signature".to_owned()),
        Just("webhook-id".to_owned()),
        Just("webhook-timestamp".to_owned()),
        Just("webhook-signature".to_owned()),
        "[a-zA-Z-]{1,20}",
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Bearer ".to_owned()),
        Just("v1,".to_owned()),
        "Bearer [a-zA-Z0-9._-]{0,60}",
        "v1,[a-zA-Z0-9+/=]{0,60}( v1,[a-zA-Z0-9+/=]{0,60})?",
        "[0-9]{0,12}",
        any::<String>(),
    ]
}

fn kind() -> impl Strategy<Value = ProviderKind> {
    prop::sample::select(ProviderKind::ALL.to_vec())
}

fn check(kind: ProviderKind, url: &str, headers: &[(String, String)], body: &[u8]) {
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let request = Request {
        url,
        headers: &headers,
        body,
    };
    let result = verify_and_parse(
        kind,
        &ProviderSecret::new(SECRET).expect("a valid test secret"),
        &ProviderSettings::default(),
        &request,
        now(),
    );
    if let Err(error) = result {
        // Whatever the input, the status is one of the contract's.
        assert!(
            [400, 401, 413, 422, 500].contains(&error.http_status()),
            "{error:?}"
        );
    }
}

/// JSON-ish bodies that reach the parsers' field handling rather than failing at the first byte.
fn json_body() -> impl Strategy<Value = Vec<u8>> {
    let scalar = prop_oneof![
        Just("null".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| format!("{n:?}")),
        "\"[ -~]{0,20}\"",
        Just("[]".to_owned()),
        Just("{}".to_owned()),
    ];
    let key = prop_oneof![
        Just("call_id"),
        Just("state"),
        Just("direction"),
        Just("external_number"),
        Just("event_timestamp"),
        Just("date_started"),
        Just("master_call_id"),
        Just("to_number"),
        Just("from_number"),
        Just("id"),
        Just("created_date"),
        Just("uuid"),
        Just("status"),
        Just("event"),
        Just("body"),
        Just("type"),
        Just("data"),
        Just("parties"),
        Just("message_uuid"),
        Just("text"),
        Just("exp"),
        Just("payload_hash"),
        Just("transcript"),
        Just("transcription_text"),
        Just("speaker"),
        Just("start_ms"),
        Just("lines"),
        Just("content"),
        Just("time"),
    ];
    prop::collection::vec((key, scalar), 0..8).prop_map(|fields| {
        let inner: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", inner.join(",")).into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_provider_panics_on_arbitrary_bytes_and_headers(
        kind in kind(),
        url in prop_oneof![Just("https://relay.example/v1/hooks/int_0".to_owned()), any::<String>()],
        headers in prop::collection::vec((header_name(), header_value()), 0..6),
        body in prop_oneof![prop::collection::vec(any::<u8>(), 0..512), json_body()],
    ) {
        check(kind, &url, &headers, &body);
    }

    #[test]
    fn no_parser_panics_on_correctly_signed_arbitrary_payloads(
        payload in prop_oneof![prop::collection::vec(any::<u8>(), 0..256), json_body()],
        wrap in prop::sample::select(vec![
            "", "session", "sms", "standard-call", "standard-transcript", "transcript-lines",
            "dialpad-transcription", "vis",
        ]),
    ) {
        let text = String::from_utf8_lossy(&payload).into_owned();
        let body = match wrap {
            "session" => format!(r#"{{"uuid":"u","event":"/telephony/sessions","body":{{"parties":[{text}]}}}}"#).into_bytes(),
            "sms" => format!(r#"{{"uuid":"u","event":"/message-store/instant","body":{text}}}"#).into_bytes(),
            "standard-call" => format!(r#"{{"type":"call.ringing","data":{text}}}"#).into_bytes(),
            "standard-transcript" => format!(r#"{{"type":"call.transcript","data":{text}}}"#).into_bytes(),
            "transcript-lines" => format!(r#"{{"type":"call.transcript","data":{{"call_id":1,"transcript":[{text},{text}]}}}}"#).into_bytes(),
            "dialpad-transcription" => format!(r#"{{"call_id":1,"state":"transcription","transcription_text":{text}}}"#).into_bytes(),
            "vis" => format!(r#"{{"event":{text}}}"#).into_bytes(),
            _ => payload.clone(),
        };
        let secret = ProviderSecret::new(SECRET).unwrap();
        let settings = ProviderSettings::default();
        let url = "https://relay.example/v1/hooks/int_0";
        let ts = now().unix_timestamp();

        // Dialpad: the JWT payload is the arbitrary bytes.
        let token = sign_hs256(&body, SECRET.as_bytes());
        let dialpad = Request { url, headers: &[], body: token.as_bytes() };
        let _ = verify_and_parse(ProviderKind::Dialpad, &secret, &settings, &dialpad, now());

        // RingCentral: the right token, arbitrary body.
        let rc_headers = [("Verification-Token", SECRET)];
        let rc = Request { url, headers: &rc_headers, body: &body };
        let _ = verify_and_parse(ProviderKind::Ringcentral, &secret, &settings, &rc, now());

        // Standard Webhooks: signed arbitrary body.
        let signature = standard::sign(&secret, "msg_1", ts, &body).unwrap();
        let ts_text = ts.to_string();
        let sw_headers = [
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", ts_text.as_str()),
            ("webhook-signature", signature.as_str()),
        ];
        let sw = Request { url, headers: &sw_headers, body: &body };
        let _ = verify_and_parse(ProviderKind::Standard, &secret, &settings, &sw, now());

        // Vonage VIS: signed arbitrary body.
        let vis_signature = vonage::sign_vis(SECRET.as_bytes(), &body);
        let vis_headers = [(vonage::DEFAULT_VIS_SIGNATURE_HEADER, vis_signature.as_str())];
        let vis = Request { url, headers: &vis_headers, body: &body };
        let _ = verify_and_parse(ProviderKind::Vonage, &secret, &settings, &vis, now());

        // Dialpad's transcript API answer: not a webhook, the same rule.
        let _ = ringside_providers::dialpad::transcript_from_api(&body);

        // Twilio: arbitrary bytes as a form, signed over what they decode to.
        let params: Vec<(String, String)> = form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let tw_signature = twilio::signature(SECRET.as_bytes(), url, &pairs);
        let tw_headers = [("X-Twilio-Signature", tw_signature.as_str())];
        let tw = Request { url, headers: &tw_headers, body: &body };
        let _ = verify_and_parse(ProviderKind::Twilio, &secret, &settings, &tw, now());
    }
}

#[test]
fn a_request_debug_shows_no_query_header_value_or_body() {
    let url = format!("https://relay.example/v1/hooks/int_0?msisdn={MARKER_DIGITS}");
    let body = format!("From={MARKER_NUMBER}&Body={MARKER_TEXT}");
    let headers = [("X-Twilio-Signature", MARKER_NAME)];
    let request = Request {
        url: &url,
        headers: &headers,
        body: body.as_bytes(),
    };
    let printed = format!("{request:?}");
    assert_no_markers(&printed);
    assert!(
        printed.contains("X-Twilio-Signature") && printed.contains("/v1/hooks/int_0"),
        "the path and header names are still there to debug with: {printed}"
    );
}

#[test]
fn events_round_trip_through_serde_for_durable_storage() {
    let body = format!(
        r#"{{"type":"call.ringing","timestamp":"2023-11-14T22:13:20Z","data":{{"call_id":"c1","direction":"inbound","from":"{MARKER_NUMBER}","to":"anonymous","contact_name":"{MARKER_NAME}","dialed_number":"sip:desk@example.com"}}}}"#
    );
    let ts = now().unix_timestamp();
    let secret = ProviderSecret::new(SECRET).expect("a valid test secret");
    let signature = standard::sign(&secret, "evt_1", ts, body.as_bytes()).expect("signs");
    let ts_text = ts.to_string();
    let event = match verify_and_parse(
        ProviderKind::Standard,
        &secret,
        &ProviderSettings::default(),
        &Request {
            url: "https://relay.example/",
            headers: &[
                ("webhook-id", "evt_1"),
                ("webhook-timestamp", &ts_text),
                ("webhook-signature", &signature),
            ],
            body: body.as_bytes(),
        },
        now(),
    ) {
        Ok(ringside_providers::Outcome::Event(event)) => event,
        other => panic!("expected an event, got {other:?}"),
    };
    let json = serde_json::to_string(&event).expect("serializes");
    let back: ringside_providers::WebhookEvent = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, event, "an event survives storage unchanged");
    let ringside_providers::WebhookEvent::Call(call) = back else {
        panic!("a call event stays a call event");
    };
    assert_eq!(
        call.to,
        Some(ringside_providers::Number::Withheld),
        "withheld is kept"
    );
    assert!(
        matches!(
            call.routing.dialed_number,
            Some(ringside_providers::Number::Unparsed(_))
        ),
        "an unparseable number is kept as text"
    );
}

#[test]
fn transcript_events_round_trip_through_serde_for_durable_storage() {
    let body = format!(
        r#"{{"type":"call.transcript","data":{{"call_id":"c1","parent_call_id":"p1","transcript":[{{"speaker":"caller","text":"{MARKER_TEXT}","start_ms":5}},{{"text":"two"}}]}}}}"#
    );
    let ts = now().unix_timestamp();
    let secret = ProviderSecret::new(SECRET).expect("a valid test secret");
    let signature = standard::sign(&secret, "evt_2", ts, body.as_bytes()).expect("signs");
    let ts_text = ts.to_string();
    let event = match verify_and_parse(
        ProviderKind::Standard,
        &secret,
        &ProviderSettings::default(),
        &Request {
            url: "https://relay.example/",
            headers: &[
                ("webhook-id", "evt_2"),
                ("webhook-timestamp", &ts_text),
                ("webhook-signature", &signature),
            ],
            body: body.as_bytes(),
        },
        now(),
    ) {
        Ok(ringside_providers::Outcome::Event(event)) => event,
        other => panic!("expected an event, got {other:?}"),
    };
    assert_eq!(event.provider(), ProviderKind::Standard, "provider()");
    assert_eq!(event.event_id(), "evt_2", "event_id()");
    let json = serde_json::to_value(&event).expect("serializes");
    assert_eq!(json["kind"], "transcript", "tagged as a transcript");
    assert_eq!(
        json["utterances"][0]["speaker"], "caller",
        "lowercase speakers"
    );
    let back: ringside_providers::WebhookEvent =
        serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, event, "a transcript survives storage unchanged");
    assert_no_markers(&format!("{back:?}"));
}
