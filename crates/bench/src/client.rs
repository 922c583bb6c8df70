//! The bench's clients: signed webhooks (exactly as the provider would sign them), stream tickets,
//! and WebSocket connections from a chosen 127.0.0.x source address.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use ringside_core::wire::{CallState, Direction};
use ringside_core::{Clock, PhoneNumber, SystemClock};
use ringside_providers::simulate::{SignedRequest, SimulatedCall, sign_call};
use ringside_providers::{ProviderKind, ProviderSecret, ProviderSettings};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The caller on every simulated call (the AMS scenario's calls come from a sandbox client).
pub(crate) const CALLER: &str = "+16175550100";

/// A call's marker in its caller name: `Caller 00000042`, found again in the pop (or, for the
/// baseline, in the forwarded body).
const MARK: &str = "Caller ";

pub(crate) type Socket = WebSocketStream<TcpStream>;

/// Signs webhooks for one Standard Webhooks integration.
#[derive(Debug, Clone)]
pub(crate) struct Signer {
    pub(crate) url: String,
    secret: ProviderSecret,
    run: u64,
}

impl Signer {
    pub(crate) fn new(relay: SocketAddr, integration: &str, secret: &str) -> Result<Self> {
        Ok(Self {
            url: format!("http://{relay}/v1/hooks/{integration}"),
            secret: ProviderSecret::new(secret).map_err(|e| anyhow::anyhow!("secret: {e}"))?,
            run: Clock::now(&SystemClock).unix_timestamp_nanos() as u64,
        })
    }

    /// A new ringing call `n` for provider user `agent`, marked with `n`.
    pub(crate) fn ringing(&self, n: u64, agent: &str) -> Result<SignedRequest> {
        self.ringing_from(n, agent, CALLER)
    }

    /// [`Signer::ringing`] from the number `from`.
    pub(crate) fn ringing_from(&self, n: u64, agent: &str, from: &str) -> Result<SignedRequest> {
        self.call(n, agent, from, CallState::Ringing)
    }

    /// Call `n` from `from` for `agent`, in `state` (a new event each time).
    pub(crate) fn call(
        &self,
        n: u64,
        agent: &str,
        from: &str,
        state: CallState,
    ) -> Result<SignedRequest> {
        let mut call = SimulatedCall::new(
            format!("bench-{}-{n}", self.run),
            Direction::Inbound,
            state,
            PhoneNumber::parse(from).map_err(|e| anyhow::anyhow!("number: {e}"))?,
        );
        call.provider_user_id = Some(agent.to_owned());
        call.contact_name = Some(format!("{MARK}{n:08}"));
        sign_call(
            ProviderKind::Standard,
            &self.secret,
            &ProviderSettings::default(),
            &self.url,
            &call,
            Clock::now(&SystemClock),
        )
        .map_err(|e| anyhow::anyhow!("signing: {e}"))
    }
}

/// POSTs a signed request to `url`; the status.
pub(crate) async fn post(http: &reqwest::Client, url: &str, signed: &SignedRequest) -> Result<u16> {
    let mut request = http.post(url).body(signed.body.clone());
    for (name, value) in signed.header_pairs() {
        request = request.header(name, value);
    }
    let res = request.send().await?;
    let status = res.status().as_u16();
    let _ = res.bytes().await;
    Ok(status)
}

/// The marker number in a message, if any.
pub(crate) fn mark_of(text: &str) -> Option<u64> {
    let at = text.find(MARK)? + MARK.len();
    text.get(at..at + 8)?.parse().ok()
}

/// `POST /v1/stream/ticket` with the agent's bearer token.
pub(crate) async fn ticket(
    http: &reqwest::Client,
    relay: SocketAddr,
    token: &str,
) -> Result<String> {
    let res = http
        .post(format!("http://{relay}/v1/stream/ticket"))
        .bearer_auth(token)
        .send()
        .await?;
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!("ticket: {status} {body}");
    }
    body["ticket"]
        .as_str()
        .map(str::to_owned)
        .context("ticket in the answer")
}

/// The `n`th source address: 127.0.0.1, 127.0.0.2, …
pub(crate) fn source(n: usize, sources: u8) -> IpAddr {
    let last = 1 + (n % usize::from(sources.max(1))) as u8;
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// Opens a WebSocket to `url` on `server` from `source` (own port range per source address).
pub(crate) async fn connect(server: SocketAddr, url: &str, source: IpAddr) -> Result<Socket> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(server).await?;
    // Small buffers: the bench holds tens of thousands of these itself.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await?;
    Ok(ws)
}

/// The next text frame (pings are answered by reading); `None` once closed.
pub(crate) async fn next_text(ws: &mut Socket) -> Option<String> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) => return Some(t.as_str().to_owned()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// When each marked message arrived.
#[derive(Debug, Default)]
pub(crate) struct Arrivals(Mutex<HashMap<u64, Instant>>);

impl Arrivals {
    pub(crate) fn record(&self, mark: u64, at: Instant) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(mark)
            .or_insert(at);
    }

    pub(crate) fn get(&self, mark: u64) -> Option<Instant> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&mark)
            .copied()
    }
}

/// Which message of a call an agent times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Awaited {
    /// The pop itself.
    Pop,
    /// The pop's `pop_update` (the AMS's answer).
    Update,
}

/// An agent on the relay's stream: reads `hello`, sends `resume`, then records the arrival of
/// each call's `awaited` message and acks every message, until the socket closes.
pub(crate) async fn relay_agent(mut ws: Socket, arrivals: Arc<Arrivals>, awaited: Awaited) {
    let Some(_hello) = next_text(&mut ws).await else {
        return;
    };
    let resume = serde_json::json!({"type": "resume", "after_seq": 0}).to_string();
    if ws.send(Message::Text(resume.into())).await.is_err() {
        return;
    }
    // A pop_update names its pop, not its call: the marks of this agent's pops by pop id.
    let mut marks: HashMap<String, u64> = HashMap::new();
    while let Some(text) = next_text(&mut ws).await {
        let now = Instant::now();
        let message: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let pop_id = message["pop_id"].as_str().unwrap_or_default().to_owned();
        match (message["type"].as_str(), awaited) {
            (Some("pop"), _) => {
                if let Some(mark) = mark_of(&text) {
                    if awaited == Awaited::Pop {
                        arrivals.record(mark, now);
                    }
                    marks.insert(pop_id, mark);
                }
            }
            (Some("pop_update"), Awaited::Update) => {
                if let Some(&mark) = marks.get(&pop_id) {
                    arrivals.record(mark, now);
                }
            }
            _ => {}
        }
        if let Some(seq) = message["seq"].as_u64() {
            let ack = serde_json::json!({"type": "ack", "seq": seq}).to_string();
            if ws.send(Message::Text(ack.into())).await.is_err() {
                return;
            }
        }
    }
}

/// A client of the baseline forwarder: records each forwarded body's arrival.
pub(crate) async fn baseline_agent(mut ws: Socket, arrivals: Arc<Arrivals>) {
    while let Some(text) = next_text(&mut ws).await {
        let now = Instant::now();
        if let Some(mark) = mark_of(&text) {
            arrivals.record(mark, now);
        }
    }
}

/// Holds a connection open (answering pings) until it closes; `true` when it was open.
pub(crate) async fn hold(mut ws: Socket) {
    while next_text(&mut ws).await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_found_in_pops_and_bodies() {
        assert_eq!(mark_of(r#"{"caller_name":"Caller 00000042"}"#), Some(42));
        assert_eq!(mark_of("no mark"), None);
        assert_eq!(source(0, 4), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(source(5, 4), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    }
}
