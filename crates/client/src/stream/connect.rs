//! Opening one WebSocket to `GET /v1/stream?ticket=…`: TCP, TLS for `wss`, the upgrade.
//!
//! Why this crate opens the socket itself instead of letting tokio-tungstenite do it: TLS is set
//! up the way the rest of the workspace does it — rustls with the ring provider passed
//! explicitly (no process-wide default that another dependency could change) and the
//! `webpki-roots` CA set that reqwest's `rustls-tls` also trusts. The address is the one
//! [`crate::Client::new`] checked, so plain `ws://` is only ever used for loopback.
//!
//! No `Origin` header is sent: the relay's allowlist is for browsers, and a native client that
//! sends none is accepted.

use std::sync::{Arc, OnceLock};

use reqwest::Url;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, http};

use super::Disconnect;

/// The largest message the relay may send: a pop with several matched contacts is a few KB.
const MAX_MESSAGE: usize = 1 << 20;

/// A byte stream, plain or TLS.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open stream connection.
pub(crate) type Socket = WebSocketStream<Box<dyn Io>>;

/// `ws(s)://…/v1/stream?ticket=…` from the relay's checked base URL (`http` → `ws`, `https` →
/// `wss`).
pub(crate) fn stream_url(base: &str, ticket: &str) -> Option<Url> {
    let mut url = Url::parse(&format!("{base}/v1/stream")).ok()?;
    let scheme = match url.scheme() {
        "https" => "wss",
        "http" => "ws",
        _ => return None,
    };
    url.set_scheme(scheme).ok()?;
    url.query_pairs_mut().append_pair("ticket", ticket);
    Some(url)
}

/// Connects and upgrades. The caller bounds the time it may take.
pub(crate) async fn open(url: &Url) -> Result<Socket, Disconnect> {
    let host = url
        .host_str()
        .ok_or_else(|| Disconnect::Connect("the URL has no host".to_owned()))?;
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url
        .port_or_known_default()
        .ok_or_else(|| Disconnect::Connect("the URL has no port".to_owned()))?;
    let tcp = TcpStream::connect((bare_host, port))
        .await
        .map_err(|e| Disconnect::Connect(format!("could not reach the relay: {e}")))?;
    // Pops are small and late is useless: no Nagle delay.
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = if url.scheme() == "wss" {
        let name = ServerName::try_from(bare_host.to_owned())
            .map_err(|_| Disconnect::Connect("the relay's host is not a valid name".to_owned()))?;
        let tls = tokio_rustls::TlsConnector::from(tls_config())
            .connect(name, tcp)
            .await
            .map_err(|e| Disconnect::Connect(format!("TLS with the relay failed: {e}")))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| Disconnect::Connect(describe(&e)))?;
    request.headers_mut().insert(
        http::header::USER_AGENT,
        HeaderValue::from_static(concat!("ringside-client/", env!("CARGO_PKG_VERSION"))),
    );
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let (socket, _response) =
        tokio_tungstenite::client_async_with_config(request, io, Some(config))
            .await
            .map_err(|e| match e {
                tungstenite::Error::Http(response) => Disconnect::Refused {
                    status: response.status().as_u16(),
                },
                other => Disconnect::Connect(describe(&other)),
            })?;
    Ok(socket)
}

/// A tungstenite error in words. Never the request: its URL carries the ticket.
pub(crate) fn describe(error: &tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Io(e) => format!("I/O: {e}"),
        tungstenite::Error::Tls(e) => format!("TLS: {e}"),
        tungstenite::Error::Protocol(e) => format!("WebSocket protocol: {e}"),
        tungstenite::Error::Capacity(e) => format!("message too large: {e}"),
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            "the connection closed".to_owned()
        }
        tungstenite::Error::Http(response) => format!("HTTP {}", response.status()),
        _ => "WebSocket error".to_owned(),
    }
}

/// One TLS configuration for every connection: TLS 1.2 and 1.3, ring, the webpki roots.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    Arc::clone(CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|builder| builder.with_root_certificates(roots).with_no_client_auth());
        #[allow(clippy::expect_used)] // ring supports the safe defaults: a build-time fact
        Arc::new(config.expect("the ring provider supports TLS 1.2 and 1.3"))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_url_follows_the_base_url_and_encodes_the_ticket() {
        assert_eq!(
            stream_url("http://127.0.0.1:8080", "abc").unwrap().as_str(),
            "ws://127.0.0.1:8080/v1/stream?ticket=abc"
        );
        assert_eq!(
            stream_url("https://relay.example:8443/ringside", "a+b/c=")
                .unwrap()
                .as_str(),
            "wss://relay.example:8443/ringside/v1/stream?ticket=a%2Bb%2Fc%3D",
            "a path prefix is kept and the ticket is query-encoded"
        );
        assert!(stream_url("ftp://relay.example", "t").is_none());
    }

    #[test]
    fn the_tls_configuration_builds_with_public_roots() {
        let config = tls_config();
        assert!(Arc::ptr_eq(&config, &tls_config()), "built once");
    }

    #[test]
    fn describing_an_error_never_quotes_a_request() {
        let error = tungstenite::Error::Url(tungstenite::error::UrlError::UnsupportedUrlScheme);
        assert_eq!(describe(&error), "WebSocket error");
    }
}
