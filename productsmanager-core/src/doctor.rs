//! `doctor`: everything an operator would check by hand when something is off — each database and its
//! migrations, Redis, the object store, the job workers, the disk — each as a finding that says what is wrong and
//! how to fix it.

use serde::Serialize;

use crate::Sdk;
use crate::cache::RedisStatus;
use crate::db::{HealthStatus, MigrationState};

/// Below this much free space on the data folder's disk, a finding fails.
const DISK_FAIL_BYTES: u64 = 1 << 30;
/// Below this share of free space, it warns.
const DISK_WARN_SHARE: f64 = 0.10;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
}

/// One thing checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What was checked: `database catalog`, `redis`, `object store`, `queue imports`, `disk`.
    pub check: String,
    pub verdict: Verdict,
    /// What was found.
    pub detail: String,
    /// What to do about it (for a warning or a failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    fn ok(check: impl Into<String>, detail: impl Into<String>) -> Self {
        Finding { check: check.into(), verdict: Verdict::Ok, detail: detail.into(), fix: None }
    }

    fn bad(verdict: Verdict, check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding { check: check.into(), verdict, detail: detail.into(), fix: Some(fix.into()) }
    }
}

/// Everything `doctor` found, in the order checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoctorReport {
    /// The worst verdict.
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
}

impl Sdk {
    /// Checks each database (reachable, migrations applied), Redis, the object store (a probe object written,
    /// read back and deleted), the job queues (waiting jobs without a worker, dead jobs) and the free space of the
    /// data folder's disk.
    ///
    /// ```no_run
    /// # async fn run(sdk: productsmanager_core::Sdk) {
    /// for finding in sdk.doctor().await.findings {
    ///     println!("{}: {:?} {}", finding.check, finding.verdict, finding.detail);
    /// }
    /// # }
    /// ```
    pub async fn doctor(&self) -> DoctorReport {
        let mut findings = Vec::new();
        let health = self.health().await;
        let migrations = self.migration_status().await;
        for db in &health.databases {
            let check = format!("database {}", db.database);
            let variable = format!("PM_DB_{}_URL", db.database.name().to_uppercase());
            if db.status != HealthStatus::Up {
                findings.push(Finding::bad(
                    Verdict::Fail,
                    check,
                    db.error.clone().unwrap_or_else(|| "down".into()),
                    format!("start its server, or correct PM_DATABASE_URL / {variable}"),
                ));
                continue;
            }
            let status = migrations.as_ref().ok().and_then(|all| all.iter().find(|m| m.database == db.database));
            match status {
                Some(m) if !m.unknown.is_empty() => findings.push(Finding::bad(
                    Verdict::Fail,
                    check,
                    format!("applied migrations this binary does not know: {:?}", m.unknown),
                    "run the newer binary that applied them (a downgrade is not supported)",
                )),
                Some(m) if m.state != MigrationState::Current || !m.pending.is_empty() => findings.push(Finding::bad(
                    Verdict::Warn,
                    check,
                    format!("{} migration(s) pending", m.pending.len()),
                    "run `productsmanager migrate` (or start the server with PM_MIGRATE_ON_START=true)",
                )),
                _ => findings.push(Finding::ok(
                    check,
                    format!("{} up, {:.1} ms, migrations applied", db.backend, db.latency_ms),
                )),
            }
        }
        findings.extend(self.connection_budget_findings().await);
        findings.push(self.redis_finding().await);
        findings.push(self.storage_finding().await);
        findings.extend(self.queue_findings().await);
        findings.push(self.disk_finding());
        let verdict = findings.iter().map(|f| f.verdict).max().unwrap_or(Verdict::Ok);
        DoctorReport { verdict, findings }
    }

    /// Per PostgreSQL server: the most connections this process's pools may open there, beside what the server
    /// allows: how many processes like this one (servers, workers) it can carry.
    async fn connection_budget_findings(&self) -> Vec<Finding> {
        use std::collections::BTreeMap;
        let mut servers: BTreeMap<String, (u32, Vec<String>, sqlx::PgPool)> = BTreeMap::new();
        for db in crate::db::Database::ALL {
            let (crate::db::DbPool::Postgres(pool), Some(server)) = (self.pool(db), self.config().postgres_server(db))
            else {
                continue;
            };
            let max = pool.options().get_max_connections();
            let entry = servers.entry(server).or_insert_with(|| (0, Vec::new(), pool.clone()));
            entry.0 += max;
            entry.1.push(format!("{} {max}", db.name()));
        }
        let mut findings = Vec::new();
        for (server, (ours, pools, pool)) in servers {
            let check = format!("connections to {server}");
            let limits = sqlx::query_as::<_, (String, String, i64)>(
                "select current_setting('max_connections'), current_setting('superuser_reserved_connections'), \
                 (select count(*) from pg_stat_activity)",
            )
            .fetch_one(&pool)
            .await;
            let Ok((allowed, reserved, in_use)) = limits else { continue };
            let usable = allowed.parse::<i64>().unwrap_or(100) - reserved.parse::<i64>().unwrap_or(3);
            let detail = format!(
                "this process may open {ours} ({}); the server allows {usable} (max_connections {allowed} less \
                 {reserved} reserved), {in_use} open now: {} processes like this one fit",
                pools.join(", "),
                usable / i64::from(ours.max(1))
            );
            let fix = "lower database.<name>.pool_size / overflow, raise the server's max_connections, or put \
                       PgBouncer in front (README, \"Connection budget\")";
            findings.push(if i64::from(ours) > usable {
                Finding::bad(Verdict::Fail, check, detail, fix)
            } else if i64::from(ours) * 2 > usable {
                Finding::bad(Verdict::Warn, check, format!("{detail}: a second server or worker may be refused"), fix)
            } else {
                Finding::ok(check, detail)
            });
        }
        findings
    }

