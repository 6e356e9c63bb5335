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
    /// Jobs of a queue, oldest first.
    List {
        #[arg(long, default_value = "catalog")]
        queue: String,
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
    Cancel { id: String },
    /// Hold a queued job back.
    Pause { id: String },
    /// Let a paused job run.
    Resume { id: String },
    /// Queue a failed, dead or cancelled job again.
    Retry { id: String },
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
    let tasks = sdk.tasks();
    match command {
        JobCommand::List { queue, state: wanted, limit, json } => {
            let wanted = wanted.as_deref().map(state).transpose()?;
            let jobs = tasks.list(&queue, wanted, limit).await?;
            if json { output::json(&jobs) } else { table(&jobs) }
        }
        JobCommand::Get { id, json } => {
            let job = tasks.get(parse_id("id", &id)?).await?;
            if json {
                output::json(&job);
            } else {
                table(std::slice::from_ref(&job));
                if let Some(error) = &job.last_error {
                    println!("\nlast error: {error}");
                }
            }
        }
        JobCommand::Cancel { id } => tasks.cancel(parse_id("id", &id)?).await?,
        JobCommand::Pause { id } => tasks.pause(parse_id("id", &id)?).await?,
        JobCommand::Resume { id } => tasks.resume(parse_id("id", &id)?).await?,
        JobCommand::Retry { id } => tasks.retry(parse_id("id", &id)?).await?,
    }
    Ok(())
}

fn table(jobs: &[Job]) {
    output::table(
        ["id", "queue", "kind", "state", "attempts", "run at"],
        jobs.iter().map(|j| {
            [
                j.id.to_string(),
                j.queue.clone(),
                j.kind.clone(),
                j.state.to_string(),
                format!("{}/{}", j.attempts, j.max_attempts),
                j.run_at.to_rfc3339(),
            ]
        }),
    );
}

/// The name workers lease jobs under: host and process.
pub(crate) fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty());
    format!("{}-{}", host.unwrap_or_else(|| "local".to_string()), std::process::id())
}

/// `worker`: only the job workers, until Ctrl-C or SIGTERM.
pub(crate) async fn worker(config: Config) -> Result<(), Failure> {
    productsmanager_http::telemetry::init(&config)?;
    let sdk = Sdk::builder(config).build().await?;
    let running = sdk.job_runner(&worker_name()).start();
    println!("ProductsManager workers running ({} queue(s)); Ctrl-C stops them", Sdk::JOB_QUEUES.len());
    productsmanager_http::shutdown_signal().await;
    running.shutdown(SHUTDOWN_DEADLINE).await;
    sdk.close().await;
    Ok(())
}
