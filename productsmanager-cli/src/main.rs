//! `productsmanager`: the command line over the SDK. Each command parses its arguments, calls the SDK and prints;
//! the exit code comes from the error's `ErrorKind` (see [`exit_code`]).

mod commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use productsmanager_core::{Config, ErrorKind, Sdk};

use commands::categories::CategoryCommand;
use commands::commerce::{OfferCommand, PriceCommand, StockCommand};
use commands::entity::EntityCommand;
use commands::jobs::JobCommand;
use commands::products::ProductCommand;
use commands::relations::{BundleCommand, SeoCommand, VariantCommand};

#[derive(Debug, Parser)]
#[command(name = "productsmanager", version, about = "ProductsManager: supplier catalogs in, clean catalog out")]
struct Cli {
    /// TOML configuration file (default: $PM_CONFIG, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (embedded SQLite defaults unless configured otherwise) and the job workers.
    Serve {
        /// Do not run job workers in this process (run `productsmanager worker` elsewhere).
        #[arg(long)]
        no_workers: bool,
    },
    /// Run only the job workers, until Ctrl-C or SIGTERM.
    Worker {
        /// Serve only this queue (repeatable); every runnable queue when absent.
        #[arg(long = "queue")]
        queues: Vec<String>,
    },
    /// Jobs of every queue (imports, exports, code2asin, catalog, media).
    Jobs {
        #[command(subcommand)]
        command: JobCommand,
    },
    /// Import a supplier file now (CSV, TSV, XLSX, XLS, ODS), with a progress bar; ends with a summary table and
    /// the path of the errors CSV.
    Import(commands::import_file::ImportArgs),
    /// Exports: feed files (`export file --format csv|xlsx|shopify-csv|woocommerce-csv|google-merchant-xml|
    /// google-merchant-tsv --out FILE`), export jobs and their files.
    Export {
        #[command(subcommand)]
        command: commands::exports::ExportCommand,
    },
    /// Imports: source configurations (folder, FTP/FTPS, e-mail) and schedules, mapping templates, jobs, errors.
    Imports {
        #[command(subcommand)]
        command: commands::imports::ImportCommand,
    },
    /// Apply pending migrations to the seven databases.
    Migrate {
        /// Only show which migrations are applied and which are pending.
        #[arg(long)]
        status: bool,
        #[arg(long)]
        json: bool,
    },
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Shell completions on stdout (bash, zsh, fish, elvish, powershell):
    /// `productsmanager completions bash > /etc/bash_completion.d/productsmanager`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Man pages, one per command (`productsmanager.1`, `productsmanager-import.1`…), written into a folder:
    /// `productsmanager man --out /usr/local/share/man/man1`, or read one with `man -l productsmanager.1`.
    Man {
        /// The folder to write them into (made if missing).
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Product codes: `gtin check <code>` says whether an EAN/UPC/ISBN/GTIN is valid, its GTIN-14, its kind and
    /// whether it is from a restricted range (needs no database).
    Gtin {
        #[command(subcommand)]
        command: GtinCommand,
    },
    /// Code2ASIN: look product codes up on Amazon (`code2asin run --file codes.csv --marketplace FR`), review
    /// matches, manage the Amazon API configurations.
    Code2asin {
        #[command(subcommand)]
        command: commands::code2asin::Code2AsinCommand,
    },
    /// Check the seven databases; exits 8 when one is down.
    Health {
        #[arg(long)]
        json: bool,
    },
    /// Check everything an operator would (databases and migrations, Redis, the object store, the job queues, the
    /// disk) and say how to fix what is wrong; exits 8 when a check fails.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Brands.
    Brands {
        #[command(subcommand)]
        command: EntityCommand,
    },
    /// Categories and their trees.
    Categories {
        #[command(subcommand)]
        command: CategoryCommand,
    },
    /// Products.
    Products {
        #[command(subcommand)]
        command: ProductCommand,
    },
    /// Users: create, list, set a password, activate, deactivate, grant and revoke roles.
    User {
        #[command(subcommand)]
        command: commands::users::UserCommand,
    },
    /// Roles and their permissions.
    Role {
        #[command(subcommand)]
        command: commands::users::RoleCommand,
    },
    /// API keys for integrations.
    Apikey {
        #[command(subcommand)]
        command: commands::users::ApiKeyCommand,
    },
    /// Suppliers.
    Suppliers {
        #[command(subcommand)]
        command: EntityCommand,
    },
    /// Supplier offers.
    Offers {
        #[command(subcommand)]
        command: OfferCommand,
    },
    /// Prices.
    Prices {
        #[command(subcommand)]
        command: PriceCommand,
    },
    /// Own stock levels.
    Stock {
        #[command(subcommand)]
        command: StockCommand,
    },
    /// Variants of parent products.
    Variants {
        #[command(subcommand)]
        command: VariantCommand,
    },
    /// Bundles.
    Bundles {
        #[command(subcommand)]
        command: BundleCommand,
    },
    /// SEO metadata per locale.
    Seo {
        #[command(subcommand)]
        command: SeoCommand,
    },
    /// Product images: upload (thumbnails made by a media worker, or at once), list, QR codes, delete.
    Media {
        #[command(subcommand)]
        command: commands::media::MediaCommand,
    },
    /// Application settings (typed, with defaults; changed while the product runs).
    Settings {
        #[command(subcommand)]
        command: commands::settings::SettingsCommand,
    },
    /// Dashboards' figures (catalog overview, incomplete products) and the hourly analytics jobs, now.
    Analytics {
        #[command(subcommand)]
        command: commands::analytics::AnalyticsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum GtinCommand {
    /// `{valid, gtin14, kind, restricted, reason}` of one code; exits 3 when it is not valid.
    Check {
        code: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (defaults < file < PM_* variables), passwords redacted.
    Show {
        #[arg(long)]
        json: bool,
    },
}

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl<E: Into<productsmanager_core::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        let error = error.into();
        Failure { code: exit_code(error.kind()), message: error.to_string() }
    }
}

/// The exit code of an import that completed with errors: rows refused, no more than the setting allows (an import
/// that refused more failed: exit 3).
pub(crate) const ROWS_REFUSED: u8 = 9;

/// The one mapping from error kind to exit code (0 is success, 2 is a usage error reported by clap).
pub(crate) fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Internal => 1,
        ErrorKind::Invalid | ErrorKind::TooLarge | ErrorKind::Unsupported => 3,
        ErrorKind::NotFound => 4,
        ErrorKind::Conflict => 5,
        ErrorKind::Unauthorized | ErrorKind::Forbidden => 6,
        ErrorKind::RateLimited => 7,
        ErrorKind::Unavailable => 8,
    }
}

