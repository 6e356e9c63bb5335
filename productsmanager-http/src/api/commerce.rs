//! Offers, prices and stock: `/api/v1/offers`, `/api/v1/prices`, `/api/v1/stock` and their per-product lists.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use productsmanager_core::catalog::{NewOffer, NewPrice, NewStockLevel};
use productsmanager_core::input::{InputError, parse_id};
use serde::Deserialize;

use super::{ApiJson, ApiQuery};
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/offers", post(record_offer))
        .route("/api/v1/offers/{id}", delete(delete_offer))
        .route("/api/v1/products/{id}/offers", get(offers_of))
        .route("/api/v1/prices", post(set_price))
        .route("/api/v1/prices/{id}", delete(delete_price))
        .route("/api/v1/products/{id}/prices", get(prices_of))
        .route("/api/v1/stock", put(set_stock))
        .route("/api/v1/products/{id}/stock", get(stock_of))
}

/// Creates or updates the supplier's offer with that SKU.
async fn record_offer(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewOffer>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.offers().record(input).await?))
}

async fn delete_offer(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.offers().delete(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn offers_of(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.offers().for_product(parse_id("id", &id)?).await?))
}

async fn set_price(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewPrice>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.prices().set(input).await?))
}

async fn delete_price(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.sdk.prices().delete(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
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

async fn set_stock(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewStockLevel>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.stock().set(input).await?))
}

async fn stock_of(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.stock().levels(parse_id("id", &id)?).await?))
}
