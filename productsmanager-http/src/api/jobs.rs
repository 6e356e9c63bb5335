//! `/api/v1/jobs`: the job queues of every domain — enqueue, list, inspect, cancel, pause, resume, retry.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use productsmanager_core::ErrorKind;
use productsmanager_core::input::parse_id;
use productsmanager_core::jobs::{JobState, NewJob};
use serde::Deserialize;

use super::{ApiJson, ApiQuery};
use crate::AppState;
use crate::error::{ApiError, problem};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/jobs", get(list).post(enqueue))
        .route("/api/v1/jobs/{id}", get(job))
        .route("/api/v1/jobs/{id}/{action}", post(act))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default = "default_queue")]
    queue: String,
    #[serde(default)]
    state: Option<JobState>,
    #[serde(default)]
    limit: Option<u32>,
}

fn default_queue() -> String {
    "catalog".to_string()
}

async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.jobs().list(&query.queue, query.state, query.limit.unwrap_or(100)).await?))
}

async fn enqueue(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewJob>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(state.sdk.jobs().enqueue(input).await?)))
}

async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.jobs().get(parse_id("id", &id)?).await?))
}

/// `cancel`, `pause`, `resume` or `retry`; answers the job as it is afterwards.
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
