//! `/api/v1/settings`: application settings, read and changed by admins (`admin:settings`).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use productsmanager_core::settings::Setting;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, Caller};
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(setting, set, reset))
}

#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("bearer" = ["admin:settings"])),
    responses((status = 200, description = "Every setting: value, default, what it accepts", body = Vec<Setting>)))]
async fn list(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.settings().list().await?))
}

#[utoipa::path(get, path = "/api/v1/settings/{key}", tag = "settings", security(("bearer" = ["admin:settings"])),
    params(("key" = String, Path, description = "e.g. `imports.default_preset`")),
    responses((status = 200, description = "The setting", body = Setting)))]
async fn setting(State(state): State<AppState>, Path(key): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.settings().setting(&key).await?))
}

/// `{"value": …}`: the new value, of the setting's type.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewValue {
    value: serde_json::Value,
}

#[utoipa::path(put, path = "/api/v1/settings/{key}", tag = "settings", security(("bearer" = ["admin:settings"])),
    params(("key" = String, Path)), request_body = NewValue,
    responses((status = 200, description = "Changed; a value that does not fit is a 422", body = Setting)))]
async fn set(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<NewValue>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.settings().set(&key, input.value, Some(caller.user_id)).await?))
}

#[utoipa::path(delete, path = "/api/v1/settings/{key}", tag = "settings", security(("bearer" = ["admin:settings"])),
    params(("key" = String, Path)),
    responses((status = 200, description = "Back to its default", body = Setting)))]
async fn reset(State(state): State<AppState>, Path(key): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.settings().reset(&key).await?))
}
