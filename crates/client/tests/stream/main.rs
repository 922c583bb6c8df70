//! The stream against a scripted stand-in relay (`stand_in.rs`): connections broken at precise
//! moments, close codes, silence, tickets refused — and each event delivered exactly once.

// Test helpers panic on failure: that is how a test reports it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod stand_in;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ringside_client::ClientError;
use ringside_client::stream::{
    BackoffPolicy, CloseReason, ConnectionState, Disconnect, Jitter, SendError, StreamEvent,
    StreamHandle, StreamOptions,
};
use ringside_core::wire::ClientMessage;
use ringside_core::{CallId, Pii, PopId};
use stand_in::{PATIENCE, StandIn, TicketAnswer};

/// Fast retries, so a test is not waiting on the production back-off.
fn options() -> StreamOptions {
    StreamOptions {
        backoff: BackoffPolicy {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            healthy_after: Duration::from_secs(10),
            jitter: Jitter::Full,
        },
        ..StreamOptions::default()
    }
}

async fn next(stream: &mut StreamHandle) -> StreamEvent {
    tokio::time::timeout(PATIENCE, stream.next())
        .await
        .expect("the stream says something")
        .expect("the stream is still running")
}

async fn connected(stream: &mut StreamHandle) {
    match next(stream).await {
        StreamEvent::State(ConnectionState::Connected(hello)) => {
            assert_eq!(hello.protocol_version, ringside_core::PROTOCOL_VERSION);
        }
        other => panic!("expected connected, got {other:?}"),
    }
}

async fn reconnecting(stream: &mut StreamHandle) -> Disconnect {
    match next(stream).await {
        StreamEvent::State(ConnectionState::Reconnecting { cause, delay, .. }) => {
            assert!(
                delay <= Duration::from_millis(200),
                "within the policy's max"
            );
            cause
        }
        other => panic!("expected reconnecting, got {other:?}"),
    }
}

async fn closed(stream: &mut StreamHandle) -> CloseReason {
    let reason = match next(stream).await {
        StreamEvent::State(ConnectionState::Closed(reason)) => reason,
        other => panic!("expected closed, got {other:?}"),
    };
    assert!(
        tokio::time::timeout(PATIENCE, stream.next())
            .await
            .unwrap()
            .is_none(),
        "nothing follows Closed: the channel ends"
    );
    reason
}

