//! `ringside-relay serve`: opens the store, loads the master key, and serves HTTP(S) until the
//! shutdown future resolves — then stops accepting, lets in-flight requests finish (up to
//! [`GRACE`]) and returns. Tests call [`run`] on `127.0.0.1:0` exactly as the binary does.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use ringside_core::{BuildInfo, Clock, SystemClock};
use ringside_store::Store;
use ringside_vault::MasterKeyring;
use serde_json::json;

use crate::{Config, Error, tls};

/// How long in-flight requests may take to finish after shutdown is requested.
pub const GRACE: Duration = Duration::from_secs(10);

/// What every handler can reach.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Store,
    keyring: MasterKeyring,
    build: BuildInfo,
}

/// Runs the relay on `listener` until `shutdown` resolves.
pub async fn run(
    config: Config,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = tokio::task::spawn_blocking(move || open(&config, clock).map(|s| (s, config)))
        .await
        .map_err(|e| Error::io("start-up task")(std::io::Error::other(e)))?;
    let (state, config) = state?;
    let app = router(state);
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

/// Opens the store and the master keyring (blocking: SQLite and the keychain are synchronous).
fn open(config: &Config, clock: Arc<dyn Clock>) -> Result<AppState, Error> {
    let store = Store::open(&config.data_dir, clock)?;
    let applied = store.migrations();
    if applied.from != applied.to {
        tracing::info!(
            from = applied.from,
            to = applied.to,
            "database schema migrated"
        );
    }
    let keyring = crate::keys::load_master_keys(config, &store)?;
    tracing::info!(version = %keyring.current().version(), "master key loaded");
    Ok(AppState(Arc::new(Inner {
        store,
        keyring,
        build: BuildInfo::new("ringside-relay", env!("CARGO_PKG_VERSION")),
    })))
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Liveness: the process answers. Says what it is, so an operator can check the version.
async fn healthz(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "build": state.0.build }))
}

/// Readiness: the database answers and the master key is loaded.
async fn readyz(State(state): State<AppState>) -> Response {
    let db = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.0.store.ping()).await
    };
    let database_ok = matches!(db, Ok(Ok(())));
    if !database_ok {
        tracing::warn!("readiness check: database did not answer");
    }
    let key_version = state.0.keyring.current().version().to_string();
    let status = if database_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if database_ok { "ready" } else { "not_ready" },
        "database": if database_ok { "ok" } else { "unavailable" },
        "master_key": { "loaded": true, "version": key_version },
    });
    (status, Json(body)).into_response()
}
