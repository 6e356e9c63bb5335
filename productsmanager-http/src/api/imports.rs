//! `/api/v1/import-configs`: where supplier files come from (folder, FTP/FTPS, e-mail), their cron schedules and
//! the files they took. Credentials go in, never out.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use productsmanager_core::imports::NewImportConfig;
use productsmanager_core::input::parse_id;
use serde::Deserialize;

use super::ApiJson;
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/import-configs", get(list).post(create))
        .route("/api/v1/import-configs/{id}", get(config))
        .route("/api/v1/import-configs/{id}/schedules", get(schedules).post(add_schedule))
        .route("/api/v1/import-configs/{id}/files", get(files))
}

async fn list(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().configs().await?))
}

async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewImportConfig>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(state.sdk.imports().create_config(input).await?)))
}

async fn config(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().config(parse_id("id", &id)?).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSchedule {
    cron: String,
    #[serde(default = "utc")]
    timezone: String,
}

fn utc() -> String {
    "UTC".to_string()
}

async fn schedules(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().schedules(parse_id("id", &id)?).await?))
}

async fn add_schedule(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewSchedule>,
) -> Result<impl IntoResponse, ApiError> {
    let schedule = state.sdk.imports().create_schedule(parse_id("id", &id)?, &input.cron, &input.timezone).await?;
    Ok((StatusCode::CREATED, Json(schedule)))
}

async fn files(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().files(parse_id("id", &id)?).await?))
}
