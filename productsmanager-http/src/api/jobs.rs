//! `/api/v1/jobs`: the job queues of every domain — enqueue, list, inspect, cancel, pause, resume, retry.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use productsmanager_core::ErrorKind;
use productsmanager_core::catalog::Page;
use productsmanager_core::input::parse_id;
use productsmanager_core::jobs::{Job, JobState, NewJob};
use serde::Deserialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery, Caller};
use crate::AppState;
use crate::error::{ApiError, Problem, problem};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, enqueue)).routes(routes!(job)).routes(routes!(act))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default = "default_queue")]
    queue: String,
    #[serde(default)]
    state: Option<JobState>,
    /// Page size: 100 by default, at most 1000.
    #[serde(default)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

fn default_queue() -> String {
    "catalog".to_string()
}

#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = ["jobs:read"])), params(ListQuery),
    responses((status = 200, description = "A page of the queue's jobs, newest first", body = Page<Job>)))]
async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let limit = query.limit.unwrap_or(100);
    Ok(Json(state.sdk.jobs().page(&query.queue, query.state, limit, query.cursor.as_deref()).await?))
}

#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = ["jobs:manage"])),
    request_body = NewJob, responses((status = 201, description = "Queued", body = Job)))]
async fn enqueue(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(mut input): ApiJson<NewJob>,
) -> Result<impl IntoResponse, ApiError> {
    input.requested_by = Some(caller.user_id);
    Ok((StatusCode::CREATED, Json(state.sdk.jobs().enqueue(input).await?)))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", security(("bearer" = ["jobs:read"])),
    params(("id" = Uuid, Path)), responses((status = 200, description = "The job", body = Job)))]
async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.jobs().get(parse_id("id", &id)?).await?))
}

/// `cancel`, `pause`, `resume` or `retry`; answers the job as it is afterwards.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/{action}", tag = "jobs", security(("bearer" = ["jobs:manage"])),
    params(("id" = Uuid, Path), ("action" = String, Path, description = "`cancel`, `pause`, `resume` or `retry`")),
    responses((status = 200, description = "The job as it is afterwards", body = Job),
        (status = 409, description = "Not possible in the job's state", body = Problem, content_type = "application/problem+json")))]
async fn act(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
) -> Result<axum::response::Response, ApiError> {
    let id = parse_id("id", &id)?;
    let jobs = state.sdk.jobs();
    let job = match action.as_str() {
        "cancel" => jobs.cancel(id).await?,
        "pause" => jobs.pause(id).await?,
        "resume" => jobs.resume(id).await?,
        "retry" => jobs.retry(id).await?,
        _ => {
            return Ok(problem(
                ErrorKind::NotFound,
                format!("no job action {action:?}; cancel, pause, resume or retry"),
            ));
        }
    };
    Ok(Json(job).into_response())
}