    async fn redis_finding(&self) -> Finding {
        let health = self.cache().redis_health().await;
        match health.status {
            RedisStatus::NotConfigured => Finding::ok("redis", "not configured: the cache is in-process only"),
            RedisStatus::Up => Finding::ok("redis", format!("up, {:.1} ms", health.latency_ms.unwrap_or_default())),
            RedisStatus::Down => Finding::bad(
                Verdict::Warn,
                "redis",
                format!("down: {}", health.error.unwrap_or_default()),
                "start Redis at PM_REDIS_URL, or unset it (the cache works from memory and the databases meanwhile)",
            ),
        }
    }

    async fn storage_finding(&self) -> Finding {
        let storage = self.storage();
        let key = format!("doctor/{}", uuid::Uuid::now_v7());
        let probe = bytes::Bytes::from_static(b"productsmanager doctor");
        let outcome = async {
            storage.put(&key, probe.clone()).await?;
            let read = storage.get(&key).await?;
            storage.delete(&key).await?;
            Ok::<bool, crate::storage::StorageError>(read == probe)
        }
        .await;
        let fix = match self.config().storage.backend {
            crate::config::StorageBackend::Local => "check that PM_STORAGE_LOCAL_DIR (or the data folder) is writable",
            crate::config::StorageBackend::S3 => {
                "check PM_S3_ENDPOINT, PM_S3_BUCKET (it must exist) and the access key's rights"
            }
        };
        match outcome {
            Ok(true) => Finding::ok("object store", "a probe object written, read back and deleted"),
            Ok(false) => Finding::bad(Verdict::Fail, "object store", "the probe object read back differs", fix),
            Err(e) => Finding::bad(Verdict::Fail, "object store", e.to_string(), fix),
        }
    }

    async fn queue_findings(&self) -> Vec<Finding> {
        let jobs = self.jobs();
        let mut findings = Vec::new();
        for (queue, _) in Self::JOB_QUEUES {
            let check = format!("queue {queue}");
            let stats = match jobs.stats(queue).await {
                Ok(stats) => stats,
                Err(e) => {
                    findings.push(Finding::bad(Verdict::Fail, check, e.to_string(), "see the core database above"));
                    continue;
                }
            };
            let finding = if stats.queued > 0 && stats.workers == 0 {
                Finding::bad(
                    Verdict::Warn,
                    check,
                    format!(
                        "{} job(s) waiting (the oldest for {:.0} s) and no worker",
                        stats.queued, stats.oldest_queued_secs
                    ),
                    format!("run `productsmanager worker --queue {queue}` (or `serve` without --no-workers)"),
                )
            } else if stats.dead > 0 {
                Finding::bad(
                    Verdict::Warn,
                    check,
                    format!("{} dead job(s): they failed every attempt", stats.dead),
                    format!(
                        "read them with `productsmanager jobs list --queue {queue} --state dead`; `jobs retry ID` once \
                         the cause is fixed"
                    ),
                )
            } else {
                Finding::ok(
                    check,
                    format!("{} worker(s), {} queued, {} running", stats.workers, stats.queued, stats.running),
                )
            };
            findings.push(finding);
        }
        findings
    }

    fn disk_finding(&self) -> Finding {
        let folder = &self.config().data_dir;
        let fix = format!("free space on the disk of {} (or move PM_DATA_DIR)", folder.display());
        match free_space(folder) {
            Err(e) => Finding::bad(Verdict::Warn, "disk", format!("{}: {e}", folder.display()), fix),
            Ok((free, total)) => {
                let detail = format!(
                    "{:.1} GiB free of {:.1} GiB at {}",
                    free as f64 / f64::from(1 << 30),
                    total as f64 / f64::from(1 << 30),
                    folder.display()
                );
                if free < DISK_FAIL_BYTES {
                    Finding::bad(Verdict::Fail, "disk", detail, fix)
                } else if total > 0 && (free as f64) < total as f64 * DISK_WARN_SHARE {
                    Finding::bad(Verdict::Warn, "disk", detail, fix)
                } else {
                    Finding::ok("disk", detail)
                }
            }
        }
    }
}

/// Free and total bytes of the file system holding `folder` (its nearest existing ancestor).
fn free_space(folder: &std::path::Path) -> Result<(u64, u64), String> {
    let existing = folder.ancestors().find(|p| p.exists()).ok_or_else(|| "no such folder".to_string())?;
    let stats = nix::sys::statvfs::statvfs(existing).map_err(|e| e.to_string())?;
    let unit = stats.fragment_size() as u64;
    Ok((stats.blocks_available() as u64 * unit, stats.blocks() as u64 * unit))
}
