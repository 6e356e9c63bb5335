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
