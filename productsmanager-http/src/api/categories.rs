//! `/api/v1/categories`, `/api/v1/taxonomies` and product links.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use productsmanager_core::catalog::{Category, CategoryNode, CategoryPatch, NewCategory, NewTaxonomy, Page, Taxonomy};
use productsmanager_core::input::parse_id;
use serde::Deserialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery, Caller, PageParams};
use crate::AppState;
use crate::error::{ApiError, Problem};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(taxonomies, create_taxonomy))
        .routes(routes!(tree, create))
        .routes(routes!(category, update, delete))
        .routes(routes!(breadcrumbs))
        .routes(routes!(of_product))
        .routes(routes!(link, unlink))
}

#[utoipa::path(get, path = "/api/v1/taxonomies", tag = "categories", security(("bearer" = ["catalog:read"])),
    params(PageParams), responses((status = 200, description = "A page of taxonomies, by code", body = Page<Taxonomy>)))]
async fn taxonomies(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(page.page_of(&state.sdk.categories().taxonomies().await?)?))
}

#[utoipa::path(post, path = "/api/v1/taxonomies", tag = "categories", security(("bearer" = ["catalog:write"])), request_body = NewTaxonomy,
    responses((status = 201, description = "Created", body = Taxonomy),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json")))]
async fn create_taxonomy(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewTaxonomy>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(state.sdk.categories().create_taxonomy(input).await?)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct TreeQuery {
    /// Taxonomy id or code; `default` when absent.
    #[serde(default)]
    taxonomy: Option<String>,
}

/// The whole tree of a taxonomy.
#[utoipa::path(get, path = "/api/v1/categories", tag = "categories", security(("bearer" = ["catalog:read"])), params(TreeQuery),
    responses((status = 200, description = "The taxonomy's tree, roots first", body = Vec<CategoryNode>)))]
async fn tree(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TreeQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.categories().tree(query.taxonomy.as_deref()).await?.as_ref().clone()))
}

#[utoipa::path(post, path = "/api/v1/categories", tag = "categories", security(("bearer" = ["catalog:write"])), request_body = NewCategory,
    responses((status = 201, description = "Created; `Location` names it", body = Category),
        (status = 409, description = "The slug is taken among its siblings", body = Problem, content_type = "application/problem+json")))]
async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewCategory>,
) -> Result<impl IntoResponse, ApiError> {
    let category = state.sdk.categories().create(input).await?;
    let location = format!("/api/v1/categories/{}", category.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(category)))
}

#[utoipa::path(get, path = "/api/v1/categories/{id}", tag = "categories", security(("bearer" = ["catalog:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "The category", body = Category)))]
async fn category(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.categories().get(parse_id("id", &id)?).await?))
}

/// Rename, re-slug, reorder or move (with the subtree).
#[utoipa::path(patch, path = "/api/v1/categories/{id}", tag = "categories", security(("bearer" = ["catalog:write"])), params(("id" = Uuid, Path)),
    request_body = CategoryPatch,
    responses((status = 200, description = "Changed", body = Category),
        (status = 409, description = "The slug is taken among the new siblings", body = Problem, content_type = "application/problem+json")))]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<CategoryPatch>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.categories().update(parse_id("id", &id)?, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/categories/{id}", tag = "categories", security(("bearer" = ["catalog:write"])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"),
        (status = 409, description = "It still has children or products", body = Problem, content_type = "application/problem+json")))]
async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.categories().delete(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/categories/{id}/breadcrumbs", tag = "categories", security(("bearer" = ["catalog:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "From the root down to the category", body = Vec<Category>)))]
async fn breadcrumbs(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.categories().breadcrumbs(parse_id("id", &id)?).await?))
}

#[utoipa::path(get, path = "/api/v1/products/{id}/categories", tag = "categories", security(("bearer" = ["catalog:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "The product's categories", body = Vec<Category>)))]
async fn of_product(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.categories().of_product(parse_id("id", &id)?).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct LinkQuery {
    /// Make it the product's primary category of that taxonomy.
    #[serde(default)]
    primary: bool,
}

#[utoipa::path(put, path = "/api/v1/products/{id}/categories/{category_id}", tag = "categories", security(("bearer" = ["catalog:write"])),
    params(("id" = Uuid, Path, description = "Product id"), ("category_id" = Uuid, Path), LinkQuery),
    responses((status = 204, description = "Linked")))]
async fn link(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, category_id)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<LinkQuery>,
) -> Result<StatusCode, ApiError> {
    let (id, category_id) = (parse_id("id", &id)?, parse_id("category_id", &category_id)?);
    state.sdk.categories().on_behalf_of(caller.user_id).link(id, category_id, query.primary).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/products/{id}/categories/{category_id}", tag = "categories", security(("bearer" = ["catalog:write"])),
    params(("id" = Uuid, Path, description = "Product id"), ("category_id" = Uuid, Path)),
    responses((status = 204, description = "Unlinked")))]
async fn unlink(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, category_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (id, category_id) = (parse_id("id", &id)?, parse_id("category_id", &category_id)?);
    state.sdk.categories().on_behalf_of(caller.user_id).unlink(id, category_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
