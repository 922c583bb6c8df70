use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use ringside_core::FakeClock;
use ringside_relay::calls::lookup::Lookup;
use ringside_relay::config::Sources;
use ringside_relay::{Config, Seams};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Where every test relay's clock starts.
pub(crate) const START: time::OffsetDateTime = time::macros::datetime!(2026-11-23 09:00 UTC);

/// A relay running in this process on 127.0.0.1:0, on a [`FakeClock`] the test moves.
pub(crate) struct TestRelay {
    pub(crate) addr: SocketAddr,
    /// The relay's clock: sessions, TOTP steps, back-off and rate limits all read it.
    pub(crate) clock: FakeClock,
    /// The configuration it runs with.
    pub(crate) config: Config,
    /// The AMS lookup swapped in, if any (kept across restarts).
    lookup: Option<Arc<dyn Lookup>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ringside_relay::Error>>>,
}

impl TestRelay {
    /// Loads the configuration for `data_dir` (plus `extra` TOML) and starts the relay.
    pub(crate) async fn start(data_dir: &Path, extra_toml: &str) -> Self {
        let config = config_for(data_dir, extra_toml);
        Self::start_with(config).await
    }

    /// Starts the relay on `config`, each org looked up in its own AMS connection.
    pub(crate) async fn start_with(config: Config) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        Self::launch(config, listener, FakeClock::new(START), None).await
    }

    /// Starts the relay with `lookup` as every org's AMS.
    pub(crate) async fn start_with_lookup(config: Config, lookup: Arc<dyn Lookup>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        Self::launch(config, listener, FakeClock::new(START), Some(lookup)).await
    }

    async fn launch(
        config: Config,
        listener: std::net::TcpListener,
        clock: FakeClock,
        lookup: Option<Arc<dyn Lookup>>,
    ) -> Self {
        let addr = listener.local_addr().unwrap();
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let seams = Seams {
            clock: Arc::new(clock.clone()),
            lookup: lookup.clone(),
        };
        let task = tokio::spawn(ringside_relay::run_with(
            config.clone(),
            listener,
            async {
                let _ = stopped.await;
            },
            seams,
        ));
        wait_until_ready(&format!("{scheme}://{addr}/readyz")).await;
        Self {
            addr,
            clock,
            config,
            lookup,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the relay and starts a new one on the same address, data folder and clock — as an
    /// operator restarting the service would.
    pub(crate) async fn restart(self) -> Self {
        let (addr, clock, config) = (self.addr, self.clock.clone(), self.config.clone());
        let lookup = self.lookup.clone();
        self.stop().await.unwrap();
        let listener = std::net::TcpListener::bind(addr).unwrap();
        Self::launch(config, listener, clock, lookup).await
    }

    /// Kills the relay — no graceful shutdown, no close frames, as `kill -9` or a power cut
    /// would — and starts a new one on the same address, data folder and clock.
    pub(crate) async fn crash_and_restart(mut self) -> Self {
        let (addr, clock, config) = (self.addr, self.clock.clone(), self.config.clone());
        let lookup = self.lookup.take();
        let task = self.task.take().unwrap();
        task.abort();
        let _ = task.await;
        let listener = std::net::TcpListener::bind(addr).unwrap();
        Self::launch(config, listener, clock, lookup).await
    }

    /// The relay's time, in unix seconds.
    pub(crate) fn now_unix(&self) -> i64 {
        ringside_core::Clock::now(&self.clock).unix_timestamp()
    }

    /// The relay's time, RFC 3339.
    pub(crate) fn now_rfc3339(&self) -> String {
        ringside_core::Clock::now(&self.clock)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    }

    /// Requests a graceful shutdown and waits for `run` to return.
    pub(crate) async fn stop(mut self) -> Result<(), ringside_relay::Error> {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap()
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The relay's HTTP application on a fresh data folder, without a socket: requests go through
/// `tower::ServiceExt::oneshot`, from 127.0.0.1. For tests of one answer that need no stream,
/// no background task and no second process.
pub(crate) struct App {
    _dir: tempfile::TempDir,
    router: axum::Router,
}

/// One answer of [`App::request`].
pub(crate) struct Reply {
    pub(crate) status: reqwest::StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

impl App {
    pub(crate) async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = config_for(dir.path(), "");
        let seams = Seams {
            clock: Arc::new(FakeClock::new(START)),
            lookup: None,
        };
        let router = tokio::task::spawn_blocking(move || ringside_relay::app(&config, seams))
            .await
            .unwrap()
            .unwrap();
        Self { _dir: dir, router }
    }

    /// `method path` with an empty body.
    pub(crate) async fn request(&self, method: reqwest::Method, path: &str) -> Reply {
        use tower::ServiceExt as _;
        let mut request = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap();
        // What axum's server adds for a connection from 127.0.0.1.
        let peer = SocketAddr::from(([127, 0, 0, 1], 40_000));
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.to_vec(),
        }
    }
}

/// A validated config for a fresh data folder; `extra_toml` is appended to the file.
pub(crate) fn config_for(data_dir: &Path, extra_toml: &str) -> Config {
    let file = data_dir.join("relay.toml");
    std::fs::create_dir_all(data_dir).unwrap();
    std::fs::write(
        &file,
        format!(
            "data_dir = \"{}\"\n{extra_toml}",
            data_dir.join("data").display()
        ),
    )
    .unwrap();
    Config::load(&Sources {
        file: Some(file),
        ..Sources::default()
    })
    .unwrap()
}

/// Polls the readiness probe: the socket is bound before `run` has opened the store, so a TCP
/// connect alone would not mean the relay is up.
async fn wait_until_ready(url: &str) {
    // Only for this probe: the TLS tests check certificates with their own clients.
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    for _ in 0..500 {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the relay did not become ready at {url}");
}

/// Asserts that neither the database file nor its WAL in `data_dir` holds any of `needles` in
/// clear (personal data is sealed at rest, docs/architecture.md#data-lifecycle).
pub(crate) fn assert_not_on_disk(data_dir: &Path, needles: &[&str]) {
    for file in ["ringside.db", "ringside.db-wal"] {
        let bytes = std::fs::read(data_dir.join(file)).unwrap_or_default();
        for needle in needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{file} holds {needle:?} in clear"
            );
        }
    }
}

/// Serves `app` on `127.0.0.1:0` until the test ends (a stand-in for a service the relay calls:
/// a model, a provider's API): its `http://host:port` base and the task.
pub(crate) async fn serve_stand_in(app: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, task)
}
