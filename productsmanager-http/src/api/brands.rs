//! `/api/v1/brands`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use productsmanager_core::catalog::{Brand, BrandPatch, NewBrand, Page};
use productsmanager_core::input::parse_id;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery, PageParams};
use crate::AppState;
use crate::error::{ApiError, Problem};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(find, update, patch, delete))
}

#[utoipa::path(get, path = "/api/v1/brands", tag = "brands", security(("bearer" = ["catalog:read"])),
    params(PageParams), responses((status = 200, description = "A page of brands, by name", body = Page<Brand>)))]
async fn list(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(page.page_of(&state.sdk.brands().list().await?)?))
}

#[utoipa::path(post, path = "/api/v1/brands", tag = "brands", security(("bearer" = ["catalog:write"])),
    request_body = NewBrand,
    responses((status = 201, description = "Created; `Location` names it", body = Brand),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json")))]
async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewBrand>,
) -> Result<impl IntoResponse, ApiError> {
    let brand = state.sdk.brands().create(input).await?;
    let location = format!("/api/v1/brands/{}", brand.id);
    Ok((StatusCode::CREATED, [(axum::http::header::LOCATION, location)], Json(brand)))
}

/// By id or slug.
#[utoipa::path(get, path = "/api/v1/brands/{key}", tag = "brands", security(("bearer" = ["catalog:read"])),
    params(("key" = String, Path, description = "Id or slug")),
    responses((status = 200, description = "The brand", body = Brand)))]
async fn find(State(state): State<AppState>, Path(key): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.brands().find(&key).await?))
}

#[utoipa::path(put, path = "/api/v1/brands/{key}", tag = "brands", security(("bearer" = ["catalog:write"])),
    params(("key" = Uuid, Path, description = "Id")), request_body = NewBrand,
    responses((status = 200, description = "Replaced", body = Brand)))]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewBrand>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id("id", &id)?;
    Ok(Json(state.sdk.brands().update(id, input).await?))
}

#[utoipa::path(patch, path = "/api/v1/brands/{key}", tag = "brands", security(("bearer" = ["catalog:write"])),
    params(("key" = Uuid, Path, description = "Id")), request_body = BrandPatch,
    responses((status = 200, description = "Changed", body = Brand)))]
async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<BrandPatch>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id("id", &id)?;
    Ok(Json(state.sdk.brands().patch(id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/brands/{key}", tag = "brands", security(("bearer" = ["catalog:write"])),
    params(("key" = Uuid, Path, description = "Id")),
    responses((status = 204, description = "Deleted")))]
async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id("id", &id)?;
    state.sdk.brands().delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
