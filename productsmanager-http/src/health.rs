//! Health routes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::AppState;

/// `GET /health`: the process is alive and serving.
#[utoipa::path(get, path = "/health", tag = "operations", security(()),
    responses((status = 200, description = "Alive", body = Object, example = json!({"status": "up"}))))]
pub(crate) async fn liveness() -> impl IntoResponse {
    Json(json!({ "status": "up" }))
}

/// `GET /health/db`: each of the seven databases with status and latency; 503 when any is down.
#[utoipa::path(get, path = "/health/db", tag = "operations", security(()),
    responses((status = 200, description = "Each of the seven databases: status and latency", body = Object),
        (status = 503, description = "At least one database is down (the body says which)", body = Object)))]
pub(crate) async fn databases(State(state): State<AppState>) -> impl IntoResponse {
    let report = state.sdk.health().await;
    let status = if report.is_up() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(report))
}

/// `GET /health/redis`: whether the Redis cache tier answers a `PING` (and how fast); `not_configured` without one.
#[utoipa::path(get, path = "/health/redis", tag = "operations", security(()),
    responses((status = 200, description = "Up, or not configured (L1 only)", body = Object,
            example = json!({"status": "up", "latency_ms": 0.4, "error": null})),
        (status = 503, description = "Configured and not answering (the body says why)", body = Object)))]
pub(crate) async fn redis(State(state): State<AppState>) -> impl IntoResponse {
    let health = state.sdk.cache().redis_health().await;
    let status = if health.status == productsmanager_core::cache::RedisStatus::Down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, Json(health))
}

/// `GET /health/ready`: readiness for a load balancer — the core and catalog databases up. Redis or another
/// database down only degrades it (`degraded` lists what): the catalog still answers, so it stays in rotation.
#[utoipa::path(get, path = "/health/ready", tag = "operations", security(()),
    responses((status = 200, description = "Ready (`ready`, or `degraded`: Redis or a database other than core and \
        catalog down, listed in `degraded`)", body = Object),
        (status = 503, description = "Not ready: the core or catalog database is down (the body says which)", body = Object)))]
pub(crate) async fn readiness(State(state): State<AppState>) -> impl IntoResponse {
    let readiness = state.sdk.readiness().await;
    let status = if readiness.is_ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(readiness))
}

/// `GET /health/workers`: per queue, live workers (and their processes), jobs queued (and the oldest one's wait),
/// running, paused, failed, dead, and what needs an operator (`alerts`: `no_workers`, `dead_jobs`); `status` is
/// `attention` when any queue has an alert. Always 200: the server itself is fine.
#[utoipa::path(get, path = "/health/workers", tag = "operations", security(()),
    responses((status = 200, description = "Per queue: workers, queued (oldest wait), running, failed, dead, alerts",
        body = Object, example = json!({"status": "attention", "queues": [{"queue": "imports", "workers": 0,
            "worker_processes": 0, "queued": 3, "oldest_queued_secs": 42.5, "running": 0, "paused": 0, "failed": 0,
            "dead": 1, "alerts": ["no_workers", "dead_jobs"]}]}))))]
pub(crate) async fn workers(State(state): State<AppState>) -> Result<impl IntoResponse, crate::error::ApiError> {
    let jobs = state.sdk.jobs();
    let mut queues = Vec::new();
    let mut attention = false;
    for (queue, _) in productsmanager_core::Sdk::JOB_QUEUES {
        let stats = jobs.stats(queue).await?;
        let alerts = stats.alerts();
        attention |= !alerts.is_empty();
        let mut entry = serde_json::to_value(&stats).unwrap_or_default();
        entry["alerts"] = json!(alerts);
        queues.push(entry);
    }
    Ok(Json(json!({ "status": if attention { "attention" } else { "ok" }, "queues": queues })))
}
