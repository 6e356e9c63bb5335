//! [`JobRunner`]: workers that claim jobs of their queues, run the handler registered for each job's kind while
//! renewing its lease, and record the outcome.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::queues::WORKER_LIVENESS;
use super::{Job, JobFailure, JobQueues, JobTable, JobWakes, TaskQueue};
use crate::db::{Database, DbPool};

/// What a handler returns.
pub type HandlerResult = Result<(), JobFailure>;
type Handler = Arc<dyn Fn(Job) -> Pin<Box<dyn Future<Output = HandlerResult> + Send>> + Send + Sync>;
/// Told of each state a runner gives a job: claimed (running), then how it ended or went back to the queue.
type Observer = Arc<dyn Fn(Job) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;
/// The job each worker is running (by lease owner), so shutdown can hand back what did not finish.
type InFlight = Arc<Mutex<HashMap<String, (TaskQueue, uuid::Uuid)>>>;

/// Builds and starts workers over the [`JobQueues`]: each queue name is served from its table.
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk) {
/// use productsmanager_core::jobs::JobRunner;
///
/// let running = JobRunner::new(sdk.jobs(), "host-1")
///     .queue("catalog", 2)
///     .handle("reindex", |_job| async { Ok(()) })
///     .start();
/// // … on shutdown: stop claiming, let running jobs finish for up to 30 s.
/// running.shutdown(std::time::Duration::from_secs(30)).await;
/// # }
/// ```
pub struct JobRunner {
    queues_of: JobQueues,
    owner: String,
    queues: Vec<(String, usize)>,
    handlers: HashMap<String, Handler>,
    observer: Option<Observer>,
    lease: Duration,
    poll: Duration,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRunner")
            .field("owner", &self.owner)
            .field("queues", &self.queues)
            .field("kinds", &self.handlers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl JobRunner {
    /// Workers named `owner-<queue>-<n>` (the lease owner), with a 30 s lease renewed every 10 s and a 1 s poll
    /// when nothing wakes them. `owner` should be unique per process (the CLI uses host and pid).
    pub fn new(queues: JobQueues, owner: &str) -> Self {
        JobRunner {
            queues_of: queues,
            owner: owner.to_string(),
            queues: Vec::new(),
            handlers: HashMap::new(),
            observer: None,
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
        }
    }

    /// Runs `concurrency` workers on `queue`.
    pub fn queue(mut self, queue: &str, concurrency: usize) -> Self {
        self.queues.push((queue.to_string(), concurrency.max(1)));
        self
    }

    /// Runs `handler` for jobs of `kind`. A job of a kind without a handler fails permanently.
    pub fn handle<F, Fut>(mut self, kind: &str, handler: F) -> Self
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.handlers.insert(kind.to_string(), Arc::new(move |job| Box::pin(handler(job))));
        self
    }

    /// Calls `observer` with the job each time a worker changes its state: once claimed (running), and after its
    /// outcome is recorded (succeeded, failed, dead, or queued again for a retry), read back as stored. The worker
    /// waits for it, so it should be quick (the SDK's stores a notification and publishes an event).
    pub fn on_change<F, Fut>(mut self, observer: F) -> Self
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.observer = Some(Arc::new(move |job| Box::pin(observer(job))));
        self
    }

    /// Lease length (renewed at a third of it) and idle poll interval.
    pub fn timing(mut self, lease: Duration, poll: Duration) -> Self {
        self.lease = lease;
        self.poll = poll;
        self
    }

    /// Starts the workers, the reaper of expired leases, the registry heartbeat of this process and, on
    /// PostgreSQL, the `pm_jobs` listener that wakes workers for jobs enqueued by other processes.
    pub fn start(self) -> RunningJobs {
        let (stop, stopped) = watch::channel(false);
        let wakes = self.queues_of.wakes().clone();
        let handlers = Arc::new(self.handlers);
        let in_flight = InFlight::default();
        let mut workers = Vec::new();
        for (queue, concurrency) in &self.queues {
            for n in 0..*concurrency {
                let worker = Worker {
                    tasks: self.queues_of.for_queue(queue).clone(),
                    owner: format!("{}-{queue}-{n}", self.owner),
                    queue: queue.clone(),
                    handlers: handlers.clone(),
                    observer: self.observer.clone(),
                    lease: self.lease,
                    poll: self.poll,
                    wakes: wakes.clone(),
                    in_flight: in_flight.clone(),
                };
                workers.push(tokio::spawn(worker.run(stopped.clone())));
            }
        }
        let mut tables: Vec<JobTable> = self.queues.iter().map(|(queue, _)| JobTable::for_queue(queue)).collect();
        tables.sort_by_key(|t| t.table_name());
        tables.dedup();
        let mut background = Vec::new();
        for table in &tables {
            let queue = self.queues_of.table(*table).clone();
            background.push(tokio::spawn(reap(queue.clone(), self.lease, stopped.clone())));
            if let DbPool::Postgres(pool) = queue.pool() {
                background.push(tokio::spawn(listen(table.database(), pool.clone(), wakes.clone(), stopped.clone())));
            }
        }
        background.push(tokio::spawn(registry(
            self.queues_of.clone(),
            self.owner.clone(),
            self.queues.clone(),
            stopped.clone(),
        )));
        RunningJobs { stop, workers, background, queues: self.queues_of, owner: self.owner, in_flight }
    }
}

/// Workers started by [`JobRunner::start`].
#[derive(Debug)]
pub struct RunningJobs {
    stop: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
    queues: JobQueues,
    owner: String,
    in_flight: InFlight,
}

impl RunningJobs {
    /// Stops claiming; waits up to `deadline` for running jobs to finish. Jobs still running then are stopped and
    /// handed back to their queue (the attempt not counted), so another worker takes them at once.
    pub async fn shutdown(self, deadline: Duration) {
        let _ = self.stop.send(true);
        self.background.iter().for_each(JoinHandle::abort);
        let aborts: Vec<_> = self.workers.iter().map(JoinHandle::abort_handle).collect();
        let all = futures_util::future::join_all(self.workers);
        if tokio::time::timeout(deadline, all).await.is_err() {
            aborts.iter().for_each(tokio::task::AbortHandle::abort);
            let unfinished: Vec<_> = match self.in_flight.lock() {
                Ok(mut running) => running.drain().collect(),
                Err(_) => Vec::new(),
            };
            for (owner, (queue, id)) in unfinished {
                match queue.release(id, &owner).await {
                    Ok(_) => tracing::warn!(job = %id, "unfinished at the shutdown deadline; handed back to its queue"),
                    // Its lease will expire instead.
                    Err(e) => tracing::error!(job = %id, error = %e, "unfinished job not handed back"),
                }
            }
        }
        if let Err(e) = self.queues.unregister_worker(&self.owner).await {
            tracing::warn!(error = %e, "could not remove this process from the worker registry");
        }
    }
}

struct Worker {
    tasks: TaskQueue,
    owner: String,
    queue: String,
    handlers: Arc<HashMap<String, Handler>>,
    observer: Option<Observer>,
    lease: Duration,
    poll: Duration,
    wakes: JobWakes,
    in_flight: InFlight,
}

impl Worker {
    async fn run(self, mut stopped: watch::Receiver<bool>) {
        let signal = self.wakes.signal(&self.queue);
        while !*stopped.borrow() {
            // Registered before claiming, so a job enqueued between an empty claim and the wait still wakes us.
            let woken = signal.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            match self.tasks.claim(&self.queue, &self.owner, self.lease).await {
                Ok(Some(job)) => {
                    self.track(Some(job.id));
                    if let Some(observer) = &self.observer {
                        observer(job.clone()).await;
                    }
                    // Every log line of the job's work carries its id, queue and kind.
                    let span = tracing::info_span!("job", job_id = %job.id, queue = %job.queue, kind = %job.kind);
                    self.execute(job).instrument(span).await;
                    self.track(None);
                }
                Ok(None) => {
                    tokio::select! {
                        () = woken => {}
                        () = tokio::time::sleep(self.poll) => {}
                        _ = stopped.changed() => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(queue = %self.queue, error = %e, "claim failed; retrying");
                    tokio::time::sleep(self.poll).await;
                }
            }
        }
    }

    fn track(&self, job: Option<uuid::Uuid>) {
        if let Ok(mut running) = self.in_flight.lock() {
            match job {
                Some(id) => running.insert(self.owner.clone(), (self.tasks.clone(), id)),
                None => running.remove(&self.owner),
            };
        }
    }

    /// Runs the job's handler while renewing its lease; records the outcome.
    async fn execute(&self, job: Job) {
        let Some(handler) = self.handlers.get(&job.kind).cloned() else {
            let failure = JobFailure::Permanent(format!("no handler for jobs of kind {:?}", job.kind));
            self.record(&job, Err(failure)).await;
            return;
        };
        let started = std::time::Instant::now();
        let work = handler(job.clone());
        tokio::pin!(work);
        let mut beat = tokio::time::interval(self.lease / 3);
        beat.tick().await;
        let outcome = loop {
            tokio::select! {
                outcome = &mut work => break Some(outcome),
                _ = beat.tick() => {
                    // Cancelled or taken over: stop working on it.
                    if let Ok(false) = self.tasks.heartbeat(job.id, &self.owner, self.lease).await {
                        break None;
                    }
                }
            }
        };
        let result = match &outcome {
            Some(Ok(())) => "succeeded",
            Some(Err(JobFailure::Permanent(_))) => "failed",
            Some(Err(_)) => "retried",
            None => "dropped",
        };
        metrics::histogram!(
            "job_duration_seconds",
            "queue" => job.queue.clone(), "kind" => job.kind.clone(), "outcome" => result
        )
        .record(started.elapsed().as_secs_f64());
        match outcome {
            Some(outcome) => self.record(&job, outcome).await,
            None => tracing::info!(job = %job.id, "job cancelled or taken over; dropped"),
        }
    }

    async fn record(&self, job: &Job, outcome: HandlerResult) {
        let recorded = match outcome {
            Ok(()) => self.tasks.complete(job.id, &self.owner).await.map(|_| ()),
            Err(failure) => self.tasks.fail(job, &self.owner, failure).await.map(|_| ()),
        };
        if let Err(e) = recorded {
            // The lease will expire and the job will be retried.
            tracing::error!(job = %job.id, error = %e, "outcome not recorded");
            return;
        }
        if let Some(observer) = &self.observer {
            match self.tasks.get(job.id).await {
                Ok(stored) => observer(stored).await,
                Err(e) => tracing::warn!(job = %job.id, error = %e, "recorded outcome not read back for observers"),
            }
        }
    }
}

/// Keeps this process's row in the worker registry fresh.
async fn registry(queues: JobQueues, owner: String, served: Vec<(String, usize)>, mut stopped: watch::Receiver<bool>) {
    let mut registered = false;
    while !*stopped.borrow() {
        let outcome = if registered {
            queues.touch_worker(&owner).await
        } else {
            queues.register_worker(&owner, &served).await.map(|()| registered = true)
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "worker registry not updated");
        }
        tokio::select! {
            () = tokio::time::sleep(WORKER_LIVENESS / 3) => {}
            _ = stopped.changed() => {}
        }
    }
}

/// Listens on PostgreSQL's `pm_jobs` channel of one database (the job tables' triggers notify it with the queue
/// name) and wakes that queue's idle workers: a job enqueued by any process starts without waiting for a poll.
async fn listen(database: Database, pool: sqlx::PgPool, wakes: JobWakes, mut stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        let connected = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen("pm_jobs").await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = match connected.await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(%database, error = %e, "cannot listen for new jobs; polling meanwhile");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = stopped.changed() => return,
                }
            }
        };
        // Jobs may have been enqueued while we were not listening.
        wakes.wake_all();
        loop {
            tokio::select! {
                received = listener.try_recv() => match received {
                    Ok(Some(notification)) => wakes.wake(notification.payload()),
                    // The connection was lost; the next call reconnects. Anything sent meanwhile was missed.
                    Ok(None) => wakes.wake_all(),
                    Err(e) => {
                        tracing::warn!(%database, error = %e, "job listener failed; reconnecting");
                        break;
                    }
                },
                _ = stopped.changed() => return,
            }
        }
    }
}

async fn reap(tasks: TaskQueue, every: Duration, mut stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        if let Err(e) = tasks.reap_expired().await {
            tracing::warn!(error = %e, "reaping expired leases failed");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stopped.changed() => {}
        }
    }
}
