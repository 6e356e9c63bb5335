//! `/api/v1/analytics`: the dashboards — catalog overview and completeness, supplier scorecards, import history,
//! top and zero-result searches, product figures, latency rollups and the activity feed.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use productsmanager_core::analytics::{
    CatalogOverview, Completeness, ImportHistory, PerformanceRollup, ProductDay, SearchReport, SupplierScorecard,
    UserActivity,
};
use productsmanager_core::catalog::Page;
use productsmanager_core::input::parse_id;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ApiQuery;
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(overview))
        .routes(routes!(incomplete))
        .routes(routes!(product_completeness))
        .routes(routes!(product_metrics))
        .routes(routes!(suppliers))
        .routes(routes!(imports))
        .routes(routes!(searches))
        .routes(routes!(performance))
        .routes(routes!(activity))
}

/// `?days=`: the period, in days ending today.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Period {
    /// 1 to 366; 30 by default.
    #[serde(default)]
    days: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/analytics/overview", tag = "analytics", security(("bearer" = ["analytics:read"])),
    responses((status = 200, description = "The catalog at a glance as of the latest snapshot (`taken_at`; hourly): \
        products with GTIN, ASIN, images, stock; completeness by category", body = CatalogOverview)))]
async fn overview(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.analytics().overview().await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct IncompleteQuery {
    /// An export platform (id or name) whose completeness rules apply (the default rules otherwise).
    #[serde(default)]
    channel: Option<String>,
    /// Products whose primary category is this one.
    #[serde(default)]
    category_id: Option<String>,
    /// Page size: 50 by default, at most 500.
    #[serde(default)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

fn optional_id(field: &str, value: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    Ok(value.map(|v| parse_id(field, v)).transpose()?)
}

#[utoipa::path(get, path = "/api/v1/analytics/completeness", tag = "analytics",
    security(("bearer" = ["analytics:read"])), params(IncompleteQuery),
    responses((status = 200, description = "Products failing a completeness check (as of the latest snapshot), \
        with their score and what is missing", body = Page<Completeness>)))]
async fn incomplete(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<IncompleteQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let analytics = state.sdk.analytics();
    let rules = analytics.rules_of_channel(query.channel.as_deref()).await?;
    let category = optional_id("category_id", query.category_id.as_deref())?;
    Ok(Json(analytics.incomplete_products(&rules, category, query.cursor.as_deref(), query.limit).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ChannelQuery {
    /// An export platform (id or name) whose completeness rules apply (the default rules otherwise).
    #[serde(default)]
    channel: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/analytics/products/{id}/completeness", tag = "analytics",
    security(("bearer" = ["analytics:read"])), params(("id" = Uuid, Path), ChannelQuery),
    responses((status = 200, description = "The product's completeness now", body = Completeness)))]
async fn product_completeness(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ChannelQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let analytics = state.sdk.analytics();
    let rules = analytics.rules_of_channel(query.channel.as_deref()).await?;
    Ok(Json(analytics.completeness(parse_id("id", &id)?, &rules).await?))
}

#[utoipa::path(get, path = "/api/v1/analytics/products/{id}/metrics", tag = "analytics",
    security(("bearer" = ["analytics:read"])), params(("id" = Uuid, Path), Period),
    responses((status = 200, description = "The product's views, exports, price changes and stock-outs per day",
        body = Vec<ProductDay>)))]
async fn product_metrics(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(period): ApiQuery<Period>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.analytics().product_days(parse_id("id", &id)?, period.days).await?))
}

#[utoipa::path(get, path = "/api/v1/analytics/suppliers", tag = "analytics", security(("bearer" = ["analytics:read"])),
    params(Period), responses((status = 200, description = "Supplier scorecards: offers and stock coverage, price \
        changes, import success rate and mean duration", body = Vec<SupplierScorecard>)))]
async fn suppliers(
    State(state): State<AppState>,
    ApiQuery(period): ApiQuery<Period>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.analytics().supplier_scorecards(period.days).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ImportsQuery {
    /// 1 to 366; 30 by default.
    #[serde(default)]
    days: Option<u32>,
    /// The latest jobs listed: 50 by default, at most 500.
    #[serde(default)]
    jobs: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/analytics/imports", tag = "analytics", security(("bearer" = ["analytics:read"])),
    params(ImportsQuery), responses((status = 200, description = "Imports per day (rows/s, error rate, duration) and \
        the latest jobs", body = ImportHistory)))]
async fn imports(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ImportsQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.analytics().import_history(query.days, query.jobs).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SearchesQuery {
    /// 1 to 366; 30 by default.
    #[serde(default)]
    days: Option<u32>,
    /// Queries of each list: 20 by default, at most 200.
    #[serde(default)]
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/analytics/searches", tag = "analytics", security(("bearer" = ["analytics:read"])),
    params(SearchesQuery), responses((status = 200, description = "Top queries and zero-result queries",
        body = SearchReport)))]
async fn searches(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SearchesQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.analytics().searches(query.days, query.limit).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PerformanceQuery {
    /// `hour` (default) or `day`.
    #[serde(default)]
    period: Option<String>,
    /// 1 by default.
    #[serde(default)]
    days: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/analytics/performance", tag = "analytics",
    security(("bearer" = ["analytics:read"])), params(PerformanceQuery),
    responses((status = 200, description = "Latency percentiles per route and queue lengths, per hour or day",
        body = Vec<PerformanceRollup>)))]
async fn performance(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PerformanceQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.analytics().performance(query.period.as_deref().unwrap_or("hour"), query.days).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ActivityQuery {
    /// Only this user's writes.
    #[serde(default)]
    user_id: Option<String>,
    /// 50 by default, at most 1000.
    #[serde(default)]
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/analytics/activity", tag = "analytics", security(("bearer" = ["analytics:read"])),
    params(ActivityQuery), responses((status = 200, description = "The latest writes through the API and the CLI, \
        newest first", body = Vec<UserActivity>)))]
async fn activity(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ActivityQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let user = optional_id("user_id", query.user_id.as_deref())?;
    Ok(Json(state.sdk.activity().recent(user, query.limit.unwrap_or(50)).await?))
}
