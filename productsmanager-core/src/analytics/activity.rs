//! [`ActivityLog`]: `user_activity`, written in batches by a background task.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use super::batched::{BatchSink, BatchedWriter};
use crate::Result;
use crate::db::{Database, DbError, DbPool};
use crate::with_pool;

/// Entries waiting to be written before new ones are dropped (and counted).
const QUEUE: usize = 10_000;
/// Entries written per statement (14 parameters each, well under SQLite's limit).
const BATCH: usize = 200;

const RECENT: &str = "select id, user_id, api_key_id, action, method, route, entity_type, entity_id, status_code, \
     ip, user_agent, request_id, details, created_at from user_activity order by created_at desc, id desc limit $1";

const RECENT_OF_USER: &str = "select id, user_id, api_key_id, action, method, route, entity_type, entity_id, \
     status_code, ip, user_agent, request_id, details, created_at from user_activity where user_id = $2 \
     order by created_at desc, id desc limit $1";

/// One write through the API or the CLI.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserActivity {
    pub id: Uuid,
    /// Who: the signed-in user (none for the CLI, which runs as whoever may open the databases)…
    pub user_id: Option<Uuid>,
    /// …through this API key, if one was used.
    pub api_key_id: Option<Uuid>,
    /// What: the operation (`products_update`; the CLI: `cli products create`).
    pub action: String,
    pub method: Option<String>,
    /// The route pattern (`/api/v1/products/{key}`).
    pub route: Option<String>,
    /// Which entity: its kind (`products`) and id when one is known.
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    /// The answer: HTTP status (the CLI: its exit code).
    pub status_code: Option<i32>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// Anything else worth keeping (the CLI: the operating-system user and process).
    pub details: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, sqlx::FromRow)]
struct ActivityRow {
    id: Uuid,
    user_id: Option<Uuid>,
    api_key_id: Option<Uuid>,
    action: String,
    method: Option<String>,
    route: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<Uuid>,
    status_code: Option<i32>,
    ip: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    details: Option<Json<serde_json::Value>>,
    created_at: DateTime<Utc>,
}

impl From<ActivityRow> for UserActivity {
    fn from(row: ActivityRow) -> Self {
        UserActivity {
            id: row.id,
            user_id: row.user_id,
            api_key_id: row.api_key_id,
            action: row.action,
            method: row.method,
            route: row.route,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            status_code: row.status_code,
            ip: row.ip,
            user_agent: row.user_agent,
            request_id: row.request_id,
            details: row.details.map(|d| d.0),
            created_at: row.created_at,
        }
    }
}

impl UserActivity {
    /// An entry for `action`, now, with nothing else set.
    pub fn new(action: impl Into<String>) -> Self {
        UserActivity {
            id: Uuid::now_v7(),
            user_id: None,
            api_key_id: None,
            action: action.into(),
            method: None,
            route: None,
            entity_type: None,
            entity_id: None,
            status_code: None,
            ip: None,
            user_agent: None,
            request_id: None,
            details: None,
            created_at: Utc::now(),
        }
    }
}

/// The activity log. [`ActivityLog::record`] never waits and never fails: entries queue for a background task
/// that writes them in batches; when the queue is full or the analytics database cannot take a batch, entries
/// are dropped, logged and counted (`user_activity_dropped_total`), and the caller's request goes on.
#[derive(Debug, Clone)]
pub struct ActivityLog {
    pool: DbPool,
    queue: BatchedWriter<UserActivity>,
}

impl ActivityLog {
    /// Starts the writer on the analytics pool (it ends when the last handle is dropped).
    pub(crate) fn start(pool: DbPool) -> Self {
        let queue = BatchedWriter::start(QUEUE, BATCH, ActivityWriter { pool: pool.clone() });
        ActivityLog { pool, queue }
    }

    /// Queues an entry.
    pub fn record(&self, activity: UserActivity) {
        if !self.queue.try_record(activity) {
            dropped(1, "the activity queue is full");
        }
    }

    /// Waits until every entry queued before the call is written (or dropped): for shutdown and tests.
    pub async fn flush(&self) {
        self.queue.flush().await;
    }

    /// The latest entries, of one user or of all, newest first.
    pub async fn recent(&self, user: Option<Uuid>, limit: u32) -> Result<Vec<UserActivity>> {
        let limit = i64::from(limit.clamp(1, 1000));
        let rows: std::result::Result<Vec<ActivityRow>, sqlx::Error> = match user {
            Some(user) => {
                with_pool!(&self.pool, |p| sqlx::query_as(RECENT_OF_USER).bind(limit).bind(user).fetch_all(p).await)
            }
            None => with_pool!(&self.pool, |p| sqlx::query_as(RECENT).bind(limit).fetch_all(p).await),
        };
        let rows = rows.map_err(|e| DbError::from_sqlx(Database::Analytics, e))?;
        Ok(rows.into_iter().map(UserActivity::from).collect())
    }
}

fn dropped(count: usize, reason: &str) {
    tracing::warn!(count, reason, "user activity not recorded");
    metrics::counter!("user_activity_dropped_total").increment(count as u64);
}

/// Writes a batch in one statement.
struct ActivityWriter {
    pool: DbPool,
}

#[async_trait::async_trait]
impl BatchSink for ActivityWriter {
    type Item = UserActivity;

    async fn write(&mut self, batch: Vec<UserActivity>) {
        if let Err(e) = insert(&self.pool, &batch).await {
            dropped(batch.len(), &e.to_string());
        }
    }
}

async fn insert(pool: &DbPool, batch: &[UserActivity]) -> std::result::Result<(), sqlx::Error> {
    with_pool!(pool, |p| {
        let mut sql = QueryBuilder::new(
            "insert into user_activity (id, user_id, api_key_id, action, method, route, entity_type, entity_id, \
             status_code, ip, user_agent, request_id, details, created_at) ",
        );
        sql.push_values(batch, |mut row, a| {
            row.push_bind(a.id)
                .push_bind(a.user_id)
                .push_bind(a.api_key_id)
                .push_bind(a.action.clone())
                .push_bind(a.method.clone())
                .push_bind(a.route.clone())
                .push_bind(a.entity_type.clone())
                .push_bind(a.entity_id)
                .push_bind(a.status_code)
                .push_bind(a.ip.clone())
                .push_bind(a.user_agent.clone())
                .push_bind(a.request_id.clone())
                .push_bind(a.details.clone().map(Json))
                .push_bind(a.created_at);
        });
        sql.build().execute(p).await.map(|_| ())
    })
}
