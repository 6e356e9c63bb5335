//! `/api/v1/users`, `/api/v1/roles`, `/api/v1/api-keys`: access control, for admins (`admin:users`);
//! `/api/v1/me`: who the caller is and what they may do.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use productsmanager_core::auth::{ApiKey, CreatedApiKey, NewApiKey, NewRole, NewUser, Principal, Role, User};
use productsmanager_core::catalog::Page;
use productsmanager_core::input::parse_id;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ApiJson, ApiQuery, Caller, PageParams};
use crate::AppState;
use crate::error::{ApiError, Problem};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(users, create_user))
        .routes(routes!(user, change_user))
        .routes(routes!(set_password))
        .routes(routes!(grant, revoke))
        .routes(routes!(roles, create_role))
        .routes(routes!(delete_role))
        .routes(routes!(api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
}

/// The caller: who, which roles, which permissions (an API key's: its scopes within its user's).
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Me {
    user: User,
    roles: Vec<String>,
    permissions: Vec<String>,
    api_key_id: Option<Uuid>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "The caller and what they may do", body = Me)))]
async fn me(State(state): State<AppState>, Caller(caller): Caller) -> Result<impl IntoResponse, ApiError> {
    let auth = state.sdk.auth();
    let user = auth.user(caller.user_id).await?;
    let roles = auth.roles_of(caller.user_id).await?;
    let permissions = caller.permissions.iter().cloned().collect();
    Ok(Json(Me { user, roles, permissions, api_key_id: caller.api_key_id }))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = ["admin:users"])),
    params(PageParams), responses((status = 200, description = "A page of users, by e-mail", body = Page<User>)))]
async fn users(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(page.page_of(&state.sdk.auth().users().await?)?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = ["admin:users"])),
    request_body = NewUser,
    responses((status = 201, description = "Created with its roles", body = User),
        (status = 409, description = "The e-mail is taken (in any case)", body = Problem,
            content_type = "application/problem+json")))]
async fn create_user(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewUser>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(state.sdk.auth().create_user(input).await?)))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = ["admin:users"])),
    params(("id" = String, Path, description = "Id or e-mail")),
    responses((status = 200, description = "The user", body = User)))]
async fn user(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.auth().find_user(&id).await?))
}

/// `{"is_active": false}` deactivates (and signs out everywhere); `true` activates.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UserChange {
    is_active: bool,
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = ["admin:users"])),
    params(("id" = String, Path, description = "Id or e-mail")), request_body = UserChange,
    responses((status = 200, description = "The user as it is now", body = User)))]
async fn change_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UserChange>,
) -> Result<impl IntoResponse, ApiError> {
    let auth = state.sdk.auth();
    let user = auth.find_user(&id).await?;
    auth.set_active(user.id, input.is_active).await?;
    Ok(Json(auth.user(user.id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    password: String,
}

#[utoipa::path(put, path = "/api/v1/users/{id}/password", tag = "users", security(("bearer" = ["admin:users"])),
    params(("id" = String, Path, description = "Id or e-mail")), request_body = NewPassword,
    responses((status = 204, description = "Set; the user is signed out everywhere")))]
async fn set_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewPassword>,
) -> Result<impl IntoResponse, ApiError> {
    let auth = state.sdk.auth();
    let user = auth.find_user(&id).await?;
    auth.set_password(user.id, &input.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/users/{id}/roles/{role}", tag = "users", security(("bearer" = ["admin:users"])),
    params(("id" = String, Path, description = "Id or e-mail"), ("role" = String, Path)),
    responses((status = 204, description = "Granted (already held: unchanged)")))]
async fn grant(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, role)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    change_role(&state, &caller, &id, &role, true).await
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/roles/{role}", tag = "users", security(("bearer" = ["admin:users"])),
    params(("id" = String, Path, description = "Id or e-mail"), ("role" = String, Path)),
    responses((status = 204, description = "Revoked")))]
async fn revoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, role)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    change_role(&state, &caller, &id, &role, false).await
}

/// Grants (`granted`) or revokes `role` of the user `id` (id or e-mail), as `caller`.
async fn change_role(
    state: &AppState,
    caller: &Principal,
    id: &str,
    role: &str,
    granted: bool,
) -> Result<StatusCode, ApiError> {
    let auth = state.sdk.auth();
    let user = auth.find_user(id).await?;
    if granted {
        auth.grant(user.id, role, Some(caller.user_id)).await?;
    } else {
        auth.revoke(user.id, role, Some(caller.user_id)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/roles", tag = "users", security(("bearer" = ["admin:users"])),
    responses((status = 200, description = "Built-in and custom roles with their permissions", body = Vec<Role>)))]
async fn roles(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.auth().roles().await?))
}

#[utoipa::path(post, path = "/api/v1/roles", tag = "users", security(("bearer" = ["admin:users"])),
    request_body = NewRole,
    responses((status = 201, description = "Created", body = Role),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json")))]
async fn create_role(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewRole>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(state.sdk.auth().create_role(input).await?)))
}

#[utoipa::path(delete, path = "/api/v1/roles/{name}", tag = "users", security(("bearer" = ["admin:users"])),
    params(("name" = String, Path)),
    responses((status = 204, description = "Deleted; its users lose its permissions"),
        (status = 409, description = "A built-in role", body = Problem, content_type = "application/problem+json")))]
async fn delete_role(State(state): State<AppState>, Path(name): Path<String>) -> Result<impl IntoResponse, ApiError> {
    state.sdk.auth().delete_role(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?user=`: the keys of one user (id or e-mail), else all.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct KeysQuery {
    /// Only this user's keys (id or e-mail).
    #[serde(default)]
    user: Option<String>,
    /// Page size: 50 by default, at most 500.
    #[serde(default)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/api-keys", tag = "users", security(("bearer" = ["admin:users"])),
    params(KeysQuery),
    responses((status = 200, description = "A page of API keys by name (never their secrets)", body = Page<ApiKey>)))]
async fn api_keys(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<KeysQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let auth = state.sdk.auth();
    let user = match &query.user {
        Some(user) => Some(auth.find_user(user).await?.id),
        None => None,
    };
    let keys = auth.api_keys(user).await?;
    Ok(Json(Page::of_listing(&keys, query.limit, query.cursor.as_deref()).map_err(productsmanager_core::Error::from)?))
}

#[utoipa::path(post, path = "/api/v1/api-keys", tag = "users", security(("bearer" = ["admin:users"])),
    request_body = NewApiKey,
    responses((status = 201, description = "Created; `secret` is shown this once", body = CreatedApiKey)))]
async fn create_api_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(input): ApiJson<NewApiKey>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(state.sdk.auth().create_api_key(input, Some(caller.user_id)).await?)))
}

#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "users", security(("bearer" = ["admin:users"])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Revoked: it stops working at once")))]
async fn revoke_api_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    state.sdk.auth().revoke_api_key(parse_id("id", &id)?, Some(caller.user_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
