//! Durable jobs: the queue is a table in the database we already run (no broker). Each domain's jobs are rows of
//! its own job table (`import_jobs`, `export_jobs`, `code2asin_jobs`, `media_processing_jobs`); catalog and
//! periodic tasks are rows of the generic `tasks` table. All share the queue columns and one set of operations:
//! enqueue, claim with a lease, heartbeat, progress, complete, fail with back-off, the return of jobs whose worker
//! died, and cancel / pause / resume / retry. [`JobRunner`] runs workers over them; the scheduler enqueues
//! periodic work.
//!
//! Claiming is the one dialect difference: PostgreSQL picks the next job with `for update skip locked`, so any
//! number of workers on any number of machines share a queue; SQLite has one writer, so a plain
//! `update … returning` is already atomic. Idle workers wake on enqueue: in-process through [`JobWakes`], across
//! processes through PostgreSQL's `LISTEN pm_jobs` (a trigger on each job table notifies it); a poll backs both.

mod clock;
mod model;
mod queue;
mod queues;
mod repeat;
mod repo;
mod runner;
mod scheduler;

pub use clock::{Clock, SystemClock};
pub use model::{Job, JobFailure, JobState, JobTable, NewJob, RetryPolicy};
pub(crate) use model::{JobRow, after_cursor, cursor};
pub use queue::{JobWakes, QueueAlert, QueueStats, TaskQueue};
pub use queues::{JobQueues, worker_name};
pub use repeat::{Repeating, Round};
pub use runner::{HandlerResult, JobRunner, RunningJobs};
pub use scheduler::Scheduler;
