//! `/api/v1/auth`: sign-in, token refresh, sign-out. The only `/api/v1` routes open without credentials.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use productsmanager_core::auth::TokenPair;
use serde::Deserialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, Client};
use crate::AppState;
use crate::error::{ApiError, Problem};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(refresh)).routes(routes!(logout))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RefreshToken {
    refresh_token: String,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()), request_body = Login,
    responses((status = 200, description = "Signed in", body = TokenPair),
        (status = 401, description = "Wrong e-mail or password (one answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed sign-ins for the account or the address; see `Retry-After`",
            body = Problem, content_type = "application/problem+json")))]
async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(input): ApiJson<Login>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.auth().login(&input.email, &input.password, &client).await?))
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", security(()), request_body = RefreshToken,
    responses((status = 200, description = "A new pair; the refresh token sent is used up", body = TokenPair),
        (status = 401, description = "Unknown, expired or revoked; a used-up token revokes its whole sign-in",
            body = Problem, content_type = "application/problem+json")))]
async fn refresh(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(input): ApiJson<RefreshToken>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.auth().refresh(&input.refresh_token, &client).await?))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(()), request_body = RefreshToken,
    responses((status = 204, description = "The sign-in is revoked: its refresh and access tokens stop working")))]
async fn logout(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RefreshToken>,
) -> Result<impl IntoResponse, ApiError> {
    state.sdk.auth().logout(&input.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}
