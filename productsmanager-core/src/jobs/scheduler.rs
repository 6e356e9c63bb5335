//! [`Scheduler`]: cron schedules that enqueue jobs (the seed's Celery Beat). Several schedulers may run — one per
//! `serve` process — and a tick still fires once: its job is enqueued under a dedup key naming the schedule and the
//! tick, and the schedule's last tick (`schedule_state`) only moves forward by compare-and-set. A schedule whose
//! ticks were missed while nothing ran fires once, for the latest missed tick, not once per tick.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use croner::Cron;

use super::repeat::{Repeating, Round};
use super::{Job, JobQueues, JobTable, NewJob, repo};
use crate::Result;
use crate::catalog::CatalogError;
use crate::db::{Database, DbError};

/// One schedule: a name (unique), a cron expression (UTC, 5 fields, or 6 with seconds) and the job it enqueues.
#[derive(Debug, Clone)]
struct Schedule {
    name: String,
    cron: Cron,
    job: NewJob,
}

/// Enqueues jobs on cron schedules.
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
/// use productsmanager_core::jobs::{NewJob, Scheduler};
///
/// let scheduler = Scheduler::new(sdk.jobs())
///     .schedule("nightly-reindex", "0 3 * * *", NewJob { queue: "catalog".into(), kind: "reindex".into(), ..Default::default() })?;
/// let running = scheduler.start(std::time::Duration::from_secs(5));
/// // …
/// running.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Scheduler {
    jobs: JobQueues,
    schedules: Vec<Schedule>,
}

impl Scheduler {
    /// No schedules yet.
    pub fn new(jobs: JobQueues) -> Self {
        Scheduler { jobs, schedules: Vec::new() }
    }

    /// Adds a schedule; an invalid cron expression is refused naming the schedule.
    pub fn schedule(mut self, name: &str, cron: &str, job: NewJob) -> Result<Self> {
        let parsed = Cron::from_str(cron).map_err(|e| {
            CatalogError::invalid("cron", format!("schedule {name:?}: {cron:?} is not a cron expression ({e})"))
        })?;
        if self.schedules.iter().any(|s| s.name == name) {
            return Err(CatalogError::invalid("name", format!("schedule {name:?} is defined twice")).into());
        }
        self.schedules.push(Schedule { name: name.to_string(), cron: parsed, job });
        Ok(self)
    }

    /// The schedules' names.
    pub fn names(&self) -> Vec<&str> {
        self.schedules.iter().map(|s| s.name.as_str()).collect()
    }

    /// One pass at the queues' clock: each schedule with a tick due since the last one it fired enqueues its job
    /// for the latest such tick. Returns the jobs this call fired (another scheduler may have fired a tick first;
    /// then it is not in the list). A schedule seen for the first time starts from now: it fires at its next tick.
    pub async fn tick(&self) -> Result<Vec<Job>> {
        let pool = self.jobs.table(JobTable::Tasks).pool();
        let now = self.jobs.now();
        let mut fired = Vec::new();
        for schedule in &self.schedules {
            let Some(last) = repo::schedule_last_tick(pool, &schedule.name).await.map_err(db_error)? else {
                repo::schedule_init(pool, &schedule.name, now, now).await.map_err(db_error)?;
                continue;
            };
            let Some(due) = latest_tick(&schedule.cron, last, now) else { continue };
            let job = NewJob {
                dedup_key: Some(format!("schedule:{}:{}", schedule.name, due.to_rfc3339())),
                ..schedule.job.clone()
            };
            let job = self.jobs.enqueue(job).await?;
            if repo::schedule_advance(pool, &schedule.name, due, job.id, now).await.map_err(db_error)? {
                tracing::info!(schedule = %schedule.name, tick = %due, job = %job.id, "schedule fired");
                fired.push(job);
            }
        }
        Ok(fired)
    }

    /// Ticks every `every` until shut down (the first tick at once, which fires what was missed while down).
    pub fn start(self, every: Duration) -> Repeating {
        Repeating::start(self, every)
    }
}

impl Round for Scheduler {
    const WHAT: &'static str = "scheduler tick";

    async fn round(&mut self) -> Result<()> {
        self.tick().await.map(|_| ())
    }
}

/// The latest tick of `cron` in `(after, now]`, if any.
fn latest_tick(cron: &Cron, after: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let latest = cron.find_previous_occurrence(&now, true).ok()?;
    (latest > after).then_some(latest)
}

fn db_error(error: sqlx::Error) -> crate::Error {
    DbError::from_sqlx(Database::Catalog, error).into()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_latest_missed_tick_only() {
        let cron = Cron::from_str("*/15 * * * *").unwrap();
        let at = |h, m, s| Utc.with_ymd_and_hms(2026, 11, 25, h, m, s).unwrap();
        assert_eq!(latest_tick(&cron, at(10, 0, 0), at(10, 14, 59)), None);
        assert_eq!(latest_tick(&cron, at(10, 0, 0), at(10, 15, 0)), Some(at(10, 15, 0)));
        // Down from 10:00 to 13:07: one firing, for 13:00.
        assert_eq!(latest_tick(&cron, at(10, 0, 0), at(13, 7, 0)), Some(at(13, 0, 0)));
    }
}
