//! `/api/v1/exports`: feed files queued for a worker (our CSV, Shopify and WooCommerce CSV, XLSX, Google Merchant
//! XML and TSV), export jobs and their files.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use productsmanager_core::catalog::Page;
use productsmanager_core::exports::{ExportItem, ExportJob, ExportMode, FeedRequest, NewPlatform, Platform};
use productsmanager_core::input::parse_id;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ApiJson, ApiQuery, Caller};
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_feed))
        .routes(routes!(jobs))
        .routes(routes!(job))
        .routes(routes!(file))
        .routes(routes!(items))
        .routes(routes!(platforms, add_platform))
        .routes(routes!(platform, delete_platform))
        .routes(routes!(run_platform))
}

#[utoipa::path(get, path = "/api/v1/exports/platforms", tag = "exports", security(("bearer" = ["exports:read"])),
    responses((status = 200, description = "Every sales platform, by name (credentials never shown)", body = Vec<Platform>)))]
async fn platforms(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.exports().platforms().await?))
}

#[utoipa::path(post, path = "/api/v1/exports/platforms", tag = "exports", security(("bearer" = ["exports:run"])),
    request_body = NewPlatform,
    responses((status = 201, description = "Stored; the credentials sealed", body = Platform)))]
async fn add_platform(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(mut input): ApiJson<NewPlatform>,
) -> Result<impl IntoResponse, ApiError> {
    input.created_by = Some(caller.user_id);
    Ok((StatusCode::CREATED, Json(state.sdk.exports().add_platform(input).await?)))
}

#[utoipa::path(get, path = "/api/v1/exports/platforms/{key}", tag = "exports", security(("bearer" = ["exports:read"])),
    params(("key" = String, Path, description = "Id or name")),
    responses((status = 200, description = "The platform", body = Platform)))]
async fn platform(State(state): State<AppState>, Path(key): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.exports().platform(&key).await?))
}

#[utoipa::path(delete, path = "/api/v1/exports/platforms/{key}", tag = "exports", security(("bearer" = ["exports:run"])),
    params(("key" = String, Path, description = "Id or name")),
    responses((status = 204, description = "Removed with its jobs (the products stay in the shop)")))]
async fn delete_platform(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    state.sdk.exports().delete_platform(&key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A run to ask for.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    /// `delta` (default): what changed since it last went through, and what failed; `full`: everything.
    #[serde(default)]
    mode: ExportMode,
}

#[utoipa::path(post, path = "/api/v1/exports/platforms/{key}/runs", tag = "exports", security(("bearer" = ["exports:run"])),
    params(("key" = String, Path, description = "Id or name")), request_body = RunRequest,
    responses((status = 202, description = "Queued on the exports queue", body = ExportJob)))]
async fn run_platform(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    ApiJson(request): ApiJson<RunRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let job = state.sdk.exports().enqueue_platform_run(&key, request.mode, Some(caller.user_id)).await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ItemsQuery {
    /// `created`, `updated`, `unchanged`, `failed` or `skipped`.
    #[serde(default)]
    status: Option<String>,
    /// The last product id of the previous page.
    #[serde(default)]
    after: Option<Uuid>,
    /// Page size: 100 by default, at most 1000.
    #[serde(default = "hundred")]
    limit: u32,
}

fn hundred() -> u32 {
    100
}

#[utoipa::path(get, path = "/api/v1/exports/{id}/items", tag = "exports", security(("bearer" = ["exports:read"])),
    params(("id" = Uuid, Path), ItemsQuery),
    responses((status = 200, description = "What became of each product of a platform run, in product id order",
        body = Vec<ExportItem>)))]
async fn items(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ItemsQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id("id", &id)?;
    Ok(Json(state.sdk.exports().items(id, query.status.as_deref(), query.after, query.limit).await?))
}

#[utoipa::path(post, path = "/api/v1/exports/feeds", tag = "exports", security(("bearer" = ["exports:run"])),
    request_body = FeedRequest,
    responses((status = 202, description = "Queued on the exports queue; the job's file is ready when it succeeds",
        body = ExportJob)))]
async fn create_feed(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(request): ApiJson<FeedRequest>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::ACCEPTED, Json(state.sdk.exports().enqueue_feed(&request, Some(caller.user_id)).await?)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    /// Page size: 20 by default, at most 1000.
    #[serde(default = "twenty")]
    limit: u32,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

fn twenty() -> u32 {
    20
}

#[utoipa::path(get, path = "/api/v1/exports", tag = "exports", security(("bearer" = ["exports:read"])), params(JobsQuery),
    responses((status = 200, description = "A page of export jobs, newest first", body = Page<ExportJob>)))]
async fn jobs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<JobsQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.exports().jobs_page(query.limit, query.cursor.as_deref()).await?))
}

#[utoipa::path(get, path = "/api/v1/exports/{id}", tag = "exports", security(("bearer" = ["exports:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "The export job: state, counters, file", body = ExportJob)))]
async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.exports().job(parse_id("id", &id)?).await?))
}

#[utoipa::path(get, path = "/api/v1/exports/{id}/file", tag = "exports", security(("bearer" = ["exports:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "The feed file, streamed (404 until the job has succeeded)", body = String,
        content_type = "application/octet-stream")))]
async fn file(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = parse_id("id", &id)?;
    let (format, size, stream) = state.sdk.exports().file(id).await?;
    let disposition = format!("attachment; filename=\"{id}-{}.{}\"", format.cli_name(), format.extension());
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
