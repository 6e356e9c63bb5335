//! `productsmanager`: the command line over the SDK. Each command parses its arguments, calls the SDK and prints;
//! the exit code comes from the error's `ErrorKind` (see [`exit_code`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use productsmanager_core::db::{HealthReport, HealthStatus, MigrationState, MigrationStatus};
use productsmanager_core::{Config, ErrorKind, Sdk};

#[derive(Debug, Parser)]
#[command(name = "productsmanager", version, about = "ProductsManager: supplier catalogs in, clean catalog out")]
struct Cli {
    /// TOML configuration file (default: $PM_CONFIG, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print data as JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (embedded SQLite defaults unless configured otherwise).
    Serve,
    /// Apply pending migrations to the seven databases.
    Migrate {
        /// Only show which migrations are applied and which are pending.
        #[arg(long)]
        status: bool,
    },
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Check the seven databases; exits non-zero when one is down.
    Health,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (defaults < file < PM_* variables), passwords redacted.
    Show,
}

/// A failure with the exit code it maps to.
#[derive(Debug)]
struct Failure {
    code: u8,
    message: String,
}

impl From<productsmanager_core::Error> for Failure {
    fn from(error: productsmanager_core::Error) -> Self {
        Failure { code: exit_code(error.kind()), message: error.to_string() }
    }
}

impl From<productsmanager_core::config::ConfigError> for Failure {
    fn from(error: productsmanager_core::config::ConfigError) -> Self {
        productsmanager_core::Error::from(error).into()
    }
}

/// The one mapping from error kind to exit code (0 is success, 2 is a usage error reported by clap).
fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Internal => 1,
        ErrorKind::Invalid => 3,
        ErrorKind::NotFound => 4,
        ErrorKind::Conflict => 5,
        ErrorKind::Unauthorized | ErrorKind::Forbidden => 6,
        ErrorKind::RateLimited => 7,
        ErrorKind::Unavailable => 8,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Config { command: ConfigCommand::Show } => {
            let shown = config.redacted();
            if cli.json {
                print_json(&shown);
            } else {
                print!("{}", shown.to_toml());
            }
            Ok(())
        }
        Command::Serve => {
            productsmanager_http::telemetry::init(&config)?;
            let sdk = Sdk::builder(config).build().await?;
            productsmanager_http::run(sdk)
                .await
                .map_err(|e| Failure { code: exit_code(ErrorKind::Unavailable), message: format!("HTTP server: {e}") })
        }
        Command::Migrate { status } => {
            productsmanager_http::telemetry::init(&config)?;
            let sdk = Sdk::builder(config).migrate(false).build().await?;
            let result = if status { show_status(&sdk, cli.json).await } else { migrate(&sdk, cli.json).await };
            sdk.close().await;
            result
        }
        Command::Health => {
            let sdk = Sdk::builder(config).migrate(false).build().await?;
            let report = sdk.health().await;
            sdk.close().await;
            if cli.json {
                print_json(&report);
            } else {
                print_health(&report);
            }
            if report.is_up() {
                Ok(())
            } else {
                let down: Vec<String> = report.down().iter().map(ToString::to_string).collect();
                Err(Failure {
                    code: exit_code(ErrorKind::Unavailable),
                    message: format!("database(s) down: {}", down.join(", ")),
                })
            }
        }
    }
}

async fn migrate(sdk: &Sdk, json: bool) -> Result<(), Failure> {
    let applied = sdk.migrate().await?;
    if json {
        let rows: Vec<_> = applied.iter().map(|(db, n)| serde_json::json!({ "database": db, "applied": n })).collect();
        print_json(&rows);
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
        print_json(&statuses);
    } else {
        println!("{:<10} {:<8} {:<8} {:<8} pending", "database", "backend", "state", "applied");
        for MigrationStatus { database, backend, state, applied, pending, unknown } in &statuses {
            let state_name = match state {
                MigrationState::Current => "current",
                MigrationState::Pending => "pending",
                MigrationState::TooNew => "too-new",
            };
            let mut waiting: Vec<String> = pending.iter().map(|(v, d)| format!("{v:04} {d}")).collect();
            waiting.extend(unknown.iter().map(|v| format!("{v:04} (unknown to this binary)")));
            println!(
                "{:<10} {:<8} {:<8} {:<8} {}",
                database.name(),
                backend.to_string(),
                state_name,
                applied.len(),
                if waiting.is_empty() { "-".to_string() } else { waiting.join(", ") }
            );
        }
    }
    Ok(())
}

fn print_health(report: &HealthReport) {
    for db in &report.databases {
        let status = match db.status {
            HealthStatus::Up => "up",
            HealthStatus::Down => "DOWN",
        };
        let detail = db.error.as_deref().unwrap_or("");
        println!(
            "{:<10} {:<8} {:<4} {:>8.1} ms  {}",
            db.database.name(),
            db.backend.to_string(),
            status,
            db.latency_ms,
            detail
        );
    }
}

fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: cannot render JSON: {e}"),
    }
}