/// The seq of the next event, which must be a message.
async fn seq(stream: &mut StreamHandle) -> u64 {
    match next(stream).await {
        StreamEvent::Message(message) => message.seq().expect("events carry a seq"),
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test]
async fn a_dropped_connection_resumes_after_the_last_handled_seq_and_nothing_is_shown_twice() {
    let mut relay = StandIn::start().await;
    let mut stream = relay.session().stream(options());

    let mut conn = relay.accept().await;
    assert_eq!(conn.hello(30).await, 0, "a first start resumes after 0");
    connected(&mut stream).await;
    for s in 1..=3 {
        conn.pop(s).await;
    }
    let mut shown = vec![
        seq(&mut stream).await,
        seq(&mut stream).await,
        seq(&mut stream).await,
    ];
    assert_eq!(conn.acks_through(3).await, [1, 2, 3], "one ack per event");
    conn.kill();
    assert!(
        matches!(reconnecting(&mut stream).await, Disconnect::Dropped(_)),
        "a connection lost without a close frame is retried"
    );

    let mut conn = relay.accept().await;
    assert_eq!(
        conn.hello(30).await,
        3,
        "resume after the highest seq handled"
    );
    connected(&mut stream).await;
    // An at-least-once relay may send again what it is not sure was handled.
    for s in [2, 3, 4, 3, 5] {
        conn.notice(s).await;
    }
    shown.push(seq(&mut stream).await);
    shown.push(seq(&mut stream).await);
    assert_eq!(shown, [1, 2, 3, 4, 5], "each seq once, in order");
    assert_eq!(
        conn.acks_through(5).await,
        [3, 3, 4, 4, 5],
        "duplicates are acked with the mark, so the relay stops resending them"
    );
    assert_eq!(
        relay.tickets_issued(),
        2,
        "a fresh single-use ticket per connection"
    );
    assert_eq!(relay.upgrades_refused(), 0, "no ticket was used twice");
    assert_eq!(relay.origins_seen(), 0, "a native client sends no Origin");
    stream.close().await;
}

#[tokio::test]
async fn slow_consumer_4408_and_going_away_1001_reconnect_and_resume() {
    let mut relay = StandIn::start().await;
    let mut stream = relay.session().stream(options());

    let mut conn = relay.accept().await;
    assert_eq!(conn.hello(30).await, 0);
    connected(&mut stream).await;
    conn.pop(1).await;
    assert_eq!(seq(&mut stream).await, 1);
    conn.acks_through(1).await;
    conn.close(4408, "slow consumer").await;
    match reconnecting(&mut stream).await {
        Disconnect::Closed { code, reason } => {
            assert_eq!(code, 4408);
            assert_eq!(reason, "slow consumer");
        }
        other => panic!("expected the close code, got {other:?}"),
    }

    let mut conn = relay.accept().await;
    assert_eq!(conn.hello(30).await, 1, "resumes where the consumer is");
    connected(&mut stream).await;
    conn.pop(2).await;
    assert_eq!(seq(&mut stream).await, 2);
    conn.acks_through(2).await;
    conn.close(1001, "").await;
    assert!(matches!(
        reconnecting(&mut stream).await,
        Disconnect::Closed { code: 1001, .. }
    ));

    let mut conn = relay.accept().await;
    assert_eq!(conn.hello(30).await, 2);
    connected(&mut stream).await;
    stream.close().await;
}

#[tokio::test]
async fn close_4403_stops_for_good_and_says_the_session_was_revoked() {
    let mut relay = StandIn::start().await;
    let mut stream = relay.session().stream(options());
    let mut conn = relay.accept().await;
    conn.hello(30).await;
    connected(&mut stream).await;
    conn.close(4403, "disabled").await;
    match closed(&mut stream).await {
        CloseReason::SessionRevoked { reason } => assert_eq!(reason, "disabled"),
        other => panic!("expected revoked, got {other:?}"),
    }
    assert!(
        !relay.connects_within(Duration::from_millis(600)).await,
        "no reconnection after 4403"
    );
    assert_eq!(relay.tickets_issued(), 1, "not even a ticket request");
}

#[tokio::test]
async fn a_session_revoked_message_stops_the_stream_with_its_reason() {
    let mut relay = StandIn::start().await;
    let mut stream = relay.session().stream(options());
    let mut conn = relay.accept().await;
    conn.hello(30).await;
    connected(&mut stream).await;
    conn.send(&ringside_core::wire::ServerMessage::SessionRevoked(
        ringside_core::wire::SessionRevoked {
            reason: "signed_out".to_owned(),
        },
    ))
    .await;
    match closed(&mut stream).await {
        CloseReason::SessionRevoked { reason } => assert_eq!(reason, "signed_out"),
        other => panic!("expected revoked, got {other:?}"),
    }
    assert!(!relay.connects_within(Duration::from_millis(600)).await);
}

#[tokio::test]
async fn a_silent_relay_is_given_up_after_two_heartbeats() {
    let mut relay = StandIn::start().await;
    let mut stream = relay.session().stream(options());
    let mut conn = relay.accept().await;
    conn.hello(1).await;
    connected(&mut stream).await;
    let since = Instant::now();
    let _held = conn.into_silence();
    assert!(matches!(
        reconnecting(&mut stream).await,
        Disconnect::Timeout
    ));
    let waited = since.elapsed();
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_secs(4),
        "dead after 2 × heartbeat (1 s), not before: {waited:?}"
    );
    let mut conn = relay.accept().await;
    assert_eq!(conn.hello(30).await, 0);
    connected(&mut stream).await;
    stream.close().await;
}

#[tokio::test]
async fn a_quiet_but_alive_relay_is_kept_and_pinged_every_heartbeat() {
    let mut relay = StandIn::start().await;
    let mut stream = relay.session().stream(options());
    let mut conn = relay.accept().await;
    conn.hello(1).await;
    connected(&mut stream).await;
    let (pings, texts) = conn
        .keep_alive(Duration::from_millis(3500), Duration::from_millis(500))
        .await;
    assert!(
        (2..=5).contains(&pings),
        "the client pings once a heartbeat: {pings}"
    );
    assert!(texts.is_empty(), "and says nothing else: {texts:?}");
    assert!(
        tokio::time::timeout(Duration::from_millis(100), stream.next())
            .await
            .is_err(),
        "no reconnection while the relay answers"
    );
    stream.close().await;
}

#[tokio::test]
async fn a_ticket_refused_at_the_upgrade_is_retried_with_a_fresh_one() {
    let mut relay = StandIn::start().await;
    relay.refuse_next_upgrade();
    let mut stream = relay.session().stream(options());
    assert!(matches!(
        reconnecting(&mut stream).await,
        Disconnect::Refused { status: 401 }
    ));
    let mut conn = relay.accept().await;
    conn.hello(30).await;
    connected(&mut stream).await;
    assert_eq!(relay.tickets_issued(), 2);
    stream.close().await;
}

#[tokio::test]
async fn a_relay_in_trouble_is_retried_and_a_session_that_ended_stops_the_stream() {
    let mut relay = StandIn::start().await;
    relay.answer_tickets(TicketAnswer::Unavailable);
    let mut stream = relay.session().stream(options());
    match reconnecting(&mut stream).await {
        Disconnect::Ticket(ClientError::Api { status: 503, .. }) => {}
        other => panic!("a 503 is retried: {other:?}"),
    }
    relay.answer_tickets(TicketAnswer::Issue);
    let mut conn = relay.accept().await;
    conn.hello(30).await;
    // The 503 may have been retried more than once before the switch.
    loop {
        match next(&mut stream).await {
            StreamEvent::State(ConnectionState::Reconnecting {
                cause: Disconnect::Ticket(_),
                ..
            }) => {}
            StreamEvent::State(ConnectionState::Connected(_)) => break,
            other => panic!("expected retries, then connected: {other:?}"),
        }
    }

    relay.answer_tickets(TicketAnswer::Revoked);
    conn.kill();
    assert!(matches!(
        reconnecting(&mut stream).await,
        Disconnect::Dropped(_)
    ));
    match closed(&mut stream).await {
        CloseReason::SessionEnded(error) => {
            assert_eq!(error.code(), Some("session_revoked"));
        }
        other => panic!("expected the session to have ended, got {other:?}"),
    }
}

