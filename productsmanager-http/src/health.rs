//! Health routes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::AppState;

/// `GET /health`: the process is alive and serving.
pub(crate) async fn liveness() -> impl IntoResponse {
    Json(json!({ "status": "up" }))
}

/// `GET /health/db`: each of the seven databases with status and latency; 503 when any is down.
pub(crate) async fn databases(State(state): State<AppState>) -> impl IntoResponse {
    let report = state.sdk.health().await;
    let status = if report.is_up() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(report))
}

/// `GET /health/workers`: per queue, live workers (and their processes), jobs queued (and the oldest one's wait),
/// running, paused, failed, dead.
pub(crate) async fn workers(State(state): State<AppState>) -> Result<impl IntoResponse, crate::error::ApiError> {
    let jobs = state.sdk.jobs();
    let mut queues = Vec::new();
    for (queue, _) in productsmanager_core::Sdk::JOB_QUEUES {
        queues.push(jobs.stats(queue).await?);
    }
    Ok(Json(json!({ "queues": queues })))
}
