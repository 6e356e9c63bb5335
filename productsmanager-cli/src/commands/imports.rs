//! `imports configs|schedules|files|templates|jobs|job|errors|poll`: where supplier files come from, how their
//! columns map, what the imports did, and polling the sources now.

use clap::{Subcommand, ValueEnum};
use productsmanager_core::Sdk;
use productsmanager_core::imports::sources::poll_now;
use productsmanager_core::imports::{
    ImportConfig, ImportJob, ImportSchedule, NewImportConfig, NewMappingTemplate, SourceKind,
};
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
        /// The configuration (id or name).
        #[arg(value_name = "CONFIG")]
        configuration: String,
        #[arg(long)]
        json: bool,
    },
    /// Mapping templates: which column feeds which field (JSON, versioned by name).
    Templates {
        #[command(subcommand)]
        command: TemplateCommand,
    },
    /// Import jobs, newest first.
    Jobs {
        /// Only this supplier's (id or code).
        #[arg(long)]
        supplier: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// One import job: state, outcome, counters (also while it runs).
    Job {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// The rows an import refused, as CSV (line, column, value, code, reason).
    Errors { id: String },
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
    /// Create one from JSON (`{"name", "supplier_id", "source_kind": "folder"|"ftp"|"ftps"|"email"|"http"|"upload",
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
    /// One configuration (never its credentials), by id or name.
    Get {
        #[arg(value_name = "CONFIG")]
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ScheduleCommand {
    /// Poll a configuration's source at each tick of a cron expression.
    Add {
        /// The configuration (id or name).
        #[arg(value_name = "CONFIG")]
        configuration: String,
        #[arg(long)]
        cron: String,
        #[arg(long, default_value = "UTC")]
        timezone: String,
        #[arg(long)]
        json: bool,
    },
    /// The schedules of a configuration.
    List {
        /// The configuration (id or name).
        #[arg(value_name = "CONFIG")]
        configuration: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TemplateCommand {
    /// Save a template from a JSON file (`{"columns": [{"column", "to", "transforms"?, "optional"?}], "currency"?,
    /// "unmapped_columns"?}`): version 1 of a new name, the next version of an existing one.
    Save {
        name: String,
        #[arg(long, value_name = "PATH")]
        file: std::path::PathBuf,
        #[arg(long, default_value = "")]
        description: String,
        /// The supplier it was written for (id or code).
        #[arg(long)]
        supplier: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The latest version of every template.
    List {
        #[arg(long)]
        json: bool,
    },
    /// A template by id, name (latest version unless `--version`) or `name@version`: its columns.
    Get {
        #[arg(value_name = "TEMPLATE")]
        name: String,
        #[arg(long)]
        version: Option<i32>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum PollKind {
    Folder,
    Ftp,
    Email,
    Http,
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
            let config = imports.find_config(&id).await?;
            if json { output::json(&config) } else { configs_table(std::slice::from_ref(&config)) }
        }
        ImportCommand::Schedules { command: ScheduleCommand::Add { configuration, cron, timezone, json } } => {
            let config = imports.find_config(&configuration).await?;
            let schedule = imports.create_schedule(config.id, &cron, &timezone).await?;
            output::list(json, std::slice::from_ref(&schedule), SCHEDULE_COLUMNS, schedule_row);
        }
        ImportCommand::Schedules { command: ScheduleCommand::List { configuration, json } } => {
            let config = imports.find_config(&configuration).await?;
            let schedules = imports.schedules(config.id).await?;
            output::list(json, &schedules, SCHEDULE_COLUMNS, schedule_row);
        }
        ImportCommand::Files { configuration, json } => {
            let config = imports.find_config(&configuration).await?;
            let files = imports.files(config.id).await?;
            output::list(json, &files, ["id", "name", "bytes", "sha256", "taken"], |f| {
                [
                    f.id.to_string(),
                    f.name.clone(),
                    output::count(f.size_bytes),
                    f.sha256.clone(),
                    f.created_at.to_rfc3339(),
                ]
            });
        }
        ImportCommand::Templates { command: TemplateCommand::Save { name, file, description, supplier, json } } => {
            let text = std::fs::read_to_string(&file).map_err(|e| Failure {
                code: crate::exit_code(productsmanager_core::ErrorKind::Invalid),
                message: format!("cannot read {}: {e}", file.display()),
            })?;
            let definition = parse_json(&text)?;
            let supplier_id = match supplier {
                Some(key) => Some(sdk.suppliers().find(&key).await?.id),
                None => None,
            };
            let saved =
                imports.save_template(NewMappingTemplate { name, description, definition, supplier_id }).await?;
            if json {
                output::json(&saved);
            } else {
                println!("saved template {} version {} ({})", saved.name, saved.version, saved.id);
            }
        }
        ImportCommand::Templates { command: TemplateCommand::List { json } } => {
            let templates = imports.templates().await?;
            output::list(json, &templates, ["id", "name", "version", "columns", "description"], |t| {
                [
                    t.id.to_string(),
                    t.name.clone(),
                    t.version.to_string(),
                    t.definition.columns.len().to_string(),
                    t.description.clone(),
                ]
            });
        }
        ImportCommand::Templates { command: TemplateCommand::Get { name, version, json } } => {
            let template = match version {
                Some(version) => imports.template_named(&name, Some(version)).await?,
                None => imports.find_template(&name).await?,
            };
            if json {
                output::json(&template);
            } else {
                println!(
                    "{} version {} ({}){}",
                    template.name,
                    template.version,
                    template.id,
                    match template.description.as_str() {
                        "" => String::new(),
                        text => format!(": {text}"),
                    }
                );
                output::table(
                    ["column", "to", "transforms", "optional"],
                    template.definition.columns.iter().map(|c| {
                        [
                            c.column.clone(),
                            output::compact(&c.to),
                            if c.transforms.is_empty() { "-".to_string() } else { output::compact(&c.transforms) },
                            if c.optional { "yes" } else { "no" }.to_string(),
                        ]
                    }),
                );
            }
        }
        ImportCommand::Jobs { supplier, limit, json } => {
            let supplier = match supplier {
                Some(key) => Some(sdk.suppliers().find(&key).await?.id),
                None => None,
            };
            let jobs = imports.jobs(supplier, limit).await?;
            if json { output::json(&jobs) } else { jobs_table(&jobs) }
        }
        ImportCommand::Job { id, json } => {
            let job = imports.job(parse_id("id", &id)?).await?;
            if json {
                output::json(&job);
            } else {
                jobs_table(std::slice::from_ref(&job));
                if let Some(error) = &job.last_error {
                    println!("\nlast error: {error}");
                }
            }
        }
        ImportCommand::Errors { id } => {
            let csv = imports.errors_csv(parse_id("id", &id)?).await?;
            print!("{}", String::from_utf8_lossy(&csv));
        }
        ImportCommand::Poll { kind, json } => {
            let kinds: &[SourceKind] = match kind {
                None => &[],
                Some(PollKind::Folder) => &[SourceKind::Folder],
                Some(PollKind::Ftp) => &[SourceKind::Ftp, SourceKind::Ftps],
                Some(PollKind::Email) => &[SourceKind::Email],
                Some(PollKind::Http) => &[SourceKind::Http],
            };
            let taken = poll_now(&imports, kinds, std::time::Duration::from_secs(2)).await?;
            output::list(json, &taken, ["file", "bytes", "import job"], |t| {
                [t.file.name.clone(), t.file.size_bytes.to_string(), t.job.id.to_string()]
            });
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

const SCHEDULE_COLUMNS: [&str; 5] = ["id", "cron", "timezone", "next run", "last run"];

fn schedule_row(s: &ImportSchedule) -> [String; 5] {
    [
        s.id.to_string(),
        s.cron.clone(),
        s.timezone.clone(),
        output::or_dash(s.next_run_at.map(|t| t.to_rfc3339()).as_deref()),
        output::or_dash(s.last_run_at.map(|t| t.to_rfc3339()).as_deref()),
    ]
}

fn jobs_table(jobs: &[ImportJob]) {
    output::table(
        [
            "id",
            "outcome",
            "rows",
            "offers created",
            "updated",
            "unchanged",
            "invalid",
            "products created",
            "created at",
        ],
        jobs.iter().map(|j| {
            let p = &j.progress;
            [
                j.id.to_string(),
                j.outcome.to_string(),
                output::count_of(p.rows_read, p.rows_total),
                output::count(p.created),
                output::count(p.updated),
                output::count(p.unchanged),
                output::count(p.invalid),
                output::count(p.products_created),
                j.created_at.to_rfc3339(),
            ]
        }),
    );
}
