//! `/api/v1/code2asin`: code checks, jobs (with their per-code items, logs and figures), results and their
//! review, and the Amazon API configurations (credentials in, never out).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use productsmanager_core::catalog::Page;
use productsmanager_core::code2asin::{
    AmazonApiConfig, Code2AsinJob, Code2AsinLog, Code2AsinResult, Code2AsinStatistics, CodeCheck, CodeOutcome, JobItem,
    NewAmazonApiConfig, NewCode2AsinJob, NewSupplierSettings, ReviewState, SupplierSettings,
};
use productsmanager_core::input::parse_id;
use productsmanager_core::jobs::JobState;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ApiJson, ApiQuery, Caller};
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check))
        .routes(routes!(jobs, create_job))
        .routes(routes!(job))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(cancel))
        .routes(routes!(items))
        .routes(routes!(logs))
        .routes(routes!(statistics))
        .routes(routes!(results))
        .routes(routes!(results_of_code))
        .routes(routes!(accept))
        .routes(routes!(reject))
        .routes(routes!(lookup))
        .routes(routes!(raw_response))
        .routes(routes!(supplier_settings))
        .routes(routes!(set_supplier_settings, delete_supplier_settings))
        .routes(routes!(configs, add_config))
        .routes(routes!(delete_config))
}

#[utoipa::path(get, path = "/api/v1/code2asin/check/{code}", tag = "code2asin", security(("bearer" = ["code2asin:read"])),
    params(("code" = String, Path, description = "EAN-13, EAN-8, UPC-A, GTIN-14, ISBN-10 or ISBN-13")),
    responses((status = 200, description = "Whether the code is valid, its GTIN-14 and kind, and whether it is restricted", body = CodeCheck)))]
async fn check(Path(code): Path<String>) -> impl IntoResponse {
    Json(productsmanager_core::code2asin::check(&code))
}

/// `?state=&limit=&cursor=` of the job listing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    #[serde(default)]
    state: Option<JobState>,
    /// Page size: 20 by default, at most 1000.
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/code2asin/jobs", tag = "code2asin", security(("bearer" = ["code2asin:read"])), params(JobsQuery),
    responses((status = 200, description = "A page of Code2ASIN jobs, newest first", body = Page<Code2AsinJob>)))]
async fn jobs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<JobsQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let page = state.sdk.code2asin().jobs(query.state, query.limit.unwrap_or(20), query.cursor.as_deref()).await?;
    Ok(Json(page))
}

/// 202 with the queued job; when the same codes for the same marketplace are already in an unfinished job,
/// 200 with that job.
#[utoipa::path(post, path = "/api/v1/code2asin/jobs", tag = "code2asin", security(("bearer" = ["code2asin:run"])),
    request_body = NewCode2AsinJob,
    responses((status = 202, description = "Queued", body = Code2AsinJob),
        (status = 200, description = "An unfinished job of the same codes", body = Code2AsinJob)))]
async fn create_job(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(mut input): ApiJson<NewCode2AsinJob>,
) -> Result<impl IntoResponse, ApiError> {
    input.requested_by = Some(caller.user_id);
    let (job, new) = state.sdk.code2asin().submit(input).await?;
    Ok((if new { StatusCode::ACCEPTED } else { StatusCode::OK }, Json(job)))
}

fn id_of(id: &str) -> Result<Uuid, ApiError> {
    Ok(parse_id("id", id)?)
}

#[utoipa::path(get, path = "/api/v1/code2asin/jobs/{id}", tag = "code2asin", security(("bearer" = ["code2asin:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "The job: state and counts", body = Code2AsinJob)))]
async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.code2asin().job(id_of(&id)?).await?))
}

#[utoipa::path(post, path = "/api/v1/code2asin/jobs/{id}/pause", tag = "code2asin", security(("bearer" = ["code2asin:run"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "Paused (a running job stops after its current window)", body = Code2AsinJob)))]
async fn pause(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.code2asin().pause(id_of(&id)?).await?))
}

