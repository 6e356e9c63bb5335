//! `NotificationService`.

use std::sync::Arc;

use uuid::Uuid;

use super::JobEvent;
use super::repo::{self, Insert};
use super::{Event, EventHub, NewNotification, Notification, NotificationError, NotificationQuery};
use crate::Result;
use crate::catalog::Page;
use crate::db::{Database, DbError, DbPool};
use crate::jobs::{Clock, Job, JobState};

/// Page size when none is asked for, and the largest allowed.
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

/// Notifications a live listener catches up on at once.
const CATCH_UP: i64 = 100;

/// Longest title accepted, in characters.
const MAX_TITLE: usize = 200;

fn db_error(error: sqlx::Error) -> crate::Error {
    DbError::from_sqlx(Database::Core, error).into()
}

/// Stores notifications in the core database and pushes each to the live listeners of this process.
#[derive(Debug, Clone)]
pub struct NotificationService {
    pool: DbPool,
    pub(super) events: EventHub,
    clock: Arc<dyn Clock>,
}

impl NotificationService {
    pub fn new(pool: DbPool, events: EventHub, clock: Arc<dyn Clock>) -> Self {
        NotificationService { pool, events, clock }
    }

    /// Stores a notification and pushes it live.
    pub async fn notify(&self, input: NewNotification) -> Result<Notification> {
        if input.kind.trim().is_empty() {
            return Err(NotificationError::invalid("kind", "must not be empty").into());
        }
        let length = input.title.trim().chars().count();
        if length == 0 || length > MAX_TITLE {
            return Err(NotificationError::invalid("title", format!("must be 1 to {MAX_TITLE} characters")).into());
        }
        let row = Insert {
            id: Uuid::now_v7(),
            user_id: input.user_id,
            kind: input.kind.trim(),
            title: input.title.trim(),
            body: &input.body,
            data: input.data.as_ref(),
            entity_type: input.entity_type.as_deref(),
            entity_id: input.entity_id,
            now: self.clock.now(),
        };
        let notification = repo::insert(&self.pool, &row).await.map_err(db_error)?;
        self.events.publish(Event::Notification { notification: notification.clone() });
        Ok(notification)
    }

    /// A user's notifications, newest first, a page at a time.
    pub async fn list(&self, user: Uuid, query: &NotificationQuery) -> Result<Page<Notification>> {
        let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let before = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(cursor) => Some(
                Uuid::parse_str(cursor)
                    .map_err(|_| NotificationError::invalid("cursor", "not a cursor this listing gave"))?,
            ),
            None => None,
        };
        let items = repo::page(&self.pool, user, query.unread, i64::from(limit) + 1, before).await.map_err(db_error)?;
        Ok(Page::from_extra(items, limit as usize, |n| Some(n.id.to_string())))
    }

    /// The user's notifications created after `after` (an id), oldest first, at most 100: what a listener that
    /// was away missed.
    pub async fn since(&self, user: Uuid, after: Uuid) -> Result<Vec<Notification>> {
        repo::since(&self.pool, user, after, CATCH_UP).await.map_err(db_error)
    }

    /// Marks one of the user's notifications read (again: no change) and returns it.
    pub async fn mark_read(&self, user: Uuid, id: Uuid) -> Result<Notification> {
        if !repo::mark_read(&self.pool, id, user, self.clock.now()).await.map_err(db_error)? {
            return Err(NotificationError::NotFound { id }.into());
        }
        repo::by_id(&self.pool, id, user).await.map_err(db_error)?.ok_or(NotificationError::NotFound { id }.into())
    }

    /// Marks all the user's notifications read; returns how many were unread.
    pub async fn mark_all_read(&self, user: Uuid) -> Result<u64> {
        repo::mark_all_read(&self.pool, user, self.clock.now()).await.map_err(db_error)
    }

    /// Removes the notifications read more than `days` days ago (the daily `purge_notifications` task, with the
    /// `notifications.retention_days` setting); returns how many went. Unread ones stay.
    pub async fn purge_read(&self, days: u32) -> Result<u64> {
        let before = self.clock.now() - chrono::Duration::days(i64::from(days));
        repo::purge_read(&self.pool, before).await.map_err(db_error)
    }

    pub async fn unread_count(&self, user: Uuid) -> Result<i64> {
        repo::unread(&self.pool, user).await.map_err(db_error)
    }

    /// What the job runner calls at each state it gives a job ([`JobRunner::on_change`]): publishes the job's
    /// state live, and when the job is over, tells whoever asked for it. Never fails: a notification that cannot
    /// be stored is logged and counted (the job's own state is recorded regardless).
    ///
    /// [`JobRunner::on_change`]: crate::jobs::JobRunner::on_change
    pub async fn job_changed(&self, job: Job) {
        self.events.publish(Event::Job { job: JobEvent::from(&job) });
        if let Err(e) = self.job_finished(&job).await {
            tracing::warn!(job = %job.id, error = %e, "job notification not stored");
            metrics::counter!("notifications_dropped_total").increment(1);
        }
    }

    /// Publishes a running job's progress live (an import after each batch).
    pub fn job_progress(&self, job: &Job, progress: serde_json::Value) {
        let mut event = JobEvent::from(job);
        event.progress = Some(progress);
        self.events.publish(Event::Job { job: event });
    }

    /// Tells whoever asked for `job` how it ended: succeeded (an import with its counters), or failed for good.
    /// Nothing for a job nobody asked for (scheduled, system) or one that is not over.
    pub async fn job_finished(&self, job: &Job) -> Result<Option<Notification>> {
        let Some(user) = job.requested_by else { return Ok(None) };
        let what = humanise(&job.kind);
        let (kind, title, body) = match job.state {
            JobState::Succeeded if job.queue == "imports" => {
                ("import_summary", import_title(&what, job.progress.as_ref()), import_counters(job.progress.as_ref()))
            }
            JobState::Succeeded if job.queue == "exports" && job.kind == "platform" => {
                ("export_summary", "Export finished".to_string(), export_counters(job.progress.as_ref()))
            }
            JobState::Succeeded => ("job_finished", format!("{what} finished"), String::new()),
            JobState::Failed | JobState::Dead => {
                ("job_failed", format!("{what} failed"), job.last_error.clone().unwrap_or_default())
            }
            _ => return Ok(None),
        };
        let data = serde_json::json!({ "queue": job.queue, "kind": job.kind, "state": job.state,
                                       "progress": job.progress });
        let notification = NewNotification {
            user_id: user,
            kind: kind.to_string(),
            title,
            body,
            data: Some(data),
            entity_type: Some("job".to_string()),
            entity_id: Some(job.id),
        };
        self.notify(notification).await.map(Some)
    }
}

