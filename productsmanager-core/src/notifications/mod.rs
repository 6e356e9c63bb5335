//! Notifications: stored per user (a job they asked for finished or failed, an import's summary), listed, marked
//! read, and pushed live — with the job events — to whoever listens in this process (the WebSocket of the HTTP
//! adapter) through the [`EventHub`].
//!
//! ```no_run
//! # async fn demo(sdk: &productsmanager_core::Sdk, user: uuid::Uuid) -> productsmanager_core::Result<()> {
//! use productsmanager_core::notifications::{NewNotification, NotificationQuery};
//!
//! let mut live = sdk.events().subscribe();
//! sdk.notifications().notify(NewNotification::new(user, "import_summary", "Import finished")).await?;
//! let page = sdk.notifications().list(user, &NotificationQuery { unread: true, ..Default::default() }).await?;
//! assert_eq!(page.items.len(), 1);
//! let event = live.recv().await;
//! # let _ = event; Ok(()) }
//! ```

mod hub;
mod live;
mod model;
mod repo;
mod service;

pub use hub::{Event, EventHub, JobEvent};
pub use live::LiveFeed;
pub use model::{NewNotification, Notification, NotificationQuery};
pub use service::NotificationService;

/// Why a notification operation was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NotificationError {
    /// No such notification of that user. HTTP 404.
    #[error("notification {id} not found")]
    NotFound { id: uuid::Uuid },
    /// A value breaks a rule. HTTP 422.
    #[error("`{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl NotificationError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        NotificationError::Invalid { field, reason: reason.into() }
    }
}
