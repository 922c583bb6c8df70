//! The baselines: what the relay is measured against, in the same run.
//!
//! - The bare forwarder: an axum `POST /hook/{n}` that hands the body to WebSocket client `n`
//!   (tokio-tungstenite): no authentication, no store, no routing table — the floor for
//!   webhook → socket on this machine.
//! - `POST /ok`: reads the body and answers 200 — the floor for ingest.
//! - The bare WebSocket server (a child process, `--bare-ws-server PORT`): accepts, sends one
//!   hello frame, answers pings — the floor for memory per held connection; run once with
//!   tokio-tungstenite's defaults (as axum's upgrade, which the relay uses) and once with a 4 KiB
//!   read buffer, to show what that one setting is worth.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Result;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type Clients = Arc<Mutex<Vec<mpsc::Sender<String>>>>;

/// The in-process forwarder: HTTP on `http`, WebSocket clients on `ws`.
#[derive(Debug)]
pub(crate) struct Forwarder {
    pub(crate) http: SocketAddr,
    pub(crate) ws: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Forwarder {
    pub(crate) async fn start() -> Result<Self> {
        let clients: Clients = Arc::default();
        let ws_listener = TcpListener::bind("127.0.0.1:0").await?;
        let http_listener = TcpListener::bind("127.0.0.1:0").await?;
        let (ws, http) = (ws_listener.local_addr()?, http_listener.local_addr()?);
        let accept = tokio::spawn(accept_ws(ws_listener, Arc::clone(&clients)));
        let app = Router::new()
            .route("/hook/{n}", post(forward))
            .route("/ok", post(ok))
            .with_state(clients);
        let serve = tokio::spawn(async move {
            let _ = axum::serve(http_listener, app).await;
        });
        Ok(Self {
            http,
            ws,
            tasks: vec![accept, serve],
        })
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Each client gets its index as the first frame, then every body posted to `/hook/{index}`.
async fn accept_ws(listener: TcpListener, clients: Clients) {
    while let Ok((stream, _)) = listener.accept().await {
        let clients = Arc::clone(&clients);
        tokio::spawn(async move {
            let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            let (tx, mut rx) = mpsc::channel::<String>(256);
            let index = {
                let mut list = clients.lock().unwrap_or_else(PoisonError::into_inner);
                list.push(tx);
                list.len() - 1
            };
            if ws
                .send(Message::Text(index.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
            loop {
                tokio::select! {
                    body = rx.recv() => match body {
                        Some(body) => if ws.send(Message::Text(body.into())).await.is_err() { return },
                        None => return,
                    },
                    frame = ws.next() => match frame {
                        Some(Ok(_)) => {}
                        _ => return,
                    },
                }
            }
        });
    }
}

async fn forward(State(clients): State<Clients>, Path(n): Path<usize>, body: Bytes) -> StatusCode {
    let tx = clients
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(n)
        .cloned();
    let Some(tx) = tx else {
        return StatusCode::NOT_FOUND;
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    match tx.try_send(text) {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn ok(_body: Bytes) -> StatusCode {
    StatusCode::OK
}

/// The bare WebSocket server of scenario (c), run as `ringside-bench --bare-ws-server PORT` in a
/// child process: tokio-tungstenite with its default configuration, one task per connection.
pub(crate) fn bare_ws_server(port: u16, read_buffer: Option<usize>) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                // Out of file descriptors: the client sees its connects fail; wait, do not spin.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            };
            tokio::spawn(async move {
                let config = read_buffer.map(|n| WebSocketConfig::default().read_buffer_size(n));
                let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(stream, config).await
                else {
                    return;
                };
                if ws
                    .send(Message::Text(r#"{"type":"hello"}"#.into()))
                    .await
                    .is_err()
                {
                    return;
                }
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    })
}
