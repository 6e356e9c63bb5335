//! `jobs list|get|cancel|pause|resume|retry` and `worker`.

use std::time::Duration;

use clap::Subcommand;
use productsmanager_core::input::parse_id;
use productsmanager_core::jobs::{Job, JobState};
use productsmanager_core::{Config, Sdk};

use crate::{Failure, output};

/// How long workers may take to finish their jobs at shutdown before their leases are left to expire.
pub(crate) const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);

#[derive(Debug, Subcommand)]
pub(crate) enum JobCommand {
    /// Jobs, newest first: of every queue, or of one (`--queue imports`, oldest first).
    List {
        /// catalog, imports, exports, code2asin, media… (every queue when absent).
        #[arg(long)]
        queue: Option<String>,
        /// queued, running, succeeded, failed, dead, cancelled or paused.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// One job, with its last error.
    Get {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Cancel a queued, paused or running job.
    Cancel {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Hold a queued job back.
    Pause {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Let a paused job run.
    Resume {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Queue a failed, dead or cancelled job again.
    Retry {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

fn state(text: &str) -> Result<JobState, Failure> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(|_| {
        productsmanager_core::catalog::CatalogError::invalid(
            "state",
            format!("{text:?} is not queued, running, succeeded, failed, dead, cancelled or paused"),
        )
        .into()
    })
}

pub(crate) async fn run(sdk: &Sdk, command: JobCommand) -> Result<(), Failure> {
    let jobs = sdk.jobs();
    match command {
        JobCommand::List { queue, state: wanted, limit, json } => {
            let wanted = wanted.as_deref().map(state).transpose()?;
            let listed = match queue {
                Some(queue) => jobs.list(&queue, wanted, limit).await?,
                None => jobs.recent(wanted, limit).await?,
            };
            if json { output::json(&listed) } else { table(&listed) }
        }
        JobCommand::Get { id, json } => {
            let job = jobs.get(parse_id("id", &id)?).await?;
            if json {
                output::json(&job);
            } else {
                table(std::slice::from_ref(&job));
                if let Some(error) = &job.last_error {
                    println!("\nlast error: {error}");
                }
            }
        }
        JobCommand::Cancel { id, json } => one(json, &jobs.cancel(parse_id("id", &id)?).await?),
        JobCommand::Pause { id, json } => one(json, &jobs.pause(parse_id("id", &id)?).await?),
        JobCommand::Resume { id, json } => one(json, &jobs.resume(parse_id("id", &id)?).await?),
        JobCommand::Retry { id, json } => one(json, &jobs.retry(parse_id("id", &id)?).await?),
    }
    Ok(())
}

fn one(json: bool, job: &Job) {
    if json { output::json(job) } else { table(std::slice::from_ref(job)) }
}

fn table(jobs: &[Job]) {
    output::table(
        ["id", "queue", "kind", "state", "attempts", "run at"],
        jobs.iter().map(|j| {
            [
                j.id.to_string(),
                j.queue.clone(),
                j.kind.clone(),
                j.result(),
                format!("{}/{}", j.attempts, j.max_attempts),
                j.run_at.to_rfc3339(),
            ]
        }),
    );
}

/// `worker`: only the job workers, until Ctrl-C or SIGTERM.
pub(crate) async fn worker(config: Config, queues: Vec<String>) -> Result<(), Failure> {
    productsmanager_http::telemetry::init(&config)?;
    let sdk = Sdk::builder(config).build().await?;
    let running = match sdk.start_background(&productsmanager_core::jobs::worker_name(), &queues) {
        Ok(running) => running,
        Err(e) => {
            sdk.close().await;
            return Err(e.into());
        }
    };
    let served = if queues.is_empty() { Sdk::RUNNABLE_QUEUES.join(", ") } else { queues.join(", ") };
    println!("ProductsManager workers running on {served}; Ctrl-C stops them");
    productsmanager_http::shutdown_signal().await;
    running.shutdown(SHUTDOWN_DEADLINE).await;
    sdk.close().await;
    Ok(())
}
