//! Offers, prices and stock: `/api/v1/offers`, `/api/v1/prices`, `/api/v1/stock` and their per-product lists.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use productsmanager_core::catalog::{NewOffer, NewPrice, NewStockLevel, Offer, Price, StockLevel};
use productsmanager_core::input::{InputError, parse_id};
use serde::Deserialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery, Caller};
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_offer))
        .routes(routes!(delete_offer))
        .routes(routes!(offers_of))
        .routes(routes!(set_price))
        .routes(routes!(delete_price))
        .routes(routes!(prices_of))
        .routes(routes!(set_stock))
        .routes(routes!(stock_of))
}

/// Creates or updates the supplier's offer with that SKU.
#[utoipa::path(post, path = "/api/v1/offers", tag = "commerce", security(("bearer" = ["catalog:write"])), request_body = NewOffer,
    responses((status = 200, description = "The offer as stored", body = Offer)))]
async fn record_offer(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewOffer>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.offers().record(input).await?))
}

#[utoipa::path(delete, path = "/api/v1/offers/{id}", tag = "commerce", security(("bearer" = ["catalog:write"])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted")))]
async fn delete_offer(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.offers().delete(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/products/{id}/offers", tag = "commerce", security(("bearer" = ["catalog:read"])), params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, description = "The product's supplier offers", body = Vec<Offer>)))]
async fn offers_of(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.offers().for_product(parse_id("id", &id)?).await?))
}

#[utoipa::path(post, path = "/api/v1/prices", tag = "commerce", security(("bearer" = ["catalog:write"])), request_body = NewPrice,
    responses((status = 200, description = "The price as stored", body = Price)))]
async fn set_price(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(input): ApiJson<NewPrice>,
) -> Result<impl IntoResponse, ApiError> {
    // Recorded as set by the caller: an import then keeps it (the product's provenance).
    Ok(Json(state.sdk.prices().on_behalf_of(caller.user_id).set(input).await?))
}

#[utoipa::path(delete, path = "/api/v1/prices/{id}", tag = "commerce", security(("bearer" = ["catalog:write"])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted")))]
async fn delete_price(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    // A windowed price removed by the caller: the windows of its type and currency are theirs from then on.
    state.sdk.prices().on_behalf_of(caller.user_id).delete(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PricesQuery {
    /// Only the prices that apply at this instant (RFC 3339, or `now`), one per type and currency.
    #[serde(default)]
    at: Option<String>,
}

fn instant(text: &str) -> Result<DateTime<Utc>, InputError> {
    if text == "now" {
        return Ok(Utc::now());
    }
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|e| InputError {
        field: "at".to_string(),
        reason: format!("{text:?} is neither `now` nor an RFC 3339 instant: {e}"),
        line: 1,
        column: 1,
    })
}

#[utoipa::path(get, path = "/api/v1/products/{id}/prices", tag = "commerce", security(("bearer" = ["catalog:read"])),
    params(("id" = Uuid, Path, description = "Product id"), PricesQuery),
    responses((status = 200, description = "The product's prices", body = Vec<Price>)))]
async fn prices_of(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PricesQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let prices = state.sdk.prices();
    Ok(Json(match query.at.as_deref() {
        None => prices.for_product(id).await?,
        Some(at) => prices.current(id, instant(at)?).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/stock", tag = "commerce", security(("bearer" = ["catalog:write"])), request_body = NewStockLevel,
    responses((status = 200, description = "The stock level as stored", body = StockLevel)))]
async fn set_stock(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(input): ApiJson<NewStockLevel>,
) -> Result<impl IntoResponse, ApiError> {
    // Recorded as set by the caller: a shop's next file then keeps it (the product's provenance).
    Ok(Json(state.sdk.stock().on_behalf_of(caller.user_id).set(input).await?))
}

#[utoipa::path(get, path = "/api/v1/products/{id}/stock", tag = "commerce", security(("bearer" = ["catalog:read"])), params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, description = "The product's stock per location", body = Vec<StockLevel>)))]
async fn stock_of(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.stock().levels(parse_id("id", &id)?).await?))
}