#[utoipa::path(post, path = "/api/v1/code2asin/jobs/{id}/resume", tag = "code2asin", security(("bearer" = ["code2asin:run"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "Queued again; it continues from its checkpoint", body = Code2AsinJob)))]
async fn resume(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.code2asin().resume(id_of(&id)?).await?))
}

#[utoipa::path(post, path = "/api/v1/code2asin/jobs/{id}/cancel", tag = "code2asin", security(("bearer" = ["code2asin:run"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "Cancelled; what it found so far is kept", body = Code2AsinJob)))]
async fn cancel(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.code2asin().cancel(id_of(&id)?).await?))
}

/// `?outcome=&after=&limit=` of a job's items.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ItemsQuery {
    #[serde(default)]
    outcome: Option<CodeOutcome>,
    /// The last position of the previous page.
    #[serde(default)]
    after: Option<i64>,
    /// 100 by default, at most 10,000.
    #[serde(default)]
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/code2asin/jobs/{id}/items", tag = "code2asin", security(("bearer" = ["code2asin:read"])),
    params(("id" = Uuid, Path), ItemsQuery),
    responses((status = 200, description = "What became of each code, in input order", body = Vec<JobItem>)))]
async fn items(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ItemsQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let items =
        state.sdk.code2asin().items(id_of(&id)?, query.outcome, query.after, query.limit.unwrap_or(100)).await?;
    Ok(Json(items))
}

#[utoipa::path(get, path = "/api/v1/code2asin/jobs/{id}/logs", tag = "code2asin", security(("bearer" = ["code2asin:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "The job's log, oldest first (at most 1000 lines)", body = Vec<Code2AsinLog>)))]
async fn logs(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.code2asin().logs(id_of(&id)?, 1000).await?))
}

#[utoipa::path(get, path = "/api/v1/code2asin/jobs/{id}/statistics", tag = "code2asin", security(("bearer" = ["code2asin:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "Calls, codes per second, hit rate, errors by kind, cache hits", body = Code2AsinStatistics)))]
async fn statistics(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.code2asin().job_statistics(id_of(&id)?).await?))
}

/// `?review=&marketplace=&limit=&cursor=` of the results.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ResultsQuery {
    /// `pending`: the matches waiting for review.
    #[serde(default)]
    review: Option<ReviewState>,
    #[serde(default)]
    marketplace: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/code2asin/results", tag = "code2asin", security(("bearer" = ["code2asin:read"])), params(ResultsQuery),
    responses((status = 200, description = "A page of ASINs found, newest first", body = Page<Code2AsinResult>)))]
async fn results(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ResultsQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let page = state
        .sdk
        .code2asin()
        .results(query.review, query.marketplace.as_deref(), query.limit.unwrap_or(50), query.cursor.as_deref())
        .await?;
    Ok(Json(page))
}

/// `?marketplace=` of a code's results.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct MarketplaceQuery {
    /// Country code (`FR`) or marketplace id.
    marketplace: String,
}

#[utoipa::path(get, path = "/api/v1/code2asin/codes/{code}/results", tag = "code2asin", security(("bearer" = ["code2asin:read"])),
    params(("code" = String, Path), MarketplaceQuery),
    responses((status = 200, description = "The stored results of a code, best first", body = Vec<Code2AsinResult>)))]
async fn results_of_code(
    State(state): State<AppState>,
    Path(code): Path<String>,
    ApiQuery(query): ApiQuery<MarketplaceQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.code2asin().results_of(&code, &query.marketplace).await?))
}

#[utoipa::path(post, path = "/api/v1/code2asin/results/{id}/accept", tag = "code2asin", security(("bearer" = ["code2asin:run"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "Accepted: the ASIN is written to the catalog product", body = Code2AsinResult)))]
async fn accept(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.code2asin().accept(id_of(&id)?, Some(caller.user_id)).await?))
}

#[utoipa::path(post, path = "/api/v1/code2asin/results/{id}/reject", tag = "code2asin", security(("bearer" = ["code2asin:run"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "Rejected: never written back, and taken off the product if it was", body = Code2AsinResult)))]
async fn reject(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.code2asin().reject(id_of(&id)?, Some(caller.user_id)).await?))
}

