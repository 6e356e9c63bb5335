//! `/api/v1/suppliers`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use productsmanager_core::catalog::{NewSupplier, SupplierPatch};
use productsmanager_core::input::parse_id;

use super::ApiJson;
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/suppliers", get(list).post(create))
        .route("/api/v1/suppliers/{key}", get(find).put(update).patch(patch).delete(delete))
}

async fn list(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.suppliers().list().await?.as_ref().clone()))
}

async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewSupplier>,
) -> Result<impl IntoResponse, ApiError> {
    let supplier = state.sdk.suppliers().create(input).await?;
    let location = format!("/api/v1/suppliers/{}", supplier.id);
    Ok((StatusCode::CREATED, [(axum::http::header::LOCATION, location)], Json(supplier)))
}

/// By id or code.
async fn find(State(state): State<AppState>, Path(key): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.suppliers().find(&key).await?))
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewSupplier>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id("id", &id)?;
    Ok(Json(state.sdk.suppliers().update(id, input).await?))
}

async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SupplierPatch>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id("id", &id)?;
    Ok(Json(state.sdk.suppliers().patch(id, input).await?))
}

async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id("id", &id)?;
    state.sdk.suppliers().delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
