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
//! - `health`: `/health` (liveness), `/health/db` (the seven databases), `/health/redis`, `/health/ready`
//!   (readiness), `/health/workers`.
//! - `openapi`: the OpenAPI 3.1 document at `/api/openapi.json`, which also declares each route's permission.
//! - `policy`: enforces those permissions (401/403), the rate limit per caller (429) and the request timeout.
//! - `metrics`: `/metrics` in Prometheus text format; request counter and latency histogram by route.
//! - [`telemetry`]: logging set-up for the binaries (`PM_LOG`, `PM_LOG_FORMAT`).
//! - `console`: the web console at `/console`, HTML pages that call the API in-process with the signed-in user's
//!   token (its routes are pages, not API operations, so they are not in the OpenAPI document).

#![forbid(unsafe_code)]

mod api;
mod console;
pub mod error;
mod health;
mod metrics;
mod openapi;
mod policy;
pub mod telemetry;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::response::IntoResponse;
use productsmanager_core::config::HttpConfig;
use productsmanager_core::{ErrorKind, Sdk};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::SecurityRequirement;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Header carrying the request id (set when the client did not send one, echoed on the response).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Shared state of the handlers.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) sdk: Sdk,
    /// The OpenAPI document, rendered once.
    document: axum::body::Bytes,
}

/// All routes over `sdk`, with request ids, tracing and metrics on every request, and on every route the access
/// its OpenAPI operation declares (see `policy`), body limits, a timeout, CORS (when configured) and compression.
///
/// # Panics
///
/// When an operation declares no permission or an unknown one: a programming error, caught by every test.
pub fn router(sdk: Sdk) -> Router {
    let http = sdk.config().http.clone();
    let (routes, mut document) = OpenApiRouter::with_openapi(openapi::skeleton())
        .routes(routes!(health::liveness))
        .routes(routes!(health::databases))
        .routes(routes!(health::workers))
        .routes(routes!(health::redis))
        .routes(routes!(health::readiness))
        .routes(routes!(metrics::render))
        .routes(routes!(openapi_document))
        .merge(api::routes(&http, sdk.config().media.max_upload_bytes))
        .split_for_parts();
    if !http.public_metrics
        && let Some(operation) = document.paths.paths.get_mut("/metrics").and_then(|item| item.get.as_mut())
    {
        operation.security = Some(vec![SecurityRequirement::new(openapi::BEARER, ["analytics:read"])]);
    }
    openapi::complete(&mut document);
    let rendered = serde_json::to_value(&document).unwrap_or_else(|e| panic!("OpenAPI document: {e}"));
    let policy = policy::Policy::new(sdk.clone(), &rendered, &http).unwrap_or_else(|e| panic!("OpenAPI access: {e}"));
    let events = sdk.analytics_events().clone();
    let refresh_ttl_secs = sdk.config().auth.refresh_token_ttl_secs;
    let insecure_cookies = http.insecure_cookies;
    let state = AppState { sdk, document: rendered.to_string().into() };
    let api = routes
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(Arc::new(policy), policy::enforce))
        .with_state(state)
        .layer(DefaultBodyLimit::max(usize::try_from(http.max_body_bytes).unwrap_or(usize::MAX)))
        .layer(tower::util::option_layer(cors(&http)));
    // The console calls `api` in-process; the layers below are the server's, around both.
    console::routes(api.clone(), refresh_ttl_secs, insecure_cookies)
        .merge(api)
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(events, metrics::track))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let request_id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// `GET /api/openapi.json`.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations", security(()),
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
async fn openapi_document(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], state.document)
}

/// Cross-origin access for the configured origins; none when `http.cors_origins` is empty. Credentials travel in
/// the `Authorization` header, not cookies, so no origin is ever allowed credentials.
fn cors(http: &HttpConfig) -> Option<CorsLayer> {
    let origins: Vec<&str> = http.cors_origins.split(',').map(str::trim).filter(|o| !o.is_empty()).collect();
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.contains(&"*") {
        AllowOrigin::from(Any)
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_MATCH, REQUEST_ID])
            .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER, REQUEST_ID])
            .max_age(Duration::from_secs(3600)),
    )
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

/// Why the server could not listen: the address and the setting that chose it are named.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot listen on {addr}: {source} ({hint}; choose the address with http.addr in the configuration file or \
     PM_HTTP_ADDR, e.g. PM_HTTP_ADDR=127.0.0.1:8081)",
    hint = bind_hint(source)
)]
pub struct BindError {
    /// `http.addr`.
    pub addr: std::net::SocketAddr,
    pub source: std::io::Error,
}

/// The likely reason behind a failed bind, for people.
fn bind_hint(error: &std::io::Error) -> &'static str {
    match error.kind() {
        std::io::ErrorKind::AddrInUse => "another server listens there",
        std::io::ErrorKind::PermissionDenied => "ports below 1024 need privileges",
        std::io::ErrorKind::AddrNotAvailable => "no network interface of this machine has that address",
        _ => "the address may be wrong",
    }
}

/// Binds `http.addr`. The binaries do it before anything else, so a server started on a busy port stops at once,
/// saying where and which setting, before it migrates, creates an admin or starts workers.
pub async fn bind(config: &productsmanager_core::Config) -> Result<tokio::net::TcpListener, BindError> {
    let addr = config.http.addr;
    tokio::net::TcpListener::bind(addr).await.map_err(|source| BindError { addr, source })
}

/// Runs the server as the binaries do on `listener` (from [`bind`]): says where it listens (a line on stdout for
/// people; with JSON logs only the log line, so every line of the stream is JSON), serves until Ctrl-C or SIGTERM.
/// The caller closes the SDK afterwards (after stopping its job workers, if it runs any).
pub async fn run_on(listener: tokio::net::TcpListener, sdk: Sdk) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if sdk.config().log.format == productsmanager_core::config::LogFormat::Text {
        println!("ProductsManager listening on http://{addr}");
    }
    tracing::info!(%addr, url = %format!("http://{addr}"), "serving");
    serve(listener, sdk, shutdown_signal()).await
}

/// [`bind`] then [`run_on`].
pub async fn run(sdk: Sdk) -> std::io::Result<()> {
    let listener = bind(sdk.config()).await.map_err(std::io::Error::other)?;
    run_on(listener, sdk).await
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    /// Every API route goes through utoipa-axum's `routes!`, so it is in the OpenAPI document and the policy knows
    /// its permission. A route added with axum's own methods would be in neither (the policy refuses it at run
    /// time, with a 500); this catches it before it ships. The console's pages are the exception: they are not API
    /// operations, and reach the catalog only through the API (with its policy).
    #[test]
    fn routes_are_added_only_through_the_openapi_router() {
        let needles = ["route", "route_service", "nest", "nest_service"].map(|method| format!(".{method}("));
        let mut pending = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        let mut offenders = Vec::new();
        while let Some(path) = pending.pop() {
            if path.ends_with("console") {
                continue;
            }
            if path.is_dir() {
                pending.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (number, line) in text.lines().enumerate() {
                if needles.iter().any(|needle| line.contains(needle.as_str())) {
                    offenders.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
                }
            }
        }
        assert!(offenders.is_empty(), "routes outside the OpenAPI router:\n{}", offenders.join("\n"));
    }
}
