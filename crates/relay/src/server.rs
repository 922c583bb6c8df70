//! `ringside-relay serve`: opens the store, loads the master key, and serves HTTP(S) until the
//! shutdown future resolves — then stops accepting, lets in-flight requests finish (up to
//! [`GRACE`]) and returns. Tests call [`run`] on `127.0.0.1:0` exactly as the binary does, or
//! [`run_with_clock`] with a `FakeClock` to move past token lifetimes, TOTP steps and back-off
//! without sleeping.

use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use ringside_core::{Clock, SystemClock};

use crate::calls::lookup::{AmsLookup, Lookup};
use crate::hub::StreamSettings;
use crate::open::DataFolder;
use crate::state::{AppState, Settings, WebhookBase};
use crate::{Config, Error, tls};

/// How long in-flight requests may take to finish after shutdown is requested.
pub const GRACE: Duration = Duration::from_secs(10);

/// Runs the relay on `listener` until `shutdown` resolves.
pub async fn run(
    config: Config,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    run_with_clock(config, listener, shutdown, Arc::new(SystemClock)).await
}

/// [`run`] with every reading of the time — sessions, invitations, TOTP, back-off, rate limits,
/// audit timestamps, pop expiry — taken from `clock`.
pub async fn run_with_clock(
    config: Config,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    clock: Arc<dyn Clock>,
) -> Result<(), Error> {
    let seams = Seams {
        clock,
        lookup: None,
    };
    run_with(config, listener, shutdown, seams).await
}

/// What a test (or the demo) may swap in for the real thing.
#[derive(Debug, Clone)]
pub struct Seams {
    /// Where every reading of the time comes from.
    pub clock: Arc<dyn Clock>,
    /// The AMS lookup; `None`: each org's own connection ([`AmsLookup`], the production path).
    /// [`NoAms`](crate::calls::lookup::NoAms) keeps every AMS out of a run.
    pub lookup: Option<Arc<dyn Lookup>>,
}

/// Origins of the desktop app's web view, always allowed to open the stream.
pub const DESKTOP_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// The relay's HTTP application on `config`'s data folder, without a listener or background
/// tasks: what [`run_with`] serves, for tests that send it requests one at a time with
/// `tower::ServiceExt::oneshot`. Blocking (it opens SQLite and the master key). Requests need a
/// `ConnectInfo<SocketAddr>` extension, as axum's server adds to each.
pub fn app(config: &Config, seams: Seams) -> Result<axum::Router, Error> {
    Ok(crate::api::router(open(config, seams)?))
}

/// [`run`] with the given [`Seams`].
pub async fn run_with(
    config: Config,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    seams: Seams,
) -> Result<(), Error> {
    let state = tokio::task::spawn_blocking(move || open(&config, seams).map(|s| (s, config)))
        .await
        .map_err(Error::task("start-up"))?;
    let (state, config) = state?;
    // Aborted when `run_with` returns or is dropped (a cancelled relay leaves nothing running).
    let _background = Background(vec![
        tokio::spawn(crate::hygiene::schedule(state.clone(), config.retention)),
        tokio::spawn(state.history().sweep()),
        tokio::spawn(state.sync().clone().run()),
        tokio::spawn(
            Arc::clone(state.hub()).follow_revocations(state.auth().subscribe_revocations()),
        ),
    ]);
    let hub = Arc::clone(state.hub());
    let app = crate::api::router(state);
    let addr = listener
        .local_addr()
        .map_err(Error::io("reading the listening address"))?;
    listener
        .set_nonblocking(true)
        .map_err(Error::io("configuring the listener"))?;

    let handle = axum_server::Handle::new();
    let signal = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutdown requested; finishing in-flight requests");
        hub.shutdown();
        signal.graceful_shutdown(Some(GRACE));
    });
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    match &config.tls {
        Some(tls_config) => {
            let rustls =
                axum_server::tls_rustls::RustlsConfig::from_config(tls::server_config(tls_config)?);
            tracing::info!(%addr, "listening on https://{addr}");
            axum_server::from_tcp_rustls(listener, rustls)
                .map_err(Error::io("using the listener"))?
                .handle(handle)
                .serve(service)
                .await
        }
        None => {
            tracing::info!(%addr, "listening on http://{addr}");
            axum_server::from_tcp(listener)
                .map_err(Error::io("using the listener"))?
                .handle(handle)
                .serve(service)
                .await
        }
    }
    .map_err(Error::io("serving"))?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// The relay's background tasks: hygiene, pop expiry, revocations.
struct Background(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Opens the data folder and builds the shared state (blocking: SQLite, the
/// keychain and the start-up password-hash calibration are synchronous).
fn open(config: &Config, seams: Seams) -> Result<AppState, Error> {
    let clock = seams.clock;
    let folder = DataFolder::open(config, Arc::clone(&clock))?;
    let applied = folder.store.migrations();
    if applied.from != applied.to {
        tracing::info!(
            from = applied.from,
            to = applied.to,
            "database schema migrated"
        );
    }
    tracing::info!(version = %folder.masters.current().version(), "master key loaded");
    if let ringside_vault::KeySource::File { path } = &config.master_key_source
        && path.starts_with(&config.data_dir)
    {
        // Fine for a trial; in production a backup of the folder would hold both the sealed
        // data and the key that opens it.
        tracing::warn!(
            "the master key file is inside the data folder: for production keep it elsewhere \
             (master_key_source = \"keychain\", \"env\" or \"file:/other/volume\"); see docs/keys.md"
        );
    }
    let webhook_base = WebhookBase {
        public_url: config.public_url.clone(),
        scheme: if config.tls.is_some() {
            "https"
        } else {
            "http"
        },
    };
    let mut allowed_origins: Vec<String> = DESKTOP_ORIGINS.map(String::from).to_vec();
    allowed_origins.extend(config.allowed_origins.iter().cloned());
    let settings = Settings {
        webhook_base,
        stream: StreamSettings {
            heartbeat: config.heartbeat,
            max_unacked: u64::from(config.max_unacked),
        },
        allowed_origins,
        ams_timeout: config.ams_timeout,
        webhooks_per_org_per_minute: NonZeroU32::new(config.webhooks_per_org_per_minute)
            .unwrap_or(NonZeroU32::MIN),
    };
    let ams = folder.ams_connections(config.ams_timeout)?;
    let lookup = seams
        .lookup
        .unwrap_or_else(|| Arc::new(AmsLookup::new(ams.clone())));
    let sync = crate::sync::worker(config, &folder, &ams, Arc::clone(&clock));
    let state = AppState::new(folder, settings, ams, lookup, sync);
    // The store pushes each commit's stream events to the hub while it still holds its
    // connection, so every user's events reach the hub in `seq` order whichever task made them:
    // a webhook, an AMS answer, a dismissal, the sweeper, the hourly hygiene pass.
    let hub = Arc::clone(state.hub());
    state.store().on_events(move |events| hub.publish(events));
    Ok(state)
}