#[utoipa::path(get, path = "/api/v1/code2asin/configs", tag = "code2asin", security(("bearer" = ["admin:settings"])),
    responses((status = 200, description = "The Amazon API configurations (secrets never shown)", body = Vec<AmazonApiConfig>)))]
async fn configs(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.code2asin().configs().await?))
}

#[utoipa::path(post, path = "/api/v1/code2asin/configs", tag = "code2asin", security(("bearer" = ["admin:settings"])),
    request_body = NewAmazonApiConfig,
    responses((status = 201, description = "Stored; the secrets are sealed under the master key", body = AmazonApiConfig)))]
async fn add_config(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(mut input): ApiJson<NewAmazonApiConfig>,
) -> Result<impl IntoResponse, ApiError> {
    input.created_by = Some(caller.user_id);
    Ok((StatusCode::CREATED, Json(state.sdk.code2asin().add_config(input).await?)))
}

#[utoipa::path(delete, path = "/api/v1/code2asin/configs/{id}", tag = "code2asin", security(("bearer" = ["admin:settings"])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Removed")))]
async fn delete_config(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    state.sdk.code2asin().delete_config(id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/code2asin/lookup/{code}", tag = "code2asin", security(("bearer" = ["code2asin:run"])),
    params(("code" = String, Path), MarketplaceQuery),
    responses((status = 200, description = "The code's ASINs, best first (cached, stored within the TTL, or asked of Amazon now); one row without ASIN when none was found", body = Vec<Code2AsinResult>)))]
async fn lookup(
    State(state): State<AppState>,
    Path(code): Path<String>,
    ApiQuery(query): ApiQuery<MarketplaceQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.code2asin().lookup(&code, &query.marketplace).await?))
}

#[utoipa::path(get, path = "/api/v1/code2asin/results/{id}/raw", tag = "code2asin", security(("bearer" = ["code2asin:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "Amazon's response the result was read from, as received", body = Object, content_type = "application/json")))]
async fn raw_response(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let raw = state.sdk.code2asin().raw_response(id_of(&id)?).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], raw))
}

#[utoipa::path(get, path = "/api/v1/code2asin/suppliers/{supplier}", tag = "code2asin", security(("bearer" = ["code2asin:read"])),
    params(("supplier" = String, Path, description = "Supplier id or code")),
    responses((status = 200, description = "The supplier's Code2ASIN settings, by marketplace", body = Vec<SupplierSettings>)))]
async fn supplier_settings(
    State(state): State<AppState>,
    Path(supplier): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let supplier = state.sdk.suppliers().find(&supplier).await?;
    Ok(Json(state.sdk.code2asin().supplier_settings(supplier.id).await?))
}

#[utoipa::path(put, path = "/api/v1/code2asin/suppliers/{supplier}/{marketplace}", tag = "code2asin", security(("bearer" = ["code2asin:run"])),
    params(("supplier" = String, Path, description = "Supplier id or code"), ("marketplace" = String, Path)),
    request_body = NewSupplierSettings,
    responses((status = 200, description = "The settings its jobs in that marketplace take by default", body = SupplierSettings)))]
async fn set_supplier_settings(
    State(state): State<AppState>,
    Path((supplier, marketplace)): Path<(String, String)>,
    ApiJson(input): ApiJson<NewSupplierSettings>,
) -> Result<impl IntoResponse, ApiError> {
    let supplier = state.sdk.suppliers().find(&supplier).await?;
    Ok(Json(state.sdk.code2asin().set_supplier_settings(supplier.id, &marketplace, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/code2asin/suppliers/{supplier}/{marketplace}", tag = "code2asin", security(("bearer" = ["code2asin:run"])),
    params(("supplier" = String, Path), ("marketplace" = String, Path)),
    responses((status = 204, description = "Removed")))]
async fn delete_supplier_settings(
    State(state): State<AppState>,
    Path((supplier, marketplace)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let supplier = state.sdk.suppliers().find(&supplier).await?;
    state.sdk.code2asin().delete_supplier_settings(supplier.id, &marketplace).await?;
    Ok(StatusCode::NO_CONTENT)
}
