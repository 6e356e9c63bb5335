//! # ProductsManager HTTP adapter
//!
//! [`router`] turns an [`Sdk`] into an axum [`Router`]; [`serve`] runs it with graceful shutdown. Handlers only
//! parse, call one SDK method and render: the domain lives in `productsmanager-core`.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use productsmanager_core::{Config, Sdk};
//!
//! let sdk = Sdk::builder(Config::load(None)?).build().await?;
//! let listener = tokio::net::TcpListener::bind(sdk.config().http.addr).await?;
//! productsmanager_http::serve(listener, sdk, productsmanager_http::shutdown_signal()).await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - [`error`]: `application/problem+json` bodies; the one `match` from `ErrorKind` to status.
//! - `health`: `/health` (liveness) and `/health/db` (the seven databases).
//! - `metrics`: `/metrics` in Prometheus text format; request counter and latency histogram by route.
//! - [`telemetry`]: logging set-up for the binaries (`PM_LOG`, `PM_LOG_FORMAT`).

#![forbid(unsafe_code)]

mod api;
pub mod error;
mod health;
mod metrics;
pub mod telemetry;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use productsmanager_core::{ErrorKind, Sdk};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Header carrying the request id (set when the client did not send one, echoed on the response).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Shared state of the handlers.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) sdk: Sdk,
}

/// All routes over `sdk`, with request ids, tracing and metrics on every request.
pub fn router(sdk: Sdk) -> Router {
    let state = AppState { sdk };
    Router::new()
        .route("/health", get(health::liveness))
        .route("/health/db", get(health::databases))
        .route("/health/workers", get(health::workers))
        .route("/metrics", get(metrics::render))
        .merge(api::routes())
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let request_id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn not_found() -> axum::response::Response {
    error::problem(ErrorKind::NotFound, "no such route")
}

/// Serves `sdk` on `listener` until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    sdk: Sdk,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    metrics::spawn_upkeep(Duration::from_secs(5));
    // The peer address keys the sign-in lockout per client address.
    let service = router(sdk).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await
}

/// Runs the server as the binaries do: binds `http.addr`, prints the URL on stdout, serves until Ctrl-C or
/// SIGTERM. The caller closes the SDK afterwards (after stopping its job workers, if it runs any).
pub async fn run(sdk: Sdk) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(sdk.config().http.addr).await?;
    println!("ProductsManager listening on http://{}", listener.local_addr()?);
    tracing::info!(addr = %listener.local_addr()?, "serving");
    serve(listener, sdk, shutdown_signal()).await
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