/// `poll_ftp` → `Poll ftp`.
fn humanise(kind: &str) -> String {
    let text = kind.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Job".to_string(),
    }
}

/// `1200 rows: 900 created, 250 updated, 40 unchanged, 10 invalid` from an import's progress counters.
fn import_counters(progress: Option<&serde_json::Value>) -> String {
    counters(progress, ("rows_read", "rows"), &["created", "updated", "unchanged", "invalid"])
}

/// `Import finished`, `Import finished: 22 of 25 rows refused` or `Import refused every row (5)`: an import that
/// refused rows is not announced as a plain success.
fn import_title(what: &str, progress: Option<&serde_json::Value>) -> String {
    let count = |key: &str| progress.and_then(|p| p.get(key)).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let (invalid, read) = (count("invalid"), count("rows_read"));
    match invalid {
        0 => format!("{what} finished"),
        _ if invalid >= read => format!("{what} refused every row ({read})"),
        _ => format!("{what} finished: {invalid} of {read} rows refused"),
    }
}

/// `6 products: 5 created, 0 updated, 0 unchanged, 1 failed, 0 skipped` from a platform run's counters.
fn export_counters(progress: Option<&serde_json::Value>) -> String {
    counters(progress, ("processed", "products"), &["created", "updated", "unchanged", "failed", "skipped"])
}

/// `<total> <noun>: <n> <name>, …` from a job's counters (empty without them).
fn counters(progress: Option<&serde_json::Value>, (total, noun): (&str, &str), names: &[&str]) -> String {
    let Some(progress) = progress else { return String::new() };
    let count = |key: &str| progress.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let parts: Vec<String> = names.iter().map(|name| format!("{} {name}", count(name))).collect();
    format!("{} {noun}: {}", count(total), parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_kinds_read_as_words_and_imports_as_counters() {
        assert_eq!(humanise("poll_ftp"), "Poll ftp");
        assert_eq!(humanise("import"), "Import");
        let progress = serde_json::json!({"rows_read": 12, "created": 9, "updated": 1, "unchanged": 1, "invalid": 1});
        assert_eq!(import_counters(Some(&progress)), "12 rows: 9 created, 1 updated, 1 unchanged, 1 invalid");
        assert_eq!(import_counters(None), "");
        assert_eq!(import_title("Import", Some(&progress)), "Import finished: 1 of 12 rows refused");
        let refused = serde_json::json!({"rows_read": 5, "invalid": 5});
        assert_eq!(import_title("Import", Some(&refused)), "Import refused every row (5)");
        let clean = serde_json::json!({"rows_read": 5, "created": 5});
        assert_eq!(import_title("Import", Some(&clean)), "Import finished");
        let counts =
            serde_json::json!({"processed": 6, "created": 5, "updated": 0, "unchanged": 0, "failed": 1, "skipped": 0});
        assert_eq!(
            export_counters(Some(&counts)),
            "6 products: 5 created, 0 updated, 0 unchanged, 1 failed, 0 skipped"
        );
    }
}
