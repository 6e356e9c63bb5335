//! Job rows, inputs, outcomes and the retry schedule.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use super::repo::{self, TableSql};
use crate::db::Database;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for `run_at` and a worker.
    Queued,
    /// Claimed by a worker holding its lease.
    Running,
    Succeeded,
    /// Failed for good (a permanent error).
    Failed,
    /// Failed as often as allowed; kept visible with its last error.
    Dead,
    Cancelled,
    /// Held back until resumed.
    Paused,
}

impl JobState {
    /// Lowercase name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
            JobState::Paused => "paused",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "dead" => JobState::Dead,
            "cancelled" => JobState::Cancelled,
            "paused" => JobState::Paused,
            _ => return None,
        })
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    pub id: Uuid,
    pub queue: String,
    pub kind: String,
    pub state: JobState,
    /// Smaller runs first.
    pub priority: i32,
    pub run_at: DateTime<Utc>,
    /// Times it was claimed.
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub payload: serde_json::Value,
    /// What the handler last reported (rows done, current step…).
    pub progress: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The user who asked for it (over the API), told when it ends.
    pub requested_by: Option<Uuid>,
    /// What its domain judged of its result, when it says (an import: `succeeded`, `completed_with_errors` or
    /// `failed`, from its last progress): a job that ran to its end (`state` succeeded) may still have failed at
    /// its task.
    pub outcome: Option<String>,
}

impl Job {
    /// How it went, for people: its outcome when it ran to its end and its domain judged one (an import that
    /// refused most rows: `failed`), else its state.
    pub fn result(&self) -> String {
        match &self.outcome {
            Some(outcome) if self.state == JobState::Succeeded => outcome.clone(),
            _ => self.state.to_string(),
        }
    }
}

/// The table a queue's jobs live in: each domain's jobs are rows of its own database, the rest are `tasks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobTable {
    /// `tasks` (catalog database): catalog tasks and periodic tasks, any queue name.
    Tasks,
    /// `import_jobs` (imports database), queue `imports`.
    Imports,
    /// `export_jobs` (exports database), queue `exports`.
    Exports,
    /// `code2asin_jobs` (code2asin database), queue `code2asin`.
    Code2Asin,
    /// `media_processing_jobs` (media database), queue `media`.
    Media,
}

impl JobTable {
    /// Every job table.
    pub const ALL: [JobTable; 5] =
        [JobTable::Tasks, JobTable::Imports, JobTable::Exports, JobTable::Code2Asin, JobTable::Media];

    /// The table of `queue`: a domain queue's own table, `tasks` for any other queue.
    pub fn for_queue(queue: &str) -> JobTable {
        match queue {
            "imports" => JobTable::Imports,
            "exports" => JobTable::Exports,
            "code2asin" => JobTable::Code2Asin,
            "media" => JobTable::Media,
            _ => JobTable::Tasks,
        }
    }

    /// The database holding the table.
    pub fn database(self) -> Database {
        match self {
            JobTable::Tasks => Database::Catalog,
            JobTable::Imports => Database::Imports,
            JobTable::Exports => Database::Exports,
            JobTable::Code2Asin => Database::Code2Asin,
            JobTable::Media => Database::Media,
        }
    }

    /// The table's name.
    pub fn table_name(self) -> &'static str {
        match self {
            JobTable::Tasks => "tasks",
            JobTable::Imports => "import_jobs",
            JobTable::Exports => "export_jobs",
            JobTable::Code2Asin => "code2asin_jobs",
            JobTable::Media => "media_processing_jobs",
        }
    }

    /// Whether a bare [`NewJob`] makes a complete row. Import and code2asin jobs need columns of their domain
    /// (supplier, marketplace…) and are created by their services.
    pub fn takes_generic_jobs(self) -> bool {
        !matches!(self, JobTable::Imports | JobTable::Code2Asin)
    }

    pub(super) fn sql(self) -> &'static TableSql {
        match self {
            JobTable::Tasks => &repo::TASKS,
            JobTable::Imports => &repo::IMPORT_JOBS,
            JobTable::Exports => &repo::EXPORT_JOBS,
            JobTable::Code2Asin => &repo::CODE2ASIN_JOBS,
            JobTable::Media => &repo::MEDIA_PROCESSING_JOBS,
        }
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewJob {
    pub queue: String,
    pub kind: String,
    #[serde(default)]
    pub payload: serde_json::Value,
    #[serde(default)]
    pub priority: i32,
    /// Not before this instant (now when absent).
    #[serde(default)]
    pub run_at: Option<DateTime<Utc>>,
    /// 5 when absent (the seed's schedule has five retries).
    #[serde(default)]
    pub max_attempts: Option<i32>,
    /// Enqueueing the same key again returns the job already there (one job per schedule tick, per file…).
    #[serde(default)]
    pub dedup_key: Option<String>,
    /// The user asking, told when the job ends. Set by the caller's adapter from the credentials, never read
    /// from a request body.
    #[serde(skip)]
    pub requested_by: Option<Uuid>,
}

