//! Jobs shared by separate worker processes (`pm-test-worker`): every job completes exactly once with two
//! processes on one queue, and a worker process killed with SIGKILL mid-job loses nothing — once its lease
//! expires, another process completes the job.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use productsmanager_core::both_backends;
use productsmanager_core::db::Backend;
use productsmanager_core::jobs::{JobState, NewJob};
use productsmanager_core::testing::TestDatabases;
use uuid::Uuid;

use super::jobs::eventually;

/// A `pm-test-worker` process, killed (SIGKILL) when dropped if still running.
struct WorkerProcess(Child);

impl WorkerProcess {
    fn start(env: &TestDatabases, queue: &str, concurrency: usize, lease_ms: u64) -> Self {
        let folder = env.folder();
        let config = folder.join("worker-config.toml");
        std::fs::write(&config, env.config().to_toml()).unwrap();
        let out = folder.join("probe");
        std::fs::create_dir_all(&out).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_pm-test-worker"))
            .args([config.to_str().unwrap(), queue, &concurrency.to_string(), &lease_ms.to_string()])
            .arg(&out)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the worker process did not start");
        WorkerProcess(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn kill(mut self) {
        self.0.kill().unwrap(); // SIGKILL: no shutdown, no lease released.
        self.0.wait().unwrap();
    }

    /// SIGTERM, then wait for the graceful shutdown.
    fn stop(mut self) {
        let status = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().unwrap();
        assert!(status.success());
        assert!(self.0.wait().unwrap().success());
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How many times each job's handler ran to its end, per process id.
fn probe_runs(folder: &Path) -> HashMap<Uuid, Vec<u32>> {
    let mut runs: HashMap<Uuid, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir(folder.join("probe")).unwrap() {
        let path = entry.unwrap().path();
        let pid: u32 = path.file_stem().unwrap().to_str().unwrap().parse().unwrap();
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            runs.entry(line.parse().unwrap()).or_default().push(pid);
        }
    }
    runs
}

fn probe(sleep_ms: u64) -> NewJob {
    NewJob {
        queue: "probe".into(),
        kind: "probe".into(),
        payload: serde_json::json!({ "sleep_ms": sleep_ms }),
        ..Default::default()
    }
}

/// 1,000 jobs, two worker processes with four workers each: every job runs and completes exactly once, and both
/// processes take part.
async fn two_processes_complete_each_job_once(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "job_two_processes").await else { return };
    let sdk = env.sdk().await;
    let tasks = sdk.tasks();
    let mut ids = Vec::new();
    for _ in 0..1_000 {
        ids.push(tasks.enqueue(probe(0)).await.unwrap().id);
    }
    let first = WorkerProcess::start(&env, "probe", 4, 30_000);
    let second = WorkerProcess::start(&env, "probe", 4, 30_000);
    eventually("1,000 jobs done", async || tasks.stats("probe").await.unwrap().queued == 0).await;
    eventually("the last jobs done", async || tasks.stats("probe").await.unwrap().running == 0).await;
    let pids = [first.pid(), second.pid()];
    first.stop();
    second.stop();

    let succeeded = tasks.list("probe", Some(JobState::Succeeded), 1_000).await.unwrap();
    assert_eq!(succeeded.len(), 1_000);
    let runs = probe_runs(env.folder());
    assert_eq!(runs.len(), 1_000);
    for id in &ids {
        assert_eq!(runs[id].len(), 1, "job {id} ran {} times", runs[id].len());
    }
    for pid in pids {
        assert!(runs.values().any(|by| by[0] == pid), "process {pid} ran no job");
    }
    sdk.close().await;
}

/// A worker process killed mid-job: its jobs stay running until their lease expires, then the other process
/// claims and completes them; none is lost, none runs to its end twice.
async fn a_killed_worker_process_loses_no_job(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "job_killed_worker").await else { return };
    let sdk = env.sdk().await;
    let tasks = sdk.tasks();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(tasks.enqueue(probe(2_500)).await.unwrap().id);
    }
    let doomed = WorkerProcess::start(&env, "probe", 3, 1_500);
    let doomed_owner = format!("probe-{}-", doomed.pid());
    eventually("the three jobs to run in the doomed process", async || {
        let running = tasks.list("probe", Some(JobState::Running), 10).await.unwrap();
        running.len() == 3
            && running.iter().all(|j| j.lease_owner.as_deref().is_some_and(|o| o.starts_with(&doomed_owner)))
    })
    .await;
    doomed.kill();

    let survivor = WorkerProcess::start(&env, "probe", 3, 1_500);
    eventually("the jobs to be completed by the survivor", async || {
        tasks.list("probe", Some(JobState::Succeeded), 10).await.unwrap().len() == 3
    })
    .await;
    let survivor_pid = survivor.pid();
    survivor.stop();

    let runs = probe_runs(env.folder());
    for id in &ids {
        assert_eq!(runs.get(id), Some(&vec![survivor_pid]), "job {id}");
        let job = tasks.get(*id).await.unwrap();
        assert_eq!((job.state, job.attempts), (JobState::Succeeded, 2), "claimed by the killed process, then again");
    }
    sdk.close().await;
}

both_backends!(two_processes_complete_each_job_once, a_killed_worker_process_loses_no_job);
