//! `/api/v1/suppliers`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use productsmanager_core::catalog::{NewSupplier, Page, Supplier, SupplierPatch};
use productsmanager_core::input::parse_id;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery, PageParams};
use crate::AppState;
use crate::error::{ApiError, Problem};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(find, update, patch, delete))
}

#[utoipa::path(get, path = "/api/v1/suppliers", tag = "suppliers", security(("bearer" = ["catalog:read"])),
    params(PageParams), responses((status = 200, description = "A page of suppliers, by name", body = Page<Supplier>)))]
async fn list(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(page.page_of(&state.sdk.suppliers().list().await?)?))
}

#[utoipa::path(post, path = "/api/v1/suppliers", tag = "suppliers", security(("bearer" = ["catalog:write"])),
    request_body = NewSupplier,
    responses((status = 201, description = "Created; `Location` names it", body = Supplier),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json")))]
async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewSupplier>,
) -> Result<impl IntoResponse, ApiError> {
    let supplier = state.sdk.suppliers().create(input).await?;
    let location = format!("/api/v1/suppliers/{}", supplier.id);
    Ok((StatusCode::CREATED, [(axum::http::header::LOCATION, location)], Json(supplier)))
}

/// By id or code.
#[utoipa::path(get, path = "/api/v1/suppliers/{key}", tag = "suppliers", security(("bearer" = ["catalog:read"])),
    params(("key" = String, Path, description = "Id or code")),
    responses((status = 200, description = "The supplier", body = Supplier)))]
async fn find(State(state): State<AppState>, Path(key): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.suppliers().find(&key).await?))
}

#[utoipa::path(put, path = "/api/v1/suppliers/{key}", tag = "suppliers", security(("bearer" = ["catalog:write"])),
    params(("key" = Uuid, Path, description = "Id")), request_body = NewSupplier,
    responses((status = 200, description = "Replaced", body = Supplier)))]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewSupplier>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id("id", &id)?;
    Ok(Json(state.sdk.suppliers().update(id, input).await?))
}

#[utoipa::path(patch, path = "/api/v1/suppliers/{key}", tag = "suppliers", security(("bearer" = ["catalog:write"])),
    params(("key" = Uuid, Path, description = "Id")), request_body = SupplierPatch,
    responses((status = 200, description = "Changed", body = Supplier)))]
async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SupplierPatch>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id("id", &id)?;
    Ok(Json(state.sdk.suppliers().patch(id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/suppliers/{key}", tag = "suppliers", security(("bearer" = ["catalog:write"])),
    params(("key" = Uuid, Path, description = "Id")),
    responses((status = 204, description = "Deleted")))]
async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id("id", &id)?;
    state.sdk.suppliers().delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
