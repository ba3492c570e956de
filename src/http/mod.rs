//! Plain HTTP for firmware and bootloaders (they cannot use the API's TLS). For now it serves the daemon's health
//! and version; the boot issue adds kernels, initrds and rendered configs from the shared file cache.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub store: Arc<dyn Store>,
    pub started: Instant,
}

/// The answer of `GET /healthz`.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub uptime_s: u64,
    pub machines: usize,
    pub images: usize,
}

async fn healthz(State(st): State<HttpState>) -> (axum::http::StatusCode, Json<Health>) {
    let store = st.store.clone();
    let counts = tokio::task::spawn_blocking(move || {
        Ok::<_, String>((
            store.machines().map_err(|e| e.to_string())?.len(),
            store.images().map_err(|e| e.to_string())?.len(),
        ))
    })
    .await;
    let (status, code, machines, images) = match counts {
        Ok(Ok((m, i))) => ("ok".to_string(), axum::http::StatusCode::OK, m, i),
        Ok(Err(e)) => (
            format!("store: {e}"),
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            0,
            0,
        ),
        Err(e) => (
            format!("store: {e}"),
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            0,
            0,
        ),
    };
    let health = Health {
        status,
        version: crate::VERSION.to_string(),
        uptime_s: st.started.elapsed().as_secs(),
        machines,
        images,
    };
    (code, Json(health))
}

/// The plain-HTTP routes.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/version",
            get(|| async { format!("labboot {}\n", crate::VERSION) }),
        )
        .with_state(state)
}

/// Serves until `shutdown` is cancelled, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: HttpState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