/// Subcommands that only read, and top-level commands that write no catalog data of their own (servers, checks,
/// schema): neither is recorded in the activity log.
const READ_VERBS: &[&str] =
    &["list", "get", "search", "tree", "files", "jobs", "job", "errors", "show", "items", "download"];
const NOT_WRITES: &[&str] =
    &["serve", "worker", "health", "config", "migrate", "gtin", "analytics", "completions", "man"];

/// `cli products create` for a command that writes; `None` for one that only reads. Only command names are
/// kept, never argument values (which may be file paths or names).
fn written_action(matches: &clap::ArgMatches) -> Option<String> {
    let mut names = Vec::new();
    let mut current = matches;
    while let Some((name, sub)) = current.subcommand() {
        names.push(name);
        current = sub;
    }
    if NOT_WRITES.contains(names.first()?) || READ_VERBS.contains(names.last()?) {
        return None;
    }
    Some(format!("cli {}", names.join(" ")))
}

/// jemalloc rather than the system's allocator: with glibc's malloc an import took about twice as long (its
/// threads allocate a batch's values and the database's thread frees them; benches/README.md, "Imports").
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    // A command whose reader goes away (`products list | head`) dies quietly of SIGPIPE like other command-line
    // tools, instead of panicking on the broken pipe. The servers keep the runtime's handling: a client that
    // hangs up is an error to answer, never the process's end.
    if !matches!(matches.subcommand_name(), Some("serve" | "worker")) {
        sigpipe::reset();
    }
    let action = written_action(&matches);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match run(cli, action).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

