//! Notification types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

/// A message for one user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: Uuid,
    pub user_id: Uuid,
    /// `job_finished`, `job_failed`, `import_summary`, `export_summary`…
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Details for a client to render (counters, links).
    pub data: Option<serde_json::Value>,
    /// What it is about (`job`, `import_job`…) and its id.
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    /// When the user marked it read; `None` while unread.
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A notification to store and push.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub user_id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub data: Option<serde_json::Value>,
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
}

impl NewNotification {
    /// A notification with a title and nothing else.
    pub fn new(user_id: Uuid, kind: &str, title: &str) -> Self {
        NewNotification {
            user_id,
            kind: kind.to_string(),
            title: title.to_string(),
            body: String::new(),
            data: None,
            entity_type: None,
            entity_id: None,
        }
    }
}

/// `?unread=&limit=&cursor=`: a user's notifications, newest first.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// Only the unread ones.
    #[serde(default)]
    pub unread: bool,
    /// Page size: 50 by default, at most 200.
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct NotificationRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub data: Option<Json<serde_json::Value>>,
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<NotificationRow> for Notification {
    fn from(row: NotificationRow) -> Self {
        Notification {
            id: row.id,
            user_id: row.user_id,
            kind: row.kind,
            title: row.title,
            body: row.body,
            data: row.data.map(|d| d.0),
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            read_at: row.read_at,
            created_at: row.created_at,
        }
    }
}
