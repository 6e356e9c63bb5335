//! `/api/v1/notifications`: the caller's own notifications; `/api/v1/ws`: the same, live, with job events.

use axum::Json;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use productsmanager_core::Sdk;
use productsmanager_core::auth::Principal;
use productsmanager_core::catalog::Page;
use productsmanager_core::input::parse_id;
use productsmanager_core::notifications::{Event, Notification, NotificationQuery};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiQuery, Caller};
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(read)).routes(routes!(read_all)).routes(routes!(socket))
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])),
    params(NotificationQuery),
    responses((status = 200, description = "The caller's notifications, newest first", body = Page<Notification>)))]
async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<NotificationQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.notifications().list(caller.user_id, &query).await?))
}

#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Marked read (already read: unchanged)", body = Notification)))]
async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.notifications().mark_read(caller.user_id, parse_id("id", &id)?).await?))
}

/// How many notifications `read-all` marked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Marked {
    marked: u64,
}

#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "Every unread notification of the caller marked read", body = Marked)))]
async fn read_all(State(state): State<AppState>, Caller(caller): Caller) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(Marked { marked: state.sdk.notifications().mark_all_read(caller.user_id).await? }))
}

/// A WebSocket of JSON text messages, one per [`Event`]: `{"type": "notification", "notification": {…}}` for
/// each new notification of the caller, `{"type": "job", "job": {…}}` for each state or progress of a job run
/// by this server's workers (all jobs with `jobs:read`, else the caller's own). Browsers, which cannot set
/// headers on a WebSocket, send the credential as the subprotocols `bearer, <token>`.
#[utoipa::path(get, path = "/api/v1/ws", tag = "notifications", security(("bearer" = [])),
    responses((status = 101, description = "Switched to the WebSocket protocol; then a stream of events", body = Event)))]
async fn socket(State(state): State<AppState>, Caller(caller): Caller, upgrade: WebSocketUpgrade) -> Response {
    upgrade.protocols(["bearer"]).on_upgrade(move |socket| session(state.sdk, caller, socket))
}

/// Forwards the caller's events until the client goes away.
async fn session(sdk: Sdk, caller: Principal, mut socket: WebSocket) {
    let mut feed = sdk.notifications().live(caller.user_id, caller.can("jobs:read"));
    loop {
        tokio::select! {
            event = feed.next() => {
                let Some(event) = event else { break };
                let Ok(text) = serde_json::to_string(&event) else { continue };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                // The client says nothing we act on; pings are answered by the protocol layer.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
}