#[tokio::test]
async fn consumer_messages_reach_the_relay_even_across_a_reconnect() {
    let mut relay = StandIn::start().await;
    let mut stream = relay.session().stream(options());
    let mut conn = relay.accept().await;
    conn.hello(30).await;
    connected(&mut stream).await;

    let pop_id = PopId::random();
    stream
        .send(ClientMessage::Dismiss { pop_id })
        .await
        .unwrap();
    assert_eq!(conn.receive().await, ClientMessage::Dismiss { pop_id });
    assert_eq!(
        stream.send(ClientMessage::Ack { seq: 9 }).await,
        Err(SendError::Reserved),
        "acks are the stream's own"
    );
    assert_eq!(
        stream.send(ClientMessage::Resume { after_seq: 0 }).await,
        Err(SendError::Reserved)
    );

    conn.kill();
    assert!(matches!(
        reconnecting(&mut stream).await,
        Disconnect::Dropped(_)
    ));
    let note = ClientMessage::Note {
        call_id: CallId::random(),
        text: Pii::new("called back about the renewal".to_owned()),
    };
    stream.send(note.clone()).await.unwrap();
    let mut conn = relay.accept().await;
    assert_eq!(conn.hello(30).await, 0);
    assert_eq!(
        conn.receive().await,
        note,
        "a message sent while disconnected goes out after resume"
    );
    stream.close().await;
}

#[tokio::test]
async fn a_stream_started_after_an_earlier_run_drops_what_that_run_handled() {
    let mut relay = StandIn::start().await;
    let mut stream = relay.session().stream(StreamOptions {
        after_seq: 41,
        ..options()
    });
    let mut conn = relay.accept().await;
    assert_eq!(conn.hello_with(30, 45).await, 41);
    connected(&mut stream).await;
    conn.pop(41).await;
    conn.pop(42).await;
    assert_eq!(
        seq(&mut stream).await,
        42,
        "41 was handled by the earlier run"
    );
    assert_eq!(conn.acks_through(42).await, [41, 42]);
    stream.close().await;
}

#[tokio::test]
async fn close_says_goodbye_with_1000() {
    let mut relay = StandIn::start().await;
    let mut stream = relay.session().stream(options());
    let mut conn = relay.accept().await;
    conn.hello(30).await;
    connected(&mut stream).await;
    stream.close().await;
    let mut ws = conn.into_silence();
    let frame = tokio::time::timeout(PATIENCE, async {
        loop {
            match ws.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => return frame,
                Some(Ok(_)) => {}
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .unwrap()
    .expect("a close frame with a code");
    assert_eq!(u16::from(frame.code), 1000);
}

#[tokio::test]
async fn a_saved_seq_the_relay_never_gave_is_lowered_to_the_relays_count() {
    let mut relay = StandIn::start().await;
    let mut stream = relay.session().stream(StreamOptions {
        after_seq: 500,
        ..options()
    });
    let mut conn = relay.accept().await;
    assert_eq!(
        conn.hello_with(30, 7).await,
        7,
        "the relay has given 7 events: 500 is not this user's, so resume after 7"
    );
    connected(&mut stream).await;
    conn.pop(8).await;
    assert_eq!(seq(&mut stream).await, 8, "new events are not dropped");
    stream.close().await;
}

#[tokio::test]
async fn a_refusal_reaches_the_consumer_unacked_and_the_stream_goes_on() {
    let mut relay = StandIn::start().await;
    let mut stream = relay.session().stream(options());
    let mut conn = relay.accept().await;
    conn.hello(30).await;
    connected(&mut stream).await;
    conn.send(&ringside_core::wire::ServerMessage::Error(
        ringside_core::wire::StreamError {
            code: "call_not_routed".to_owned(),
            message: "this call did not ring for you".to_owned(),
        },
    ))
    .await;
    match next(&mut stream).await {
        StreamEvent::Message(ringside_core::wire::ServerMessage::Error(refused)) => {
            assert_eq!(refused.code, "call_not_routed");
        }
        other => panic!("expected the refusal, got {other:?}"),
    }
    conn.pop(1).await;
    assert_eq!(seq(&mut stream).await, 1, "the stream goes on");
    assert_eq!(
        conn.acks_through(1).await,
        [1],
        "the refusal itself is not acked"
    );
    stream.close().await;
}