/// How a handler failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFailure {
    /// Worth another try later (network, rate limit, a database down).
    Retryable(String),
    /// Will fail the same way every time (bad input): no retry.
    Permanent(String),
}

/// Delays before each retry, with jitter so failed jobs do not all come back at once.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Delay before the n-th retry; the last one repeats if a job allows more attempts.
    pub delays: Vec<Duration>,
    /// Each delay is stretched by a random factor in `[1, 1 + jitter]`.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// The seed's schedule: 1 min, 5 min, 15 min, 1 h, 4 h, with 10 % jitter.
    fn default() -> Self {
        RetryPolicy { delays: [60, 300, 900, 3_600, 14_400].map(Duration::from_secs).to_vec(), jitter: 0.1 }
    }
}

impl RetryPolicy {
    /// The delay after the `attempt`-th failed attempt (1-based), with `random` in `[0, 1)` applied as jitter.
    pub fn delay(&self, attempt: i32, random: f64) -> Duration {
        let index = usize::try_from(attempt.max(1) - 1).unwrap_or(0).min(self.delays.len().saturating_sub(1));
        let base = self.delays.get(index).copied().unwrap_or(Duration::from_secs(60));
        base.mul_f64(1.0 + self.jitter.max(0.0) * random.clamp(0.0, 1.0))
    }
}

/// A row of a job table.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct JobRow {
    pub id: Uuid,
    pub queue: String,
    pub kind: String,
    pub state: String,
    pub priority: i32,
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub payload: Json<serde_json::Value>,
    pub progress: Option<Json<serde_json::Value>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub requested_by: Option<Uuid>,
}

impl JobRow {
    pub(crate) fn into_job(self) -> Job {
        let outcome = self
            .progress
            .as_ref()
            .and_then(|progress| progress.0.get("outcome"))
            .and_then(|outcome| outcome.as_str())
            .map(str::to_string);
        Job {
            outcome,
            id: self.id,
            queue: self.queue,
            kind: self.kind,
            state: JobState::parse(&self.state).unwrap_or(JobState::Failed),
            priority: self.priority,
            run_at: self.run_at,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            last_error: self.last_error,
            lease_owner: self.lease_owner,
            lease_expires_at: self.lease_expires_at,
            payload: self.payload.0,
            progress: self.progress.map(|p| p.0),
            created_at: self.created_at,
            updated_at: self.updated_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            requested_by: self.requested_by,
        }
    }
}

/// Where a newest-first page of jobs ends: `<created_at in nanoseconds>~<id>` of its last job. The exact instant,
/// so that SQLite, which compares the stored text, finds the same value it stored.
pub(crate) fn cursor(created_at: DateTime<Utc>, id: Uuid) -> Option<String> {
    Some(format!("{}~{id}", created_at.timestamp_nanos_opt()?))
}

/// The `(created_at, id)` a newest-first page starts after: the cursor's, or before every job (the last second of
/// year 9999 — SQLite compares timestamps as text, so no year with more digits — and the largest id).
pub(crate) fn after_cursor(cursor: Option<&str>) -> Result<(DateTime<Utc>, Uuid), crate::catalog::CatalogError> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok((DateTime::from_timestamp(253_402_300_799, 0).unwrap_or_default(), Uuid::max()));
    };
    let parsed = cursor
        .split_once('~')
        .and_then(|(nanos, id)| Some((DateTime::from_timestamp_nanos(nanos.parse().ok()?), Uuid::parse_str(id).ok()?)));
    parsed.ok_or_else(|| crate::catalog::CatalogError::invalid("cursor", "not a cursor this listing gave"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_schedule_with_bounded_jitter() {
        let policy = RetryPolicy::default();
        let minutes = |attempt, random| policy.delay(attempt, random).as_secs_f64() / 60.0;
        assert_eq!([1, 2, 3, 4, 5].map(|a| minutes(a, 0.0)), [1.0, 5.0, 15.0, 60.0, 240.0]);
        assert!((minutes(1, 0.999) - 1.0999).abs() < 0.001);
        assert_eq!(minutes(9, 0.0), 240.0, "the last delay repeats");
    }
}
