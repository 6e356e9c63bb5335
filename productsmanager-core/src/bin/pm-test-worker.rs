//! A worker process for the multi-process job tests (built with the `testing` feature only): runs a `JobRunner`
//! on one queue with a `probe` handler that sleeps `payload.sleep_ms`, then appends the job id to
//! `<out>/<pid>.log`. The tests count those lines: a job completed twice, or lost, shows there. It prints `ready`
//! once its workers run and stops on SIGTERM (gracefully) or SIGKILL (not at all, which is the point).
//!
//! `pm-test-worker <config.toml> <queue> <concurrency> <lease-ms> <out-dir>`

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use productsmanager_core::jobs::{JobFailure, JobRunner};
use productsmanager_core::{Config, Sdk};

type Failure = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let [_, config, queue, concurrency, lease_ms, out] = args.as_slice() else {
        return Err("usage: pm-test-worker <config.toml> <queue> <concurrency> <lease-ms> <out-dir>".into());
    };
    let config = Config::load(Some(std::path::Path::new(config)))?;
    let sdk = Sdk::builder(config).build().await?;
    let log = PathBuf::from(out).join(format!("{}.log", std::process::id()));
    let lease = Duration::from_millis(lease_ms.parse()?);
    let running = JobRunner::new(sdk.jobs(), &format!("probe-{}", std::process::id()))
        .queue(queue, concurrency.parse()?)
        .timing(lease, Duration::from_millis(50))
        .handle("probe", move |job| {
            let log = log.clone();
            async move {
                let sleep_ms = job.payload.get("sleep_ms").and_then(serde_json::Value::as_u64).unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(sleep_ms)).await;
                let line = format!("{}\n", job.id);
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .and_then(|mut file| file.write_all(line.as_bytes()))
                    .map_err(|e| JobFailure::Retryable(format!("probe log: {e}")))
            }
        })
        .start();
    println!("ready");
    std::io::stdout().flush()?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    terminate.recv().await;
    running.shutdown(Duration::from_secs(10)).await;
    sdk.close().await;
    Ok(())
}
