//! `/api/v1/categories`, `/api/v1/taxonomies` and product links.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use productsmanager_core::catalog::{CategoryPatch, NewCategory, NewTaxonomy};
use productsmanager_core::input::parse_id;
use serde::Deserialize;

use super::{ApiJson, ApiQuery};
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/taxonomies", get(taxonomies).post(create_taxonomy))
        .route("/api/v1/categories", get(tree).post(create))
        .route("/api/v1/categories/{id}", get(category).patch(update).delete(delete))
        .route("/api/v1/categories/{id}/breadcrumbs", get(breadcrumbs))
        .route("/api/v1/products/{id}/categories", get(of_product))
        .route("/api/v1/products/{id}/categories/{category_id}", put(link).delete(unlink))
}

async fn taxonomies(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.categories().taxonomies().await?))
}

async fn create_taxonomy(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewTaxonomy>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(state.sdk.categories().create_taxonomy(input).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeQuery {
    /// Taxonomy id or code; `default` when absent.
    #[serde(default)]
    taxonomy: Option<String>,
}

/// The whole tree of a taxonomy.
async fn tree(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TreeQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.categories().tree(query.taxonomy.as_deref()).await?.as_ref().clone()))
}

async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewCategory>,
) -> Result<impl IntoResponse, ApiError> {
    let category = state.sdk.categories().create(input).await?;
    let location = format!("/api/v1/categories/{}", category.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(category)))
}

async fn category(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.categories().get(parse_id("id", &id)?).await?))
}

/// Rename, re-slug, reorder or move (with the subtree).
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<CategoryPatch>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.categories().update(parse_id("id", &id)?, patch).await?))
}

async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.categories().delete(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn breadcrumbs(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.categories().breadcrumbs(parse_id("id", &id)?).await?))
}

async fn of_product(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.categories().of_product(parse_id("id", &id)?).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkQuery {
    /// Make it the product's primary category of that taxonomy.
    #[serde(default)]
    primary: bool,
}

async fn link(
    State(state): State<AppState>,
    Path((id, category_id)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<LinkQuery>,
) -> Result<StatusCode, ApiError> {
    let (id, category_id) = (parse_id("id", &id)?, parse_id("category_id", &category_id)?);
    state.sdk.categories().link(id, category_id, query.primary).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unlink(
    State(state): State<AppState>,
    Path((id, category_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (id, category_id) = (parse_id("id", &id)?, parse_id("category_id", &category_id)?);
    state.sdk.categories().unlink(id, category_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