async fn run(cli: Cli, action: Option<String>) -> Result<(), Failure> {
    // Neither needs a configuration (a broken one must not stop them).
    match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "productsmanager", &mut std::io::stdout());
            return Ok(());
        }
        Command::Man { out } => return commands::system::man_pages(Cli::command(), out),
        _ => {}
    }
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Completions { .. } | Command::Man { .. } => Ok(()),
        Command::Gtin { command: GtinCommand::Check { code, json } } => commands::codes::check(&code, json),
        Command::Config { command: ConfigCommand::Show { json } } => {
            commands::system::config_show(&config, json);
            Ok(())
        }
        Command::Serve { no_workers } => commands::system::serve(config, !no_workers).await,
        Command::Worker { queues } => commands::jobs::worker(config, queues).await,
        Command::Jobs { command } => {
            with_sdk(config, &action, async |sdk| commands::jobs::run(sdk, command).await).await
        }
        Command::Import(args) => {
            with_sdk(config, &action, async |sdk| commands::import_file::run(sdk, args).await).await
        }
        Command::Export { command } => {
            with_sdk(config, &action, async |sdk| commands::exports::run(sdk, command).await).await
        }
        Command::Imports { command } => {
            with_sdk(config, &action, async |sdk| commands::imports::run(sdk, command).await).await
        }
        Command::Migrate { status, json } => commands::system::migrate(config, status, json).await,
        Command::Health { json } => commands::system::health(config, json).await,
        Command::Doctor { json } => commands::system::doctor(config, json).await,
        Command::Brands { command } => {
            with_sdk(config, &action, async |sdk| commands::brands::run(sdk, command).await).await
        }
        Command::Products { command } => {
            with_sdk(config, &action, async |sdk| commands::products::run(sdk, command).await).await
        }
        Command::Categories { command } => {
            with_sdk(config, &action, async |sdk| commands::categories::run(sdk, command).await).await
        }
        Command::Offers { command } => {
            with_sdk(config, &action, async |sdk| commands::commerce::offers(sdk, command).await).await
        }
        Command::Prices { command } => {
            with_sdk(config, &action, async |sdk| commands::commerce::prices(sdk, command).await).await
        }
        Command::Stock { command } => {
            with_sdk(config, &action, async |sdk| commands::commerce::stock(sdk, command).await).await
        }
        Command::Variants { command } => {
            with_sdk(config, &action, async |sdk| commands::relations::variants(sdk, command).await).await
        }
        Command::Bundles { command } => {
            with_sdk(config, &action, async |sdk| commands::relations::bundles(sdk, command).await).await
        }
        Command::Seo { command } => {
            with_sdk(config, &action, async |sdk| commands::relations::seo(sdk, command).await).await
        }
        Command::Code2asin { command } => {
            with_sdk(config, &action, async |sdk| commands::code2asin::run(sdk, command).await).await
        }
        Command::Media { command } => {
            with_sdk(config, &action, async |sdk| commands::media::run(sdk, command).await).await
        }
        Command::Settings { command } => {
            with_sdk(config, &action, async |sdk| commands::settings::run(sdk, command).await).await
        }
        Command::Analytics { command } => {
            with_sdk(config, &action, async |sdk| commands::analytics::run(sdk, command).await).await
        }
        Command::Suppliers { command } => {
            with_sdk(config, &action, async |sdk| commands::suppliers::run(sdk, command).await).await
        }
        Command::User { command } => {
            with_sdk(config, &action, async |sdk| commands::users::users(sdk, command).await).await
        }
        Command::Role { command } => {
            with_sdk(config, &action, async |sdk| commands::users::roles(sdk, command).await).await
        }
        Command::Apikey { command } => {
            with_sdk(config, &action, async |sdk| commands::users::api_keys(sdk, command).await).await
        }
    }
}

/// Runs a domain command on a started SDK (migrated as configured), closing the pools afterwards.
/// Runs `command` on a fresh SDK; a write (`action`) goes to the activity log with its exit code and the operating
/// system user, written before the SDK closes.
async fn with_sdk(
    config: Config,
    action: &Option<String>,
    command: impl AsyncFnOnce(&Sdk) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let sdk = Sdk::builder(config).build().await?;
    let result = command(&sdk).await;
    if let Some(action) = action {
        let mut activity = productsmanager_core::analytics::UserActivity::new(action.clone());
        activity.status_code = Some(result.as_ref().map_or_else(|f| i32::from(f.code), |()| 0));
        let os_user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).ok();
        activity.details = Some(serde_json::json!({ "os_user": os_user, "pid": std::process::id() }));
        sdk.activity().record(activity);
    }
    sdk.close().await;
    result
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }

    /// A subcommand's positional named like the global `--config` passes `debug_assert` but panics when parsed:
    /// the commands whose positional is a configuration id are parsed here.
    #[test]
    fn positionals_do_not_clash_with_global_options() {
        use clap::Parser;
        let id = "0193a000-0000-7000-8000-000000000000";
        for args in [
            vec!["imports", "files", id],
            vec!["imports", "schedules", "list", id],
            vec!["imports", "schedules", "add", id, "--cron", "0 6 * * *"],
        ] {
            let parsed = super::Cli::try_parse_from(std::iter::once("productsmanager").chain(args.iter().copied()));
            assert!(parsed.is_ok(), "{args:?}");
        }
    }
}
