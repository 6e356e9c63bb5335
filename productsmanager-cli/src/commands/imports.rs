//! `imports configs|schedules|files|poll`: where supplier files come from, and polling them now.

use clap::{Subcommand, ValueEnum};
use productsmanager_core::Sdk;
use productsmanager_core::imports::sources::poll_now;
use productsmanager_core::imports::{ImportConfig, NewImportConfig, SourceKind};
use productsmanager_core::input::{parse_id, parse_json};

use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum ImportCommand {
    /// Import configurations (per supplier: where its files come from).
    Configs {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Cron schedules (UTC) polling an FTP or e-mail configuration.
    Schedules {
        #[command(subcommand)]
        command: ScheduleCommand,
    },
    /// Files a configuration took, oldest first.
    Files {
        #[arg(value_name = "CONFIG_ID")]
        configuration: String,
        #[arg(long)]
        json: bool,
    },
    /// Poll the sources now (all kinds unless `--kind`); prints the files taken.
    Poll {
        #[arg(long, value_enum)]
        kind: Option<PollKind>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Create one from JSON (`{"name", "supplier_id", "source_kind": "folder"|"ftp"|"ftps"|"email"|"upload",
    /// "source_settings": {…}, "credentials"?: {"username", "password"}, "options"?: {…}}`).
    Create {
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// All configurations, by name.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One configuration (never its credentials).
    Get {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ScheduleCommand {
    /// Poll a configuration's source at each tick of a cron expression.
    Add {
        #[arg(value_name = "CONFIG_ID")]
        configuration: String,
        #[arg(long)]
        cron: String,
        #[arg(long, default_value = "UTC")]
        timezone: String,
    },
    /// The schedules of a configuration.
    List {
        #[arg(value_name = "CONFIG_ID")]
        configuration: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum PollKind {
    Folder,
    Ftp,
    Email,
}

pub(crate) async fn run(sdk: &Sdk, command: ImportCommand) -> Result<(), Failure> {
    let imports = sdk.imports();
    match command {
        ImportCommand::Configs { command: ConfigCommand::Create { json } } => {
            output::json(&imports.create_config(parse_json::<NewImportConfig>(&json)?).await?)
        }
        ImportCommand::Configs { command: ConfigCommand::List { json } } => {
            let configs = imports.configs().await?;
            if json { output::json(&configs) } else { configs_table(&configs) }
        }
        ImportCommand::Configs { command: ConfigCommand::Get { id, json } } => {
            let config = imports.config(parse_id("id", &id)?).await?;
            if json { output::json(&config) } else { configs_table(std::slice::from_ref(&config)) }
        }
        ImportCommand::Schedules { command: ScheduleCommand::Add { configuration, cron, timezone } } => {
            output::json(&imports.create_schedule(parse_id("config", &configuration)?, &cron, &timezone).await?)
        }
        ImportCommand::Schedules { command: ScheduleCommand::List { configuration, json } } => {
            let schedules = imports.schedules(parse_id("config", &configuration)?).await?;
            if json {
                output::json(&schedules);
            } else {
                output::table(
                    ["id", "cron", "timezone", "next run", "last run"],
                    schedules.iter().map(|s| {
                        [
                            s.id.to_string(),
                            s.cron.clone(),
                            s.timezone.clone(),
                            output::or_dash(s.next_run_at.map(|t| t.to_rfc3339()).as_deref()),
                            output::or_dash(s.last_run_at.map(|t| t.to_rfc3339()).as_deref()),
                        ]
                    }),
                );
            }
        }
        ImportCommand::Files { configuration, json } => {
            let files = imports.files(parse_id("config", &configuration)?).await?;
            if json {
                output::json(&files);
            } else {
                output::table(
                    ["id", "name", "bytes", "sha256", "taken"],
                    files.iter().map(|f| {
                        [
                            f.id.to_string(),
                            f.name.clone(),
                            f.size_bytes.to_string(),
                            f.sha256.clone(),
                            f.created_at.to_rfc3339(),
                        ]
                    }),
                );
            }
        }
        ImportCommand::Poll { kind, json } => {
            let kinds: &[SourceKind] = match kind {
                None => &[],
                Some(PollKind::Folder) => &[SourceKind::Folder],
                Some(PollKind::Ftp) => &[SourceKind::Ftp, SourceKind::Ftps],
                Some(PollKind::Email) => &[SourceKind::Email],
            };
            let taken = poll_now(&imports, kinds, std::time::Duration::from_secs(2)).await?;
            if json {
                output::json(&taken);
            } else {
                output::table(
                    ["file", "bytes", "import job"],
                    taken.iter().map(|t| [t.file.name.clone(), t.file.size_bytes.to_string(), t.job.id.to_string()]),
                );
            }
        }
    }
    Ok(())
}

fn configs_table(configs: &[ImportConfig]) {
    output::table(
        ["id", "name", "supplier", "source", "active", "last polled"],
        configs.iter().map(|c| {
            [
                c.id.to_string(),
                c.name.clone(),
                c.supplier_id.to_string(),
                c.source_kind.as_str().to_string(),
                if c.is_active { "yes" } else { "no" }.to_string(),
                output::or_dash(c.last_polled_at.map(|t| t.to_rfc3339()).as_deref()),
            ]
        }),
    );
}
