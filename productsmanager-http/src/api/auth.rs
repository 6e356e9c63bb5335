//! `/api/v1/auth`: sign-in, token refresh, sign-out. The only `/api/v1` routes open without credentials.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::{ApiJson, Client};
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshToken {
    refresh_token: String,
}

async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(input): ApiJson<Login>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.auth().login(&input.email, &input.password, &client).await?))
}

async fn refresh(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(input): ApiJson<RefreshToken>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.auth().refresh(&input.refresh_token, &client).await?))
}

async fn logout(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RefreshToken>,
) -> Result<impl IntoResponse, ApiError> {
    state.sdk.auth().logout(&input.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}
