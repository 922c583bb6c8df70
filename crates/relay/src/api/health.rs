//! Liveness and readiness probes for service managers and load balancers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// `/healthz` body.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    status: &'static str,
    /// What is answering.
    #[schema(value_type = Object)]
    build: ringside_core::BuildInfo,
}

/// `/readyz` body.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    /// `ok` or `unavailable`.
    database: &'static str,
    /// The master key version in use.
    master_key_version: String,
}

/// Liveness: the process answers, and says what it is.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The relay is alive", body = Health)))]
pub(crate) async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        build: state.build().clone(),
    })
}

/// Readiness: the database answers and the master key is loaded.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready to serve", body = Readiness),
    (status = 503, description = "The database does not answer", body = Readiness)))]
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let store = state.clone();
    let database_ok = matches!(
        tokio::task::spawn_blocking(move || store.store().ping()).await,
        Ok(Ok(()))
    );
    if !database_ok {
        tracing::warn!("readiness check: the database did not answer");
    }
    let body = Readiness {
        status: if database_ok { "ready" } else { "not_ready" },
        database: if database_ok { "ok" } else { "unavailable" },
        master_key_version: state.master_keys().current().version().to_string(),
    };
    let status = if database_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}
