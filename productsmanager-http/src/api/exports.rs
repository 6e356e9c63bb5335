//! `/api/v1/exports`: feed files queued for a worker (our CSV, Shopify and WooCommerce CSV, XLSX, Google Merchant
//! XML and TSV), export jobs and their files.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use productsmanager_core::catalog::Page;
use productsmanager_core::exports::{ExportJob, FeedRequest};
use productsmanager_core::input::parse_id;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery, Caller};
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_feed)).routes(routes!(jobs)).routes(routes!(job)).routes(routes!(file))
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
