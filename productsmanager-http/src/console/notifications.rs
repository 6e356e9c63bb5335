//! The signed-in user's notifications: the count in the header, the list, and the live socket the header's script
//! listens on (the API's WebSocket, reached with the session's token).

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use maud::{Markup, html};
use productsmanager_core::catalog::Page;
use productsmanager_core::notifications::Notification;

use super::layout::{self, Failure};
use super::session::Client;

/// Unread notifications counted in the header; more show as "99+".
const COUNTED: usize = 99;

/// `GET /console/ws`: the API's WebSocket (`/api/v1/ws`) for the signed-in user. The upgrade request itself goes
/// to the API with the session's token, so the API's handler answers it and owns the connection.
pub(crate) async fn socket(Client(api): Client, mut request: Request) -> Response {
    *request.uri_mut() = axum::http::Uri::from_static("/api/v1/ws");
    api.forward(request).await
}

/// `GET /console/notifications/count`: the header's count of unread notifications (loaded after the page).
pub(crate) async fn count(Client(api): Client) -> Markup {
    let unread = api
        .get::<Page<Notification>>(&format!("/api/v1/notifications?unread=true&limit={}", COUNTED + 1))
        .await
        .map_or(0, |page| page.items.len());
    let shown = if unread > COUNTED { format!("{COUNTED}+") } else { unread.to_string() };
    html! {
        span #notification-count.count data-count=(unread.min(COUNTED)) hidden[unread == 0]
            aria-label="unread notifications" { (shown) }
    }
}

/// `GET /console/notifications`: the latest notifications, unread ones marked, each with its link.
pub(crate) async fn list(Client(api): Client) -> Result<Markup, Failure> {
    let page: Page<Notification> = api.get("/api/v1/notifications?limit=100").await?;
    let unread = page.items.iter().filter(|n| n.read_at.is_none()).count();
    Ok(layout::page(
        "Notifications",
        None,
        html! {
            h1 { "Notifications" }
            @if unread > 0 {
                form method="post" action="/console/notifications/read-all" {
                    button type="submit" { "Mark all " (unread) " read" }
                }
            }
            @if page.items.is_empty() { p.note { "Nothing yet: finished imports and exports you started are told here." } }
            ul.notifications {
                @for notification in &page.items {
                    li.unread[notification.read_at.is_none()] {
                        strong { (notification.title) } " " (notification.body)
                        span.note { " · " (notification.created_at.format("%Y-%m-%d %H:%M")) }
                        @if let Some(link) = link_of(notification) { " " a href=(link) { "Open" } }
                        @if notification.read_at.is_none() {
                            form.inline method="post" action={ "/console/notifications/" (notification.id) "/read" } {
                                button.link type="submit" { "Mark read" }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// The console page of what a notification is about, when it has one.
fn link_of(notification: &Notification) -> Option<String> {
    let id = notification.entity_id?;
    let queue = notification.data.as_ref().and_then(|data| data.get("queue")).and_then(|q| q.as_str());
    match (notification.entity_type.as_deref()?, queue) {
        ("job", Some("imports")) => Some(format!("/console/imports/{id}")),
        _ => None,
    }
}

/// `POST /console/notifications/read-all`.
pub(crate) async fn read_all(Client(api): Client) -> Result<Response, Failure> {
    api.send(Method::POST, "/api/v1/notifications/read-all", HeaderMap::new(), Body::empty()).await?;
    Ok(layout::see_other("/console/notifications"))
}

/// `POST /console/notifications/{id}/read`.
pub(crate) async fn read(Client(api): Client, Path(id): Path<String>) -> Result<Response, Failure> {
    api.send(Method::POST, &format!("/api/v1/notifications/{id}/read"), HeaderMap::new(), Body::empty()).await?;
    Ok(layout::see_other("/console/notifications"))
}
