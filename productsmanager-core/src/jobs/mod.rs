//! Durable jobs: the queue is a table in the database we already run (no broker). This module has the generic
//! `tasks` queue of the catalog database — enqueue, claim with a lease, heartbeat, complete, fail with back-off,
//! and the return of jobs whose worker died. Workers, the scheduler and the domain job tables build on it.
//!
//! Claiming is the one dialect difference: PostgreSQL picks the next job with `for update skip locked`, so any
//! number of workers on any number of machines share a queue; SQLite has one writer, so a plain
//! `update … returning` is already atomic.

mod clock;
mod model;
mod queue;
mod repo;
mod runner;

pub use clock::{Clock, SystemClock};
pub use model::{Job, JobFailure, JobState, NewJob, RetryPolicy};
pub use queue::{QueueStats, TaskQueue};
pub use runner::{HandlerResult, JobRunner, RunningJobs};
