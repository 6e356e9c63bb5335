//! `code2asin run|jobs|job|items|pause|resume|cancel|review|config`: product codes to Amazon ASINs (what
//! `/api/v1/code2asin` does). `run` looks the codes up in this process with a progress bar; a run killed midway
//! continues from its checkpoint when started again with the same file.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use indicatif::ProgressBar;
use productsmanager_core::code2asin::{
    Code2AsinJob, CodeOutcome, CodeSource, NewAmazonApiConfig, NewCode2AsinJob, ProviderKind, ReviewState,
};
use productsmanager_core::input::parse_id;
use productsmanager_core::{ErrorKind, Sdk};

use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum Code2AsinCommand {
    /// Look up the codes of a file (CSV: the `ean`/`gtin`/`upc`/`isbn`/`code` column, else the first) now.
    Run {
        #[arg(long)]
        file: PathBuf,
        /// Country code (FR, DE, UK, US…) or marketplace id.
        #[arg(long)]
        marketplace: String,
        /// The Amazon API configuration (id or name; default: the active one of the marketplace). Not `--config`,
        /// which names the configuration file of every command.
        #[arg(long, value_name = "ID_OR_NAME")]
        amazon_config: Option<String>,
        /// Matches at or above it are written to the catalog (0.85).
        #[arg(long)]
        threshold: Option<f64>,
        #[arg(long)]
        json: bool,
    },
    /// Jobs, newest first.
    Jobs {
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// One job: state and counts.
    Job {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// What became of each code of a job (`--outcome review|not_found|restricted|invalid|matched`).
    Items {
        id: String,
        #[arg(long)]
        outcome: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Stop a job after its current window.
    Pause {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Continue a paused job (a worker picks it up).
    Resume {
        id: String,
        #[arg(long)]
        json: bool,
    },
    Cancel {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Matches waiting for review; accept or reject them.
    Review {
        #[command(subcommand)]
        command: ReviewCommand,
    },
    /// Amazon API configurations (credentials are sealed under the master key and never shown).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ReviewCommand {
    List {
        #[arg(long)]
        marketplace: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Write the match's ASIN to the catalog product.
    Accept {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Never write it (and take it off the product if it was).
    Reject {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Store SP-API credentials for a marketplace (the secret and refresh token are read from the environment:
    /// `SP_API_CLIENT_SECRET`, `SP_API_REFRESH_TOKEN`, so they stay out of the shell history).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        marketplace: String,
        #[arg(long)]
        client_id: String,
        /// API base URL (default: the marketplace's region).
        #[arg(long)]
        endpoint: Option<String>,
        /// Token endpoint (default: Login with Amazon).
        #[arg(long)]
        token_endpoint: Option<String>,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a configuration (id or name).
    Delete {
        #[arg(value_name = "ID_OR_NAME")]
        id: String,
    },
}

pub(crate) async fn run(sdk: &Sdk, command: Code2AsinCommand) -> Result<(), Failure> {
    let code2asin = sdk.code2asin();
    match command {
        Code2AsinCommand::Run { file, marketplace, amazon_config, threshold, json } => {
            let amazon_config_id = match amazon_config {
                Some(key) => Some(code2asin.find_config(&key).await?.id),
                None => None,
            };
            let name = file.display().to_string();
            let bytes = std::fs::read(&file).map_err(|e| Failure {
                code: crate::exit_code(ErrorKind::NotFound),
                message: format!("cannot read {name}: {e}"),
            })?;
            let input = NewCode2AsinJob {
                source: CodeSource::File { name: name.clone(), content: String::from_utf8_lossy(&bytes).into_owned() },
                marketplace,
                amazon_config_id,
                confidence_threshold: threshold,
                requested_by: None,
            };
            let (job, new) = code2asin.submit(input).await?;
            if !new && !json {
                println!(
                    "continuing job {} at {}/{} codes",
                    job.id,
                    job.counts.processed,
                    job.counts.total.unwrap_or(0)
                );
            }
            let bar = if json { ProgressBar::hidden() } else { ProgressBar::new(job.counts.total.unwrap_or(0) as u64) };
            bar.set_style(output::progress_style(
                "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} codes  {rate}  ETA {eta}  {msg}",
            ));
            bar.set_position(job.counts.processed as u64);
            bar.enable_steady_tick(Duration::from_millis(200));
            let shown = bar.clone();
            let progress = move |counts: &productsmanager_core::code2asin::Code2AsinCounts| {
                shown.set_position(counts.processed as u64);
                shown.set_message(format!("{} matched, {} cached", counts.matched, counts.cached));
            };
            // A run killed midway holds its lease a few more seconds: the core waits for it rather than fail.
            let done = if new {
                code2asin.run_now(job.id, progress).await
            } else {
                bar.set_message("waiting for the interrupted run's lease to expire");
                code2asin.resume_now(job.id, Duration::from_secs(30), progress).await
            };
            bar.finish_and_clear();
            let done = done?;
            if json {
                output::json(&done);
            } else {
                print_jobs(std::slice::from_ref(&done));
                let review = done.counts.review;
                if review > 0 {
                    println!("{review} matches wait for review: productsmanager code2asin review list");
                }
            }
        }
        Code2AsinCommand::Jobs { limit, json } => {
            let page = code2asin.jobs(None, limit, None).await?;
            if json { output::json(&page.items) } else { print_jobs(&page.items) }
        }
        Code2AsinCommand::Job { id, json } => {
            let job = code2asin.job(parse_id("id", &id)?).await?;
            if json { output::json(&job) } else { print_jobs(&[job]) }
        }
        Code2AsinCommand::Items { id, outcome, json } => {
            let outcome =
                outcome.map(|o| serde_json::from_value::<CodeOutcome>(serde_json::json!(o))).transpose().map_err(
                    |e| Failure { code: crate::exit_code(ErrorKind::Invalid), message: format!("--outcome: {e}") },
                )?;
            let items = code2asin.items(parse_id("id", &id)?, outcome, None, 10_000).await?;
            output::list(json, &items, ["#", "code", "outcome", "ASIN", "confidence", "cached", "reason"], |i| {
                [
                    i.position.to_string(),
                    i.code.clone(),
                    i.outcome.as_str().to_string(),
                    output::or_dash(i.asin.as_deref()),
                    i.confidence.map(|c| format!("{c:.2}")).unwrap_or_else(|| "-".into()),
                    if i.cached { "yes" } else { "" }.to_string(),
                    output::or_dash(i.reason.as_deref()),
                ]
            });
        }
        Code2AsinCommand::Pause { id, json } => one_job(json, &code2asin.pause(parse_id("id", &id)?).await?),
        Code2AsinCommand::Resume { id, json } => one_job(json, &code2asin.resume(parse_id("id", &id)?).await?),
        Code2AsinCommand::Cancel { id, json } => one_job(json, &code2asin.cancel(parse_id("id", &id)?).await?),
        Code2AsinCommand::Review { command } => review(sdk, command).await?,
        Code2AsinCommand::Config { command } => config(sdk, command).await?,
    }
    Ok(())
}

fn one_job(json: bool, job: &Code2AsinJob) {
    if json { output::json(job) } else { print_jobs(std::slice::from_ref(job)) }
}

async fn review(sdk: &Sdk, command: ReviewCommand) -> Result<(), Failure> {
    let code2asin = sdk.code2asin();
    match command {
        ReviewCommand::List { marketplace, limit, json } => {
            let page = code2asin.results(Some(ReviewState::Pending), marketplace.as_deref(), limit, None).await?;
            output::list(
                json,
                &page.items,
                ["id", "code", "marketplace", "ASIN", "confidence", "brand", "title"],
                |r| {
                    [
                        r.id.to_string(),
                        r.code.clone(),
                        r.marketplace.clone(),
                        output::or_dash(r.asin.as_deref()),
                        r.confidence.map(|c| format!("{c:.2}")).unwrap_or_else(|| "-".into()),
                        output::or_dash(r.brand.as_deref()),
                        output::or_dash(r.title.as_deref()),
                    ]
                },
            );
        }
        ReviewCommand::Accept { id, json } => {
            let result = code2asin.accept(parse_id("id", &id)?, None).await?;
            if json {
                output::json(&result);
            } else {
                println!("accepted {} for {}", result.asin.unwrap_or_default(), result.code);
            }
        }
        ReviewCommand::Reject { id, json } => {
            let result = code2asin.reject(parse_id("id", &id)?, None).await?;
            if json {
                output::json(&result);
            } else {
                println!("rejected {} for {}", result.asin.unwrap_or_default(), result.code);
            }
        }
    }
    Ok(())
}

async fn config(sdk: &Sdk, command: ConfigCommand) -> Result<(), Failure> {
    let code2asin = sdk.code2asin();
    match command {
        ConfigCommand::Add { name, marketplace, client_id, endpoint, token_endpoint, json } => {
            let secret = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty());
            let input = NewAmazonApiConfig {
                name,
                provider: Some(ProviderKind::SpApi),
                marketplace,
                endpoint,
                token_endpoint,
                client_id,
                client_secret: secret("SP_API_CLIENT_SECRET").unwrap_or_default(),
                refresh_token: secret("SP_API_REFRESH_TOKEN"),
                ..Default::default()
            };
            let stored = code2asin.add_config(input).await?;
            if json { output::json(&stored) } else { println!("stored configuration {} ({})", stored.name, stored.id) }
        }
        ConfigCommand::List { json } => {
            let configs = code2asin.configs().await?;
            output::list(json, &configs, ["id", "name", "provider", "marketplace", "client id", "active"], |c| {
                [
                    c.id.to_string(),
                    c.name.clone(),
                    c.provider.as_str().to_string(),
                    c.marketplace.clone(),
                    c.client_id.clone(),
                    c.is_active.to_string(),
                ]
            });
        }
        ConfigCommand::Delete { id } => {
            let config = code2asin.find_config(&id).await?;
            code2asin.delete_config(config.id).await?;
            println!("deleted Amazon API configuration {} ({})", config.name, config.id);
        }
    }
    Ok(())
}

fn print_jobs(jobs: &[Code2AsinJob]) {
    output::table(
        [
            "id",
            "state",
            "marketplace",
            "codes",
            "done",
            "matched",
            "review",
            "not found",
            "restricted",
            "invalid",
            "cached",
            "calls",
            "429",
        ],
        jobs.iter().map(|j| {
            let c = &j.counts;
            [
                j.id.to_string(),
                j.state.to_string(),
                j.marketplace.clone(),
                c.total.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
                c.processed.to_string(),
                c.matched.to_string(),
                c.review.to_string(),
                c.not_found.to_string(),
                c.restricted.to_string(),
                c.invalid.to_string(),
                c.cached.to_string(),
                c.api_calls.to_string(),
                c.rate_limited.to_string(),
            ]
        }),
    );
}
