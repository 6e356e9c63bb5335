//! `serve`, `migrate`, `config show`, `health`.

use productsmanager_core::db::{HealthReport, HealthStatus, MigrationState};
use productsmanager_core::doctor::Verdict;
use productsmanager_core::{Config, ErrorKind, Sdk};

use crate::output;
use crate::{Failure, exit_code};

pub(crate) fn config_show(config: &Config, json: bool) {
    let shown = config.redacted();
    if json {
        output::json(&shown);
    } else {
        print!("{}", shown.to_toml());
    }
}

/// The HTTP server, and the job workers in the same process unless `workers` is false.
pub(crate) async fn serve(config: Config, workers: bool) -> Result<(), Failure> {
    productsmanager_http::telemetry::init(&config)?;
    // Bound first: on a busy port nothing else happens (no migration, no admin with a password shown for nothing).
    let listener = productsmanager_http::bind(&config)
        .await
        .map_err(|e| Failure { code: exit_code(ErrorKind::Unavailable), message: e.to_string() })?;
    let json_logs = config.log.format == productsmanager_core::config::LogFormat::Json;
    let sdk = Sdk::builder(config).build().await?;
    if let Some(first) = sdk.auth().bootstrap_admin().await? {
        let email = &first.user.email;
        match first.generated_password {
            // Shown once, to whoever started the server: it is stored only as a hash. With JSON logs it is a log
            // line like every other line of the stream.
            Some(password) if json_logs => tracing::warn!(
                admin = %email,
                password = %password,
                "created the first admin; the password is shown once: sign in and change it, or set \
                 PM_ADMIN_PASSWORD before the first start"
            ),
            Some(password) => eprintln!(
                "created the first admin {email} with password {password}\n(shown once: sign in and change it, or \
                 set PM_ADMIN_PASSWORD before the first start)"
            ),
            None if json_logs => tracing::info!(admin = %email, "created the first admin with PM_ADMIN_PASSWORD"),
            None => eprintln!("created the first admin {email} with PM_ADMIN_PASSWORD"),
        }
    }
    let running = match workers {
        true => Some(sdk.start_background(&productsmanager_core::jobs::worker_name(), &[])?),
        false => None,
    };
    let served = productsmanager_http::run_on(listener, sdk.clone()).await;
    if let Some(running) = running {
        running.shutdown(super::jobs::SHUTDOWN_DEADLINE).await;
    }
    sdk.close().await;
    served.map_err(|e| Failure { code: exit_code(ErrorKind::Unavailable), message: format!("HTTP server: {e}") })
}

pub(crate) async fn migrate(config: Config, status: bool, json: bool) -> Result<(), Failure> {
    productsmanager_http::telemetry::init(&config)?;
    let sdk = Sdk::builder(config).migrate(false).build().await?;
    let result = if status { show_status(&sdk, json).await } else { apply(&sdk, json).await };
    sdk.close().await;
    result
}

async fn apply(sdk: &Sdk, json: bool) -> Result<(), Failure> {
    let applied = sdk.migrate().await?;
    if json {
        let rows: Vec<_> = applied.iter().map(|(db, n)| serde_json::json!({ "database": db, "applied": n })).collect();
        output::json(&rows);
    } else {
        for (db, n) in &applied {
            println!("{:<10} {n} migration(s) applied", db.name());
        }
    }
    Ok(())
}

async fn show_status(sdk: &Sdk, json: bool) -> Result<(), Failure> {
    let statuses = sdk.migration_status().await?;
    if json {
        output::json(&statuses);
        return Ok(());
    }
    output::table(
        ["database", "backend", "state", "applied", "pending"],
        statuses.iter().map(|s| {
            let state = match s.state {
                MigrationState::Current => "current",
                MigrationState::Pending => "pending",
                MigrationState::TooNew => "too-new",
            };
            let mut waiting: Vec<String> = s.pending.iter().map(|(v, d)| format!("{v:04} {d}")).collect();
            waiting.extend(s.unknown.iter().map(|v| format!("{v:04} (unknown to this binary)")));
            [
                s.database.name().to_string(),
                s.backend.to_string(),
                state.to_string(),
                s.applied.len().to_string(),
                if waiting.is_empty() { "-".to_string() } else { waiting.join(", ") },
            ]
        }),
    );
    Ok(())
}

pub(crate) async fn health(config: Config, json: bool) -> Result<(), Failure> {
    let sdk = Sdk::builder(config).migrate(false).build().await?;
    let report = sdk.health().await;
    sdk.close().await;
    if json {
        output::json(&report);
    } else {
        print_health(&report);
    }
    if report.is_up() {
        return Ok(());
    }
    let down: Vec<String> = report.down().iter().map(ToString::to_string).collect();
    Err(Failure { code: exit_code(ErrorKind::Unavailable), message: format!("database(s) down: {}", down.join(", ")) })
}

pub(crate) async fn doctor(config: Config, json: bool) -> Result<(), Failure> {
    let sdk = Sdk::builder(config).migrate(false).build().await?;
    let report = sdk.doctor().await;
    sdk.close().await;
    if json {
        output::json(&report);
    } else {
        output::table(
            ["check", "verdict", "found", "fix"],
            report.findings.iter().map(|f| {
                let verdict = match f.verdict {
                    Verdict::Ok => "ok",
                    Verdict::Warn => "WARN",
                    Verdict::Fail => "FAIL",
                };
                [f.check.clone(), verdict.to_string(), f.detail.clone(), f.fix.clone().unwrap_or_default()]
            }),
        );
    }
    if report.verdict == Verdict::Fail {
        let failed: Vec<&str> =
            report.findings.iter().filter(|f| f.verdict == Verdict::Fail).map(|f| f.check.as_str()).collect();
        return Err(Failure {
            code: exit_code(ErrorKind::Unavailable),
            message: format!("failed: {} (the fixes are above)", failed.join(", ")),
        });
    }
    Ok(())
}

fn print_health(report: &HealthReport) {
    output::table(
        ["database", "backend", "status", "latency", "detail"],
        report.databases.iter().map(|db| {
            [
                db.database.name().to_string(),
                db.backend.to_string(),
                match db.status {
                    HealthStatus::Up => "up".to_string(),
                    HealthStatus::Down => "DOWN".to_string(),
                },
                format!("{:.1} ms", db.latency_ms),
                output::or_dash(db.error.as_deref()),
            ]
        }),
    );
}

/// Writes the man pages of `command` and of every subcommand into `out` (made if missing); lists what it wrote.
pub(crate) fn man_pages(command: clap::Command, out: &std::path::Path) -> Result<(), Failure> {
    let failed = |e: std::io::Error| Failure {
        code: exit_code(ErrorKind::Invalid),
        message: format!("cannot write the man pages into {}: {e}", out.display()),
    };
    std::fs::create_dir_all(out).map_err(failed)?;
    clap_mangen::generate_to(command, out).map_err(failed)?;
    let mut pages: Vec<String> = std::fs::read_dir(out)
        .map_err(failed)?
        .filter_map(|entry| entry.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|name| name.starts_with("productsmanager") && name.ends_with(".1"))
        .collect();
    pages.sort();
    println!("{} man pages in {} ({} …)", pages.len(), out.display(), pages.first().map_or("", String::as_str));
    Ok(())
}
